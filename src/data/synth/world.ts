/**
 * The synthetic grounded world (the embedded default corpus): a seeded generator of CHAT
 * transcripts in which caregivers (MOT, FAT) and a child (CHI) act on objects (%act) and talk.
 *
 * The link between an object acted on and its word in speech is set per word by a grounding level:
 *   strong  the word is said after most events on the object, mostly in the same turn;
 *   medium / weak  less often, and more often one or two turns later;
 *   none    the word is never said while the object is in the scene.
 * Words are also said with the object absent ("unlinked" mentions, placed where the object has not
 * been seen for a while), more for weakly linked words, so every word's LAN count is similar and
 * frequency does not give the level away. Scenes hold distractor objects; some events follow the
 * utterance (<aft>), some precede it explicitly (<bef>). Filler talk and background %gpx lines fill
 * the rest. The generator writes the transcripts (OUT/chat/*.cha), the ground truth (truth.json,
 * with what it actually generated) and templates in the world's own style (templates.json), then
 * builds the corpus in OUT through the same CHAT reader as real data.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { ensureDir, writeFileAtomic, writeJson } from '../../util/files.js';
import { Progress } from '../../util/progress.js';
import { deriveSeed, Rng } from '../../util/rng.js';
import { buildCorpus, type BuildResult } from '../build.js';
import {
  ACTIONS,
  BACKGROUND,
  CAREGIVER_FILLERS,
  CAREGIVER_MENTIONS,
  CHILD_FILLERS,
  CHILD_MENTIONS,
  DISTRACTOR_ACTIONS,
  DISTRACTOR_SITUATIONS,
  OBJECTS,
  UNLINKED_MENTIONS,
  type WorldObject,
} from './lexicon.js';

export const GROUNDING_LEVELS = ['strong', 'medium', 'weak', 'none'] as const;
export type GroundingLevel = (typeof GROUNDING_LEVELS)[number];

export interface LevelParams {
  /** P(the word is said | an event on the object). */
  p_mention: number;
  /** P(lag = 0, 1, 2 turns | mentioned): 0 is the event's own turn. */
  p_lag: [number, number, number];
  /** P(<aft> | same-turn mention): the event follows the utterance in its turn. */
  p_aft: number;
  /** Relative rate of mentions with the object absent (chosen so every level has a similar LAN count). */
  unlinked_weight: number;
}

export const LEVEL_PARAMS: Record<GroundingLevel, LevelParams> = {
  strong: { p_mention: 0.9, p_lag: [0.85, 0.1, 0.05], p_aft: 0.05, unlinked_weight: 0.3 },
  medium: { p_mention: 0.6, p_lag: [0.6, 0.25, 0.15], p_aft: 0.15, unlinked_weight: 0.6 },
  weak: { p_mention: 0.3, p_lag: [0.4, 0.35, 0.25], p_aft: 0.2, unlinked_weight: 0.9 },
  none: { p_mention: 0, p_lag: [0, 0, 0], p_aft: 0, unlinked_weight: 1.2 },
};

export const SynthOptionsSchema = z.object({
  out: z.string().describe('output directory: the corpus is built here, CHAT transcripts go to OUT/chat'),
  seed: z.number().int().default(1).describe('seed of the world (objects, levels, every event and sentence) and of the corpus split'),
  transcripts: z.number().int().min(3).default(120).describe('number of transcripts (sessions)'),
  episodes: z.number().int().min(1).default(300).describe('episodes per transcript (an object brought into play, then talk)'),
  objects: z.number().int().min(4).max(OBJECTS.length).default(40).describe(`object words in the world (at most ${OBJECTS.length})`),
  scene_size: z.number().int().min(2).default(12).describe('objects present in one session (focal objects and distractors come from them)'),
  distractor_rate: z.number().min(0).max(1).default(0.3).describe('probability that an event has a distractor object in its turn'),
  recent_turns: z.number().int().min(0).default(8).describe('an unlinked mention never names an object seen in the last N turns'),
  min_count: z.number().int().min(0).default(20).describe('target words: object words with at least this many ENV and LAN tokens in the training split'),
  items_per_word: z.number().int().min(0).default(10).describe('corpus-derived items per target word'),
  mismatches: z.number().int().min(1).default(10).describe('mismatch words per item'),
  quiet: z.boolean().default(false).describe('no progress bar'),
});
export type SynthOptions = z.infer<typeof SynthOptionsSchema>;
export type SynthOptionsInput = z.input<typeof SynthOptionsSchema>;

