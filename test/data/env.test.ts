import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/data/chat/diagnostics.js';
import { envWords, splitScopes } from '../../src/data/chat/env-tier.js';
import { CleaningOptionsSchema, EnvOptionsSchema, type EnvOptions } from '../../src/data/options.js';
import { readTranscript, transcriptTokens } from '../../src/data/transcript.js';

const ENV = EnvOptionsSchema.parse({});
const CLEAN = CleaningOptionsSchema.parse({});
const read = (name: string, env: EnvOptions = ENV) => {
  const path = fileURLToPath(new URL(`../fixtures/chat/${name}`, import.meta.url));
  return readTranscript({ path: name, bytes: readFileSync(path), sha256: '' }, CLEAN, env, new DiagnosticSink(name));
};

describe('scope prefixes on ENV tiers', () => {
  it.each([
    ['<bef> MOT holds the cup', 'bef', 'before'],
    ['<aft> MOT puts the cup down', 'aft', 'after'],
    ['<dur> the duck squeaks', 'dur', 'before'],
    ['<1w> points to the duck', '1w', 'before'],
    ['<1w-2w> looks at the duck', '1w-2w', 'before'],
    ['<$=1> CHI grabs the duck', '$=1', 'before'],
    ['<2-4> CHI waves', '2-4', 'before'],
    ['< .1-1> MOT points to the page', '.1-1', 'before'],
    ['<$= 1> CHI nods', '$=1', 'before'],
  ])('%s → scope %s, %s the utterance', (text, scope, position) => {
    const segs = splitScopes(text);
    expect(segs).toHaveLength(1);
    expect(segs[0]).toMatchObject({ scope, position });
    expect(segs[0]!.text).not.toContain('<');
  });

  it('cuts a line at prefixes found mid-line; unscoped text precedes the utterance', () => {
    expect(splitScopes('CHI grabs ball . <aft> CHI picks up ball')).toEqual([
      { scope: null, position: 'before', text: 'CHI grabs ball .' },
      { scope: 'aft', position: 'after', text: 'CHI picks up ball' },
    ]);
    expect(splitScopes('<aft> x', false)[0]!.position).toBe('before');
  });
});

describe('ENV words', () => {
  it('lowercases, drops punctuation and $codes, joins + compounds (or splits them)', () => {
    expect(envWords('CHI picks up the jack+in+the+box , then smiles .', ENV)).toEqual(['chi', 'picks', 'up', 'the', 'jack_in_the_box', 'then', 'smiles']);
    expect(envWords('CHI picks up the jack+in+the+box', { ...ENV, compounds: 'split' })).toEqual(['chi', 'picks', 'up', 'the', 'jack', 'in', 'the', 'box']);
    expect(envWords('$DIS', ENV)).toEqual([]);
    expect(envWords('looks at Mother\'s "cup";ball', ENV)).toEqual(['looks', 'at', "mother's", 'cup', 'ball']);
  });
});

describe('turns and the token stream', () => {
  it('places <bef>/unscoped/<dur>/span events before the utterance and <aft> events after it', () => {
    const t = read('scopes.cha');
    const toks = transcriptTokens(t);
    expect(toks.slice(0, 13)).toEqual([
      '<doc>',
      '<MOT>', 'mot<ENV>', 'holds<ENV>', 'the<ENV>', 'cup<ENV>',
      '<MOT>', 'there<LAN>', 'it<LAN>', 'is<LAN>',
      '<MOT>', 'mot<ENV>', 'puts<ENV>',
    ]);
    const yes = t.turns[3]!;
    expect(yes.env.map((l) => [l.position, l.words.join(' ')])).toEqual([
      ['before', 'mot nods'],
      ['after', 'mot picks up the jack_in_the_box'],
    ]);
    // Two ENV tiers on one turn keep file order, each with its own speaker token.
    expect(t.turns[1]!.env.map((l) => [l.tier, l.scope])).toEqual([
      ['act', '1w'],
      ['gpx', '1w-2w'],
    ]);
  });

  it('an action-only turn contributes its ENV tokens and no LAN words', () => {
    const t = read('scopes.cha');
    const last = t.turns[4]!;
    expect(last).toMatchObject({ actionOnly: true, lan: [] });
    const toks = transcriptTokens(t);
    expect(toks.slice(-8)).toEqual(['<CHI>', 'chi<ENV>', 'drops<ENV>', 'the<ENV>', 'duck<ENV>', 'on<ENV>', 'the<ENV>', 'floor<ENV>']);
    expect(t.counts).toMatchObject({ utterances: 5, action_only: 1, skipped: 0, env_lines: { act: 5, sit: 1, gpx: 2 } });
  });

  it('reads only the configured ENV tiers', () => {
    const t = read('scopes.cha', { ...ENV, tiers: ['sit'] });
    expect(t.turns.flatMap((x) => x.env.map((l) => l.tier))).toEqual(['sit']);
    expect(t.counts.env_lines).toEqual({ sit: 1 });
  });
});
