import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseOptions, helpText } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands/corpus.js';
import { loadTargets } from '../../src/data/contract.js';

const MINI = fileURLToPath(new URL('../fixtures/chat/mini', import.meta.url));
const command = (name: string) => commands.find((c) => c.name === name)!;

/** Runs a corpus command as the CLI would (argv → options → run) and returns what it printed. */
async function run(name: string, argv: string[]): Promise<string> {
  const spec = command(name);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await spec.run(parseOptions(spec, argv));
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

describe('groundlab corpus CLI', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'groundlab-cli-'));
  });
  afterEach(() => vi.restoreAllMocks());

  it('declares build, synth, stats and inspect with described options', () => {
    expect(commands.map((c) => c.name)).toEqual(['corpus build', 'corpus synth', 'corpus stats', 'corpus inspect']);
    for (const c of commands) {
      for (const line of helpText(c).split('\n').filter((l) => l.trim().startsWith('--'))) expect(line.trim().split(/\s{2,}/).length, line).toBeGreaterThan(1);
    }
  });

  it('build: positional inputs, nested cleaning switches, and a summary', async () => {
    const words = join(dir, 'words.txt');
    (await import('node:fs')).writeFileSync(words, 'ball\ncup\nduck\nbook\n');
    const out = join(dir, 'c');
    const text = await run('corpus build', [MINI, '--out', out, '--targets', words, '--clean.drop_repetitions', 'false', '--env.tiers', 'act,gpx', '--quiet']);
    expect(text).toContain(`corpus written to ${out}`);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.options.clean.drop_repetitions).toBe(false);
    expect(manifest.options.env.tiers).toEqual(['act', 'gpx']);
    // Inputs inside the package are recorded relative to it, so the manifest does not depend on the checkout path.
    expect(manifest.options.childes).toEqual(['test/fixtures/chat/mini']);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8'));
    expect(stats.env_lines).toEqual({ act: expect.any(Number), gpx: expect.any(Number) });
    expect(loadTargets(out).words.map((w) => w.word)).toEqual(['ball', 'cup', 'duck', 'book']);
  });

  it('synth, stats and inspect print what the corpus files hold', async () => {
    const out = join(dir, 'w');
    await run('corpus synth', ['--out', out, '--transcripts', '12', '--episodes', '60', '--seed', '5', '--quiet']);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8'));
    const targets = loadTargets(out);
    const table = await run('corpus stats', [out]);
    expect(table).toContain(`${stats.transcripts} transcripts`);
    expect(table).toContain(stats.utterances.toLocaleString('en-US'));
    expect(table).toMatch(/^train\s+\d+/m);
    expect(table).toContain(targets.words[0]!.word);
    const word = targets.words[0]!;
    const shown = await run('corpus inspect', [out, '--word', word.word, '--n', '2']);
    expect(shown).toContain(`ENV ${word.env_count.toLocaleString('en-US')}`);
    expect(shown).toContain(`turns with both ${word.turns_both.toLocaleString('en-US')}`);
    expect(shown).toMatch(new RegExp(`\\*${word.word}\\*`)); // the swapped ENV word is marked
    expect(shown).toContain(`→ ${word.word}`);
    await expect(run('corpus inspect', [out, '--word', 'zzzz'])).rejects.toThrow(/not a target word/);
  });
});