interface WordTruth {
  word: string;
  kind: string;
  category: string;
  level: GroundingLevel;
  params: LevelParams;
  /** What the generator actually wrote, over all transcripts. */
  counts: { events: number; distractor: number; mentions_same_turn: number; mentions_same_turn_aft: number; mentions_delayed: number; mentions_unlinked: number };
}

export interface SynthResult extends BuildResult {
  truth: string;
  chatDir: string;
}

type Speaker = 'MOT' | 'FAT' | 'CHI';

interface TurnDraft {
  speaker: Speaker;
  /** Main-tier text without terminator ("0" for action-only). */
  text: string;
  terminator: '.' | '?' | '!';
  deps: { tier: 'act' | 'sit' | 'gpx'; text: string }[];
  /** Objects named on this turn's ENV lines (to keep unlinked mentions away from them). */
  present: string[];
}

const fill = (tpl: string, vars: Record<string, string>): string => tpl.replace(/\{(\w)\}/g, (_m, k: string) => vars[k] ?? '');
const QUESTION = /^(what|where|who|do|did|does|is|are|can)\b/;
const terminatorFor = (text: string): '.' | '?' => (QUESTION.test(text) ? '?' : '.');

/** One session: a cast, a scene, and a sequence of episodes. */
class SessionWriter {
  readonly turns: TurnDraft[] = [];
  private readonly lastSeen = new Map<string, number>();
  private readonly pendingDelayed: { at: number; word: string; speaker: Speaker }[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly caregivers: Speaker[],
    private readonly scene: WorldObject[],
    private readonly truth: Map<string, WordTruth>,
    private readonly opts: SynthOptions,
    private readonly unlinkedPool: { word: string; weight: number }[],
  ) {}

  private caregiver(): Speaker {
    return this.rng.pick(this.caregivers);
  }
  private other(s: Speaker): Speaker {
    return s === 'CHI' ? this.caregiver() : 'CHI';
  }

  private push(turn: TurnDraft): void {
    for (const w of turn.present) this.lastSeen.set(w, this.turns.length);
    this.turns.push(turn);
  }

  private mentionText(obj: WorldObject, speaker: Speaker): string {
    const frames = speaker === 'CHI' ? CHILD_MENTIONS : [...CAREGIVER_MENTIONS.any, ...CAREGIVER_MENTIONS[obj.kind]];
    return fill(this.rng.pick(frames), { o: obj.word });
  }

  private fillerTurn(): TurnDraft {
    const speaker: Speaker = this.rng.float() < 0.35 ? 'CHI' : this.caregiver();
    const text = this.rng.pick(speaker === 'CHI' ? CHILD_FILLERS : CAREGIVER_FILLERS);
    const deps: TurnDraft['deps'] = this.rng.float() < 0.2 ? [{ tier: 'gpx', text: fill(this.rng.pick(BACKGROUND), { a: speaker, b: this.other(speaker) }) }] : [];
    return { speaker, text, terminator: terminatorFor(text), deps, present: [] };
  }

  /** A mention with the object absent, of a word not seen in the last `recent_turns` turns. */
  private unlinkedTurn(): TurnDraft | null {
    const now = this.turns.length;
    const ok = this.unlinkedPool.filter((c) => now - (this.lastSeen.get(c.word) ?? -Infinity) > this.opts.recent_turns);
    const total = ok.reduce((a, c) => a + c.weight, 0);
    if (total <= 0) return null;
    let r = this.rng.float() * total;
    const choice = ok.find((c) => (r -= c.weight) < 0) ?? ok[ok.length - 1]!;
    this.truth.get(choice.word)!.counts.mentions_unlinked++;
    const text = fill(this.rng.pick(UNLINKED_MENTIONS), { o: choice.word });
    return { speaker: this.caregiver(), text, terminator: terminatorFor(text), deps: [], present: [] };
  }

  private eventLine(obj: WorldObject, actor: Speaker, distractor: WorldObject | null): { deps: TurnDraft['deps']; present: string[] } {
    const vars = { a: actor, b: this.other(actor), o: obj.word, d: distractor?.word ?? '' };
    if (distractor && this.rng.float() < 0.5) {
      return { deps: [{ tier: 'act', text: fill(this.rng.pick(DISTRACTOR_ACTIONS), vars) }], present: [obj.word, distractor.word] };
    }
    const deps: TurnDraft['deps'] = [{ tier: 'act', text: fill(this.rng.pick([...ACTIONS.any, ...ACTIONS[obj.kind]]), vars) }];
    if (distractor) deps.push({ tier: 'sit', text: fill(this.rng.pick(DISTRACTOR_SITUATIONS), vars) });
    return { deps, present: distractor ? [obj.word, distractor.word] : [obj.word] };
  }

