import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/data/chat/diagnostics.js';
import { cleanUtterance } from '../../src/data/chat/main-tier.js';
import { CleaningOptionsSchema, EnvOptionsSchema, type CleaningOptions } from '../../src/data/options.js';
import { readTranscript } from '../../src/data/transcript.js';

const DEFAULTS = CleaningOptionsSchema.parse({});
const clean = (text: string, over: Partial<CleaningOptions> = {}): string[] => {
  const sink = new DiagnosticSink('t');
  return cleanUtterance(text, 1, { ...DEFAULTS, ...over }, sink).words;
};

describe('main-tier cleaning rules (SPEC §2), each with its switch', () => {
  it('xxx / yyy / www become <unk>, or are dropped', () => {
    expect(clean('xxx and yyy said www .')).toEqual(['<unk>', 'and', '<unk>', 'said', '<unk>']);
    expect(clean('xxx and yyy said www .', { unintelligible: 'drop' })).toEqual(['and', 'said']);
  });

  it('@b @c @f @wp forms become <unk>; other @ markers are stripped', () => {
    expect(clean('doggy@c gaga@b mama@f ball@wp tika@u hao3@s:zho .')).toEqual(['<unk>', '<unk>', '<unk>', '<unk>', 'tika', 'hao3']);
    expect(clean('doggy@c gaga@b .', { unk_forms: ['b'] })).toEqual(['doggy', '<unk>']);
  });

  it('&+fragments and &~nonwords are removed, &-fillers kept, &=events dropped', () => {
    expect(clean('&+fr friend &~gaga hello .')).toEqual(['friend', 'hello']);
    expect(clean('&+fr friend &~gaga hello .', { drop_fragments: false, drop_nonwords: false })).toEqual(['fr', 'friend', 'gaga', 'hello']);
    expect(clean('&-uh you want &=laughs it .')).toEqual(['uh', 'you', 'want', 'it']);
    expect(clean('&-uh you want &=laughs it .', { keep_fillers: false })).toEqual(['you', 'want', 'it']);
    expect(clean('&-uh you want &=laughs it .', { drop_events: false })).toEqual(['uh', 'you', 'want', 'laughs', 'it']);
    expect(clean('he said &*MOT:yeah and left .')).toEqual(['he', 'said', 'and', 'left']);
  });

  it('[: target] keeps the target (or the spoken form when off)', () => {
    expect(clean('went [: go] home .')).toEqual(['go', 'home']);
    expect(clean('went [: go] home .', { use_replacements: false })).toEqual(['went', 'home']);
    expect(clean('<a wabbit> [: the rabbit] ran .')).toEqual(['the', 'rabbit', 'ran']);
  });

  it('[/] repetitions are removed, on a word or an <angle group>', () => {
    expect(clean('the [/] the <big dog> [/] big dog .')).toEqual(['the', 'big', 'dog']);
    expect(clean('the [/] the <big dog> [/] big dog .', { drop_repetitions: false })).toEqual(['the', 'the', 'big', 'dog', 'big', 'dog']);
  });

  it('[//], [///] and [/-] retracings keep only the corrected material', () => {
    expect(clean('the dog [//] the cat ran .')).toEqual(['the', 'the', 'cat', 'ran']);
    expect(clean('<the dog> [//] the cat ran .')).toEqual(['the', 'cat', 'ran']);
    expect(clean('<I want> [///] give me that [/-] this .')).toEqual(['give', 'me', 'this']);
    expect(clean('<I want> [///] give me that [/-] this .', { drop_retracings: false })).toEqual(['i', 'want', 'give', 'me', 'that', 'this']);
    // A retraced replacement goes with its word (chatter's retrace fixture).
    expect(clean('tika@u [: kitty] [* p:n] [//] kitty is nice .')).toEqual(['kitty', 'is', 'nice']);
  });

  it('(be)cause becomes because (or cause)', () => {
    expect(clean('it is (be)cause I do(n\'t) know .')).toEqual(['it', 'is', 'because', 'i', "don't", 'know']);
    expect(clean('it is (be)cause I do(n\'t) know .', { restore_shortenings: false })).toEqual(['it', 'is', 'cause', 'i', 'do', 'know']);
  });

  it('ice+cream and ice_cream become ice_cream (or split)', () => {
    expect(clean('ice+cream and ice_cream .')).toEqual(['ice_cream', 'and', 'ice_cream']);
    expect(clean('ice+cream and ice_cream .', { join_compounds: false })).toEqual(['ice', 'cream', 'and', 'ice', 'cream']);
  });

  it('omitted words (0word) are not said', () => {
    expect(clean('she 0is going .')).toEqual(['she', 'going']);
    expect(clean('she 0is going .', { drop_omitted: false })).toEqual(['she', 'is', 'going']);
  });

  it('removes postcodes, pauses, overlap and stress marks, lengthening, tag marks and punctuation; lowercases', () => {
    expect(clean('it is [!] o:h so <nice> [>] (.) right ? [+ IMP]')).toEqual(['it', 'is', 'oh', 'so', 'nice', 'right']);
    expect(clean('She said 0is Hello , „ okay ?')).toEqual(['she', 'said', 'hello', 'okay']);
    expect(clean('She said Hello .', { lowercase: false })).toEqual(['She', 'said', 'Hello']);
    expect(clean('⌈2 I ⌉2 want (2.5) that +...')).toEqual(['i', 'want', 'that']);
    expect(clean('+< +" give me that .')).toEqual(['give', 'me', 'that']);
  });

  it('keeps contractions as one word', () => {
    expect(clean("what's that ? I don't know .")).toEqual(["what's", 'that', 'i', "don't", 'know']);
  });

  it('marks action-only turns and reports unreadable utterances', () => {
    const sink = new DiagnosticSink('t');
    expect(cleanUtterance('0 [= nods] .', 1, DEFAULTS, sink)).toEqual({ words: [], actionOnly: true, malformed: false });
    expect(cleanUtterance('good [* no closing .', 2, DEFAULTS, sink).malformed).toBe(true);
    expect(cleanUtterance('<unbalanced group .', 3, DEFAULTS, sink)).toMatchObject({ words: ['unbalanced', 'group'], malformed: false });
    expect(sink.items.map((d) => [d.code, d.line])).toEqual([
      ['unclosed-annotation', 2],
      ['unbalanced-group', 3],
    ]);
  });

  it('cleans the hand-written fixture line by line', () => {
    const path = fileURLToPath(new URL('../fixtures/chat/cleaning.cha', import.meta.url));
    const bytes = readFileSync(path);
    const t = readTranscript({ path: 'cleaning.cha', bytes, sha256: '' }, DEFAULTS, EnvOptionsSchema.parse({}), new DiagnosticSink('cleaning.cha'));
    expect(t.turns.map((x) => x.lan.join(' '))).toEqual([
      '<unk> and <unk> said <unk>',
      '<unk> <unk> <unk> <unk> tika',
      'friend hello',
      'uh you want it',
      'go home',
      'the big dog',
      'the the cat ran',
      'give me this',
      'it is because i don\'t know',
      'ice_cream and ice_cream',
      'it is oh so nice right',
      'she said hello okay',
    ]);
  });
});
