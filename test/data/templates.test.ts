import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { envWords } from '../../src/data/chat/env-tier.js';
import { TemplatesSchema } from '../../src/data/items.js';
import { EnvOptionsSchema } from '../../src/data/options.js';
import { PAPER_TARGETS } from '../../src/data/targets.js';
import { templatesFor } from '../../scripts/templates/ours-templates.js';

const PATH = fileURLToPath(new URL('../../assets/templates/ours.json', import.meta.url));
const templates = TemplatesSchema.parse(JSON.parse(readFileSync(PATH, 'utf8')));
const words = (s: string): string[] => envWords(s, EnvOptionsSchema.parse({}));

describe('assets/templates/ours.json', () => {
  it('covers the paper\'s 100 words, 10 templates each, in the paper\'s order', () => {
    expect(Object.keys(templates)).toEqual([...PAPER_TARGETS]);
    for (const w of PAPER_TARGETS) expect(templates[w], w).toHaveLength(10);
  });

  it('every template names its word in both parts and no other target word', () => {
    const targets = new Set(PAPER_TARGETS);
    for (const [w, list] of Object.entries(templates)) {
      for (const t of list) {
        expect(words(t.env), t.env).toContain(w);
        expect(words(t.lan), t.lan).toContain(w);
        const others = [...words(t.env), ...words(t.lan)].filter((x) => x !== w && targets.has(x));
        expect(others, `${t.env} / ${t.lan}`).toEqual([]);
      }
    }
  });

  it('templates of a word are all different, in the paper\'s style (an actor acting, then speech)', () => {
    for (const [w, list] of Object.entries(templates)) {
      expect(new Set(list.map((t) => t.env)).size, w).toBe(10);
      expect(new Set(list.map((t) => t.lan)).size, w).toBe(10);
      for (const t of list) expect(t.env).toMatch(/^The (child|mother|father) \w+/);
    }
  });

  it('is what the committed generator writes', () => {
    for (const w of PAPER_TARGETS) expect(templatesFor(w)).toEqual(templates[w]);
  });
});