  /** One episode: an event on a focal object, maybe its mention (now or a turn or two later), talk. */
  episode(): void {
    const obj = this.rng.pick(this.scene);
    const t = this.truth.get(obj.word)!;
    t.counts.events++;
    const actor: Speaker = this.rng.float() < 0.45 ? 'CHI' : this.caregiver();
    const distractor = this.scene.length > 1 && this.rng.float() < this.opts.distractor_rate ? this.rng.pick(this.scene.filter((o) => o !== obj)) : null;
    if (distractor) this.truth.get(distractor.word)!.counts.distractor++;
    const { deps, present } = this.eventLine(obj, actor, distractor);

    const mentioned = this.rng.float() < t.params.p_mention;
    let lag = -1;
    if (mentioned) {
      const r = this.rng.float();
      lag = r < t.params.p_lag[0] ? 0 : r < t.params.p_lag[0] + t.params.p_lag[1] ? 1 : 2;
    }
    const speaker: Speaker = this.rng.float() < 0.2 ? 'CHI' : actor === 'CHI' ? this.caregiver() : actor;
    if (lag === 0) {
      const aft = this.rng.float() < t.params.p_aft;
      if (aft) t.counts.mentions_same_turn_aft++;
      else t.counts.mentions_same_turn++;
      const scope = aft ? '<aft> ' : this.rng.float() < 0.3 ? '<bef> ' : '';
      deps[0]!.text = scope + deps[0]!.text;
      const text = this.mentionText(obj, speaker);
      this.push({ speaker, text, terminator: terminatorFor(text), deps, present });
    } else {
      // The event turn carries no mention: an action-only turn or filler talk.
      const carrier: TurnDraft = this.rng.float() < 0.5 ? { speaker: actor, text: '0', terminator: '.', deps: [], present: [] } : this.fillerTurn();
      carrier.deps = [...deps, ...carrier.deps];
      carrier.present = present;
      this.push(carrier);
      if (lag > 0) {
        t.counts.mentions_delayed++;
        this.pendingDelayed.push({ at: this.turns.length - 1 + lag, word: obj.word, speaker });
      }
    }
    // Talk until every delayed mention of this episode has been said.
    const fillers = 1 + this.rng.int(3);
    for (let k = 0; k < fillers || this.pendingDelayed.length > 0; k++) this.nextTalkTurn();
    this.unlinkedSlots();
  }

  private nextTalkTurn(): void {
    const due = this.pendingDelayed.findIndex((p) => p.at <= this.turns.length);
    if (due >= 0) {
      const p = this.pendingDelayed.splice(due, 1)[0]!;
      const obj = this.scene.find((o) => o.word === p.word)!;
      const text = this.mentionText(obj, p.speaker);
      this.push({ speaker: p.speaker, text, terminator: terminatorFor(text), deps: [], present: [] });
      return;
    }
    this.push(this.fillerTurn());
  }

  /** Unlinked mentions: on average Σ weights / objects per episode, so each level's LAN count is similar. */
  private unlinkedSlots(): void {
    const rate = this.unlinkedPool.reduce((a, c) => a + c.weight, 0) / this.unlinkedPool.length;
    let n = Math.floor(rate) + (this.rng.float() < rate - Math.floor(rate) ? 1 : 0);
    while (n-- > 0) {
      const turn = this.unlinkedTurn();
      if (turn) this.push(turn);
    }
  }
}

function chatText(id: number, caregivers: Speaker[], scene: WorldObject[], turns: TurnDraft[]): string {
  const names: Record<Speaker, string> = { CHI: 'Target_Child', MOT: 'Mother', FAT: 'Father' };
  const cast: Speaker[] = ['CHI', ...caregivers];
  // Alternate the two @Participants separators CHAT files use in the wild (", " and " , ").
  const sep = id % 2 === 0 ? ', ' : ' , ';
  const lines = [
    '@UTF8',
    '@Begin',
    '@Languages:\teng',
    `@Participants:\t${cast.map((s) => `${s} ${names[s]}`).join(sep)}`,
    ...cast.map((s) => `@ID:\teng|synth|${s}|${s === 'CHI' ? '2;00.00' : ''}||||${names[s]}|||`),
    `@Situation:\tfree play with ${scene.map((o) => o.word).join(', ')}`,
  ];
  for (const t of turns) {
    lines.push(`*${t.speaker}:\t${t.text} ${t.terminator}`);
    for (const d of t.deps) lines.push(`%${d.tier}:\t${d.text}`);
  }
  lines.push('@End');
  return lines.join('\n') + '\n';
}

