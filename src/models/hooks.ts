/**
 * The hook vocabulary, in one place. Every hook-point name a model emits is spelled here
 * (`HOOK_NAMES`); each architecture publishes a typed map (`ModelHooks`, as `model.hooks` and
 * `archEntry(arch).hooks`) saying which of these names it emits and what each means for it, and
 * analyses ask that map (the attention pattern to take saliency from, the per-head output to
 * ablate, the residual stream for the lens) instead of switching on the architecture.
 *
 * Roles (what analyses use):
 *   embed      the embeddings entering block 0
 *   residPre   the stream entering block l
 *   residPost  the stream leaving block l
 *   mixerOut   the output of block l's sequence mixer (attention, SSD, LSTM cell), before it is added
 *   pattern    how much query position t reads key position s, [B, H, T, T]: attention
 *              probabilities, or Mamba-2's implicit attention; null when there is none (LSTM)
 *   headOut    per-head outputs right before the output projection, [B, T, H, d_head]: the only
 *              place heads are ablated; null without heads (LSTM)
 *   finalOut   the vector fed to the unembedding
 *   logits     the output
 *
 * Names are TransformerLens-style and are public: users write them in `withHooks`. A test
 * (test/models/hooks.test.ts) freezes them; a rename keeps the old name as an alias (the model
 * emits both points) with a note in `about`. README's hook table is `hookTable()` (models/index.ts), checked
 * by the same test.
 */

/** Every hook-point pattern ({l}: 0-based block index), in forward order across architectures. */
export const HOOK_NAMES = {
  embed: 'hook_embed',
  residPre: 'blocks.{l}.hook_resid_pre',
  attnPattern: 'blocks.{l}.attn.pattern',
  attnZ: 'blocks.{l}.attn.z',
  attnOut: 'blocks.{l}.hook_attn_out',
  residMid: 'blocks.{l}.hook_resid_mid',
  mlpOut: 'blocks.{l}.hook_mlp_out',
  mixerB: 'blocks.{l}.mixer.B',
  mixerC: 'blocks.{l}.mixer.C',
  mixerDt: 'blocks.{l}.mixer.dt',
  mixerPattern: 'blocks.{l}.mixer.pattern',
  mixerY: 'blocks.{l}.mixer.y',
  mixerZ: 'blocks.{l}.mixer.z',
  mixerOut: 'blocks.{l}.hook_mixer_out',
  lstmH: 'blocks.{l}.lstm.h',
  lstmC: 'blocks.{l}.lstm.c',
  residPost: 'blocks.{l}.hook_resid_post',
  projOut: 'proj.out',
  lnFinal: 'ln_final.out',
  logits: 'logits',
} as const;

export type HookName = (typeof HOOK_NAMES)[keyof typeof HOOK_NAMES];

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One hook-point pattern of one architecture: its name(s), shape and meaning there. */
export class HookPattern {
  readonly regex: RegExp;

  constructor(
    /** The name with {l} for the block index, e.g. blocks.{l}.attn.z. */
    readonly pattern: HookName,
    /** Shape, in the model file's symbols, e.g. [B, T, H, d_head]. */
    readonly shape: string,
    /** What this point holds in this architecture. */
    readonly about: string,
    /** Older names the model still emits for this point (same tensor). */
    readonly aliases: readonly HookName[] = [],
  ) {
    this.regex = new RegExp(`^${escapeRe(pattern).replace('\\{l\\}', '(\\d+)')}$`);
  }

  /** Whether the name has a block index. */
  get perLayer(): boolean {
    return this.pattern.includes('{l}');
  }

  /** The hook-point name at block l (no argument for points outside the blocks). */
  at(l?: number): string {
    if (!this.perLayer) return this.pattern;
    if (l === undefined || !Number.isInteger(l) || l < 0) throw new Error(`hook ${this.pattern} needs a block index ≥ 0, got ${l}`);
    return this.pattern.replace('{l}', String(l));
  }

  /** Whether a hook-point name is this pattern: its block index (null for points outside blocks), or undefined when it is not. */
  match(name: string): number | null | undefined {
    const m = this.regex.exec(name);
    if (!m) return undefined;
    return m[1] === undefined ? null : Number(m[1]);
  }
}

export interface ModelHooks {
  embed: HookPattern;
  residPre: HookPattern;
  residPost: HookPattern;
  mixerOut: HookPattern;
  /** Attention pattern or implicit attention; null when the architecture has none. */
  pattern: HookPattern | null;
  /** Per-head outputs before the output projection; null without heads. */
  headOut: HookPattern | null;
  finalOut: HookPattern;
  logits: HookPattern;
  /** Every hook point the model emits, in forward order (roles included). */
  points: readonly HookPattern[];
}

/** Hook names a forward pass of a model with these hooks and `nLayers` blocks reaches, aliases included (in `points` order per block). */
export function hookNames(hooks: ModelHooks, nLayers: number): string[] {
  const names = (p: HookPattern) => [p.pattern, ...p.aliases];
  const first = hooks.points.findIndex((p) => p.perLayer);
  const head = first < 0 ? hooks.points : hooks.points.slice(0, first);
  const layer = hooks.points.filter((p) => p.perLayer);
  const tail = first < 0 ? [] : hooks.points.slice(first).filter((p) => !p.perLayer);
  const out: string[] = head.flatMap(names);
  for (let l = 0; l < nLayers; l++) for (const p of layer) out.push(...names(p).map((n) => n.replace('{l}', String(l))));
  out.push(...tail.flatMap(names));
  return out;
}

const ARCH_TITLES: Record<string, string> = { gpt2: 'GPT-2', mamba2: 'Mamba-2', lstm: 'LSTM' };

/**
 * README's hook table (markdown): one row per hook-point name, one column per architecture with
 * the role, shape and meaning there ("—" when it does not emit it).
 */
export function renderHookTable(byArch: Record<string, ModelHooks>): string {
  const archs = Object.keys(byArch);
  const roleOf = (h: ModelHooks, p: HookPattern): string | undefined =>
    (['embed', 'residPre', 'residPost', 'mixerOut', 'pattern', 'headOut', 'finalOut', 'logits'] as const).find((r) => h[r] === p);
  const rows = new Map<string, string[]>();
  const order: string[] = [];
  for (const [i, arch] of archs.entries()) {
    const h = byArch[arch]!;
    for (const p of h.points) {
      for (const name of [p.pattern, ...p.aliases]) {
        if (!rows.has(name)) {
          rows.set(name, archs.map(() => '—'));
          order.push(name);
        }
        const role = roleOf(h, p);
        const alias = name !== p.pattern ? `alias of \`${p.pattern}\`` : '';
        rows.get(name)![i] = alias || `${role ? `**${role}** ` : ''}${p.shape}: ${p.about}`;
      }
    }
  }
  const rank = (n: string) => (Object.values(HOOK_NAMES) as string[]).indexOf(n);
  order.sort((a, b) => rank(a) - rank(b));
  const head = `| hook point | ${archs.map((a) => ARCH_TITLES[a] ?? a).join(' | ')} |`;
  const sep = `|---|${archs.map(() => '---').join('|')}|`;
  return [head, sep, ...order.map((n) => `| \`${n}\` | ${rows.get(n)!.join(' | ')} |`)].join('\n');
}