/** Templates in the world's own style: "MOT rolls the ball" / "look at the ball", 10 per object. */
function worldTemplates(objects: WorldObject[], seed: number): Record<string, { env: string; lan: string }[]> {
  const out: Record<string, { env: string; lan: string }[]> = {};
  for (const obj of objects) {
    const rng = new Rng(deriveSeed(seed, 'templates', obj.word));
    const actions = rng.shuffle([...ACTIONS.any, ...ACTIONS[obj.kind]]);
    const mentions = rng.shuffle([...CAREGIVER_MENTIONS.any, ...CAREGIVER_MENTIONS[obj.kind]]);
    out[obj.word] = Array.from({ length: 10 }, (_, k) => ({
      env: fill(actions[k % actions.length]!, { a: 'MOT', b: 'CHI', o: obj.word }),
      lan: fill(mentions[k % mentions.length]!, { o: obj.word }),
    }));
  }
  return out;
}

/** Writes the synthetic world's transcripts and ground truth, then builds its corpus in `out`. */
export async function synthesizeWorld(input: SynthOptionsInput): Promise<SynthResult> {
  const opts = SynthOptionsSchema.parse(input);
  const rng = new Rng(deriveSeed(opts.seed, 'world'));
  const objects = rng.shuffle(OBJECTS.slice()).slice(0, opts.objects);
  const truth = new Map<string, WordTruth>();
  objects.forEach((o, i) => {
    const level = GROUNDING_LEVELS[i % GROUNDING_LEVELS.length]!;
    truth.set(o.word, { word: o.word, kind: o.kind, category: o.category, level, params: LEVEL_PARAMS[level], counts: { events: 0, distractor: 0, mentions_same_turn: 0, mentions_same_turn_aft: 0, mentions_delayed: 0, mentions_unlinked: 0 } });
  });
  const unlinkedPool = objects.map((o) => ({ word: o.word, weight: LEVEL_PARAMS[truth.get(o.word)!.level].unlinked_weight }));

  const chatDir = ensureDir(join(opts.out, 'chat'));
  const files: string[] = [];
  const progress = new Progress({ total: opts.transcripts, label: 'writing world', unit: 'transcripts', quiet: opts.quiet || undefined });
  for (let i = 0; i < opts.transcripts; i++) {
    const srng = new Rng(deriveSeed(opts.seed, 'session', i));
    const caregivers: Speaker[] = srng.float() < 0.5 ? ['MOT', 'FAT'] : ['MOT'];
    const scene = srng.sample(objects, Math.min(opts.scene_size, objects.length));
    const session = new SessionWriter(srng, caregivers, scene, truth, opts, unlinkedPool);
    for (let e = 0; e < opts.episodes; e++) session.episode();
    const name = `synth-${String(i + 1).padStart(4, '0')}.cha`;
    writeFileAtomic(join(chatDir, name), chatText(i, caregivers, scene, session.turns));
    files.push(`chat/${name}`);
    progress.tick();
  }
  progress.done();

  const templatesPath = join(opts.out, 'templates.json');
  writeJson(templatesPath, worldTemplates(objects, opts.seed));
  const truthPath = join(opts.out, 'truth.json');
  writeJson(truthPath, {
    kind: 'groundlab-synthetic-world',
    seed: opts.seed,
    options: { ...opts, out: undefined, quiet: undefined },
    levels: LEVEL_PARAMS,
    words: objects.map((o) => truth.get(o.word)!),
    files,
  });

  const result = await buildCorpus(
    {
      childes: [chatDir],
      out: opts.out,
      seed: opts.seed,
      min_env: opts.min_count,
      min_lan: opts.min_count,
      max_targets: objects.length,
      templates: templatesPath,
      items_per_word: opts.items_per_word,
      mismatches: opts.mismatches,
      quiet: opts.quiet,
    },
    { targetList: { rule: 'synthetic', words: objects.map((o) => o.word), categories: Object.fromEntries(objects.map((o) => [o.word, o.category])), filter: true } },
  );
  return { ...result, truth: truthPath, chatDir };
}
