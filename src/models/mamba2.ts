/**
 * Mamba-2 (Dao & Gu 2024, "Transformers are SSMs: Generalized Models and Efficient Algorithms
 * Through Structured State Space Duality"), as in Hugging Face's Mamba2ForCausalLM (torch_forward)
 * and state-spaces/mamba's ssd_minimal.py: pre-RMSNorm residual blocks around the SSD mixer, a
 * final RMSNorm, and tied input/output embeddings.
 *
 * Glossary (paper symbols in brackets)
 *   B    batch size                         T   sequence length (prefix + tokens)
 *   V    vocabulary size                    d   hidden_size (d_model)
 *   L    layers                             di  d_inner = expand · d (the SSD's width)
 *   H    SSD heads, di / P                  P   head_dim (channels per head)
 *   N    state_size [N], per head           K   conv_kernel (short causal conv width)
 *   Q    chunk_size [Q] of the SSD scan     k   continuous prefix length (image-grounded setting)
 *   x    SSD input per head [X]             z   the gate (output of in_proj, through SiLU)
 *   dt   step size [Δ], softplus(· + dt_bias), one per head and time step
 *   A    per-head scalar decay, -exp(A_log) [A]; the state decays by exp(A · dt) per step
 *   Bm, Cm  input and output projections of the state [B, C], one group shared by all heads
 *   D    per-head skip [D]                  M   implicit attention [M = L ∘ C Bᵀ] (§3-4)
 *
 * One mixer (paper Figure 6, "Mamba-2 block"; HF Mamba2Mixer.torch_forward):
 *   [z | xBC | dt] = in_proj(h)                  h: (B, T, d) → (B, T, 2di + 2N + H)
 *   x, Bm, Cm      = split(silu(conv1d(xBC)))    depthwise causal conv over time (§7.1)
 *   y              = SSD(x, dt, A, Bm, Cm) + D x (B, T, H, P): the chunked scan (§6-7, Listing 1)
 *   out            = out_proj(rmsnorm(y · silu(z)))   gated RMSNorm (§7.4), (B, T, d)
 * where per head y_t = Σ_{s<=t} C_t·B_s · exp(Σ_{r=s+1..t} A dt_r) · dt_s · x_s + D x_t, i.e. y = M x + D x.
 *
 * Parameter names and layouts follow Hugging Face's Mamba2ForCausalLM (nn.Linear weights out × in,
 * conv1d.weight [conv_dim, 1, K], n_groups = 1), so a checkpoint loads there; the lm_head is tied to
 * backbone.embeddings.weight and not stored.
 *
 * Hook points (MAMBA2_HOOKS below; names from models/hooks.ts):
 *   hook_embed, blocks.{l}.hook_resid_pre, blocks.{l}.hook_resid_post, ln_final.out, logits
 *   blocks.{l}.mixer.dt [B, T, H], .B / .C [B, T, N]   the SSD's selective parameters
 *   blocks.{l}.mixer.pattern  [B, H, T, T]   implicit attention M (computed only when hooked)
 *   blocks.{l}.mixer.y        [B, T, H, P]   SSD output per head, = M x + D x
 *   blocks.{l}.mixer.z        [B, T, H, P]   per-head outputs right before out_proj (after the gate and norm)
 *   blocks.{l}.hook_mixer_out [B, T, d]
 *
 * Head ablation happens at mixer.z, the slice of out_proj's input that belongs to each head, as
 * GPT-2's attn.z before c_proj: zeroing head h there removes exactly its additive contribution to
 * the residual stream and leaves the other heads' outputs untouched. Zeroing earlier, at mixer.y,
 * would also change the RMS that the gated norm divides every head by (it normalises over all di
 * channels), so the remaining heads would be rescaled as a side effect.
 */
import * as E from '../engine/index.js';
import type { ParamSpec, Tensor } from '../engine/index.js';
import { ParamStore } from '../engine/index.js';
import { causalConv1d, gatedRmsNorm, ssdChunked, ssdPattern } from '../engine/ops/ssd.js';
import type { FinalNorm, ForwardOptions, LanguageModel, ModelInput } from './types.js';
import { registerArch } from './registry.js';
import { HOOK_NAMES as HN, HookPattern, type ModelHooks } from './hooks.js';

export interface Mamba2Config {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  /** N: state size per head. */
  state_size: number;
  /** d_inner = expand · hidden_size. */
  expand: number;
  /** P: channels per SSD head (num_heads = d_inner / head_dim). */
  head_dim: number;
  /** K: width of the depthwise causal convolution. */
  conv_kernel: number;
  /** Q: chunk length of the SSD scan (any T works; the last chunk may be shorter). */
  chunk_size: number;
  layer_norm_epsilon: number;
  /** Width of continuous prefix vectors (0: no prefix projection). */
  prefix_dim: number;
}

export const mamba2Defaults: Mamba2Config = {
  vocab_size: 5000,
  hidden_size: 128,
  num_hidden_layers: 4,
  state_size: 32,
  expand: 4,
  head_dim: 64,
  conv_kernel: 4,
  chunk_size: 64,
  layer_norm_epsilon: 1e-5,
  prefix_dim: 0,
};

/** Derived sizes: d_inner, heads, the conv's channels (x, B, C) and in_proj's output width. */
export function mamba2Dims(c: Mamba2Config) {
  const di = c.expand * c.hidden_size;
  if (!Number.isInteger(di)) throw new Error(`mamba2: expand · hidden_size = ${di} is not an integer`);
  if (di % c.head_dim !== 0) throw new Error(`mamba2: d_inner ${di} (expand ${c.expand} × hidden_size ${c.hidden_size}) is not divisible by head_dim ${c.head_dim}`);
  const H = di / c.head_dim;
  const N = c.state_size;
  return { d: c.hidden_size, di, H, P: c.head_dim, N, K: c.conv_kernel, convDim: di + 2 * N, inProj: 2 * di + 2 * N + H };
}

/**
 * Parameters in Hugging Face order, initialised as state-spaces/mamba does (mamba_ssm Mamba2 +
 * MixerModel._init_weights): embeddings N(0, 0.02); in_proj and conv1d torch's default
 * U(±1/√fan_in); conv bias 0 (as HF); dt_bias = softplus⁻¹(dt) with dt log-uniform in
 * [0.001, 0.1]; A = U(1, 16), A_log = log A; D = 1; out_proj U(±1/√di) / √L (prenorm-residual
 * rescaling); norm weights 1.
 */
export function mamba2ParamSpecs(c: Mamba2Config): ParamSpec[] {
  const { d, di, H, N, K, convDim, inProj } = mamba2Dims(c);
  const uni = (name: string, shape: number[], bound: number, decay = true): ParamSpec => ({ name, shape, init: { kind: 'uniform', low: -bound, high: bound }, decay });
  const one = (name: string, n: number): ParamSpec => ({ name, shape: [n], init: { kind: 'const', value: 1 }, decay: false });
  const specs: ParamSpec[] = [{ name: 'backbone.embeddings.weight', shape: [c.vocab_size, d], init: { kind: 'normal', std: 0.02 }, decay: true }];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `backbone.layers.${l}`;
    specs.push(
      one(`${p}.norm.weight`, d),
      uni(`${p}.mixer.in_proj.weight`, [inProj, d], 1 / Math.sqrt(d)),
      uni(`${p}.mixer.conv1d.weight`, [convDim, 1, K], 1 / Math.sqrt(K)),
      { name: `${p}.mixer.conv1d.bias`, shape: [convDim], init: { kind: 'const', value: 0 }, decay: false },
      {
        name: `${p}.mixer.dt_bias`,
        shape: [H],
        decay: false,
        init: {
          kind: 'custom',
          fill: (data, rng) => {
            const [lo, hi] = [Math.log(1e-3), Math.log(1e-1)];
            for (let i = 0; i < data.length; i++) {
              const dt = Math.max(Math.exp(lo + (hi - lo) * rng.float()), 1e-4);
              data[i] = dt + Math.log(-Math.expm1(-dt)); // softplus⁻¹(dt)
            }
          },
        },
      },
      { name: `${p}.mixer.A_log`, shape: [H], decay: false, init: { kind: 'custom', fill: (data, rng) => data.forEach((_, i) => (data[i] = Math.log(1 + 15 * rng.float()))) } },
      one(`${p}.mixer.D`, H),
      one(`${p}.mixer.norm.weight`, di),
      uni(`${p}.mixer.out_proj.weight`, [d, di], 1 / Math.sqrt(di) / Math.sqrt(c.num_hidden_layers)),
    );
  }
  specs.push(one('backbone.norm_f.weight', d));
  if (c.prefix_dim > 0) {
    specs.push({ name: 'prefix_proj.weight', shape: [d, c.prefix_dim], init: { kind: 'normal', std: 0.02 }, decay: true });
    specs.push({ name: 'prefix_proj.bias', shape: [d], init: { kind: 'const', value: 0 }, decay: false });
  }
  return specs;
}


/** Mamba-2's hook points (names from models/hooks.ts), in forward order. */
const HP = {
  embed: new HookPattern(HN.embed, '[B, T, d]', 'token embeddings (after the optional prefix)'),
  residPre: new HookPattern(HN.residPre, '[B, T, d]', 'residual stream entering block l'),
  dtB: new HookPattern(HN.mixerB, '[B, T, N]', 'the SSD input projection of the state (Bm)'),
  dtC: new HookPattern(HN.mixerC, '[B, T, N]', 'the SSD output projection of the state (Cm)'),
  dt: new HookPattern(HN.mixerDt, '[B, T, H]', 'step sizes Δ = softplus(· + dt_bias)'),
  pattern: new HookPattern(HN.mixerPattern, '[B, H, T, T]', 'implicit attention M = L ∘ C Bᵀ (materialised only when hooked; y = M x + D x)'),
  y: new HookPattern(HN.mixerY, '[B, T, H, P]', 'SSD output per head, M x + D x'),
  headOut: new HookPattern(HN.mixerZ, '[B, T, H, P]', 'per-head outputs after the gate and norm, before out_proj: where heads are ablated'),
  mixerOut: new HookPattern(HN.mixerOut, '[B, T, d]', 'mixer output after out_proj'),
  residPost: new HookPattern(HN.residPost, '[B, T, d]', 'residual stream leaving block l'),
  finalOut: new HookPattern(HN.lnFinal, '[B, T, d]', 'final RMSNorm of the residual stream'),
  logits: new HookPattern(HN.logits, '[B, T, V] or [R, V]', 'logits (R rows with logitRows)'),
};
export const MAMBA2_HOOKS: ModelHooks = {
  embed: HP.embed, residPre: HP.residPre, residPost: HP.residPost, mixerOut: HP.mixerOut, pattern: HP.pattern, headOut: HP.headOut, finalOut: HP.finalOut, logits: HP.logits,
  points: [HP.embed, HP.residPre, HP.dtB, HP.dtC, HP.dt, HP.pattern, HP.y, HP.headOut, HP.mixerOut, HP.residPost, HP.finalOut, HP.logits],
};

export class Mamba2 implements LanguageModel<Mamba2Config> {
  readonly arch = 'mamba2' as const;
  readonly hooks = MAMBA2_HOOKS;
  readonly params: ParamStore;
  private readonly dims: ReturnType<typeof mamba2Dims>;
  /** [1, P] of ones: broadcasts D [H] to [H, P] on the hooked (pattern) path. */
  private readonly onesP: Tensor;

  constructor(readonly config: Mamba2Config) {
    this.dims = mamba2Dims(config);
    if (!Number.isInteger(config.chunk_size) || config.chunk_size < 1) throw new Error(`mamba2: chunk_size must be a positive integer, got ${config.chunk_size}`);
    if (config.conv_kernel < 1 || config.conv_kernel > 16) throw new Error(`mamba2: conv_kernel must be in 1..16, got ${config.conv_kernel}`);
    this.params = new ParamStore(mamba2ParamSpecs(config));
    this.onesP = E.keep(E.full([1, this.dims.P], 1));
  }

  get nLayers(): number {
    return this.config.num_hidden_layers;
  }
  get nHeads(): number {
    return this.dims.H;
  }
  get dModel(): number {
    return this.config.hidden_size;
  }
  get vocabSize(): number {
    return this.config.vocab_size;
  }

  private p(name: string): Tensor {
    return this.params.get(name);
  }

  unembedding(): Tensor {
    return this.p('backbone.embeddings.weight');
  }

  /** Token embeddings after the optional continuous prefix (no positions: the SSD is causal and ordered). */
  private embed(input: ModelInput): Tensor {
    const { ids, batch: B, seq } = input;
    let x = E.embedding(this.p('backbone.embeddings.weight'), ids, [B, seq]); // (B, seq, d)
    if (input.prefix) {
      if (this.config.prefix_dim === 0) throw new Error('this Mamba-2 has no prefix projection (prefix_dim = 0)');
      const pre = E.add(E.matmul(input.prefix, this.p('prefix_proj.weight'), { transB: true }), this.p('prefix_proj.bias')); // (B, k, d)
      x = E.concat([pre, x], 1); // (B, T, d)
    }
    return E.hookPoint(HP.embed.at(), x); // (B, T, d)
  }

  /** The SSD mixer of block l (paper §7, HF Mamba2Mixer.torch_forward). h is the normalised residual. */
  private mixer(l: number, h: Tensor, B: number, T: number): Tensor {
    const { di, H, P, N } = this.dims;
    const pre = `backbone.layers.${l}.mixer`;
    // in_proj's rows are [z | x | B | C | dt] and the conv's channels [x | B | C] (HF layout). Splitting
    // the weights (leading-dim views, no copies) instead of the activations gives each part its own
    // GEMM and, the conv being depthwise, its own conv, with contiguous outputs.
    const [Wz, Wx, WB, WC, Wdt] = E.split(this.p(`${pre}.in_proj.weight`), [di, di, N, N, H], 0); // (di | di | N | N | H, d)
    const [cwx, cwB, cwC] = E.split(this.p(`${pre}.conv1d.weight`), [di, N, N], 0); // (di | N | N, 1, K)
    const [cbx, cbB, cbC] = E.split(this.p(`${pre}.conv1d.bias`), [di, N, N], 0); // (di | N | N)
    const proj = (W: Tensor) => E.matmul(h, W, { transB: true });
    const z = proj(Wz!); // (B, T, di), the gate
    const xs = causalConv1d(proj(Wx!), cwx!, cbx!, { activation: 'silu' }); // (B, T, di)
    const Braw = causalConv1d(proj(WB!), cwB!, cbB!, { activation: 'silu' }); // (B, T, N)
    const Craw = causalConv1d(proj(WC!), cwC!, cbC!, { activation: 'silu' }); // (B, T, N)
    const dtRaw = proj(Wdt!); // (B, T, H)
    const Bm = E.hookPoint(HP.dtB.at(l), Braw); // (B, T, N)
    const Cm = E.hookPoint(HP.dtC.at(l), Craw); // (B, T, N)
    const dt = E.hookPoint(HP.dt.at(l), E.softplus(E.add(dtRaw, this.p(`${pre}.dt_bias`)))); // (B, T, H), Δ > 0
    const A = E.neg(E.exp(this.p(`${pre}.A_log`))); // (H), A < 0
    const D = this.p(`${pre}.D`); // (H)
    const x = E.reshape(xs, [B, T, H, P]); // (B, T, H, P)
    let y: Tensor;
    if (E.hookActive(HP.pattern.at(l))) {
      // Explicit path: materialise the implicit attention so hooks read M and ∂L/∂M; y = M x + D x
      // equals the chunked scan up to float rounding.
      const M = E.hookPoint(HP.pattern.at(l), ssdPattern(dt, A, Bm, Cm)); // (B, H, T, T), M[t, s] = 0 for s > t
      const yh = E.bmm(M, E.permute(x, [0, 2, 1, 3])); // (B, H, T, P) = M · x per head
      const Dhp = E.matmul(E.reshape(D, [H, 1]), this.onesP); // (H, P): D broadcast over channels
      y = E.add(E.permute(yh, [0, 2, 1, 3]), E.mul(x, Dhp)); // (B, T, H, P)
    } else {
      y = ssdChunked(x, dt, A, Bm, Cm, D, { chunk: this.config.chunk_size }); // (B, T, H, P), chunked scan (§7)
    }
    y = E.hookPoint(HP.y.at(l), y); // (B, T, H, P)
    // Gated RMSNorm (fused): rmsnorm(y · silu(z)) · norm.weight, the RMS taken over all di channels.
    const normed = gatedRmsNorm(E.reshape(y, [B, T, di]), z, this.p(`${pre}.norm.weight`), this.config.layer_norm_epsilon); // (B, T, di)
    const zh = E.hookPoint(HP.headOut.at(l), E.reshape(normed, [B, T, H, P])); // (B, T, H, P): head ablation happens here, before out_proj
    const out = E.matmul(E.reshape(zh, [B, T, di]), this.p(`${pre}.out_proj.weight`), { transB: true }); // (B, T, d)
    return E.hookPoint(HP.mixerOut.at(l), out);
  }

  /** Pre-RMSNorm residual block (HF Mamba2Block): x + mixer(rmsnorm(x)). */
  private block(l: number, x: Tensor, B: number, T: number): Tensor {
    x = E.hookPoint(HP.residPre.at(l), x); // (B, T, d)
    const h = E.rmsNorm(x, this.p(`backbone.layers.${l}.norm.weight`), this.config.layer_norm_epsilon); // (B, T, d)
    return E.hookPoint(HP.residPost.at(l), E.add(x, this.mixer(l, h, B, T))); // (B, T, d)
  }

  finalNorm(): FinalNorm {
    return { weight: this.p('backbone.norm_f.weight') };
  }

  /** Final RMSNorm + tied unembedding on residual vectors [..., d] (logit lens; a tuned lens passes its own norm). */
  readout(h: Tensor, norm: FinalNorm = this.finalNorm()): Tensor {
    const n = E.rmsNorm(h, norm.weight, this.config.layer_norm_epsilon); // (..., d)
    return E.matmul(n, this.unembedding(), { transB: true }); // (..., V)
  }

  forward(input: ModelInput, opts: ForwardOptions = {}): Tensor {
    const B = input.batch;
    let x = this.embed(input); // (B, T, d)
    const T = x.shape[1]!;
    for (let l = 0; l < this.config.num_hidden_layers; l++) x = this.block(l, x, B, T);
    let h = E.rmsNorm(x, this.p('backbone.norm_f.weight'), this.config.layer_norm_epsilon); // (B, T, d)
    h = E.hookPoint(HP.finalOut.at(), h);
    if (opts.logitRows) h = E.embedding(E.reshape(h, [B * T, this.config.hidden_size]), opts.logitRows); // (R, d)
    const logits = E.matmul(h, this.unembedding(), { transB: true }); // (B, T, V) or (R, V), tied lm_head
    return E.hookPoint(HP.logits.at(), logits);
  }

  hfConfig(): Record<string, unknown> {
    const c = this.config;
    const { H } = this.dims;
    return {
      architectures: ['Mamba2ForCausalLM'],
      model_type: 'mamba2',
      vocab_size: c.vocab_size,
      hidden_size: c.hidden_size,
      num_hidden_layers: c.num_hidden_layers,
      state_size: c.state_size,
      expand: c.expand,
      num_heads: H,
      head_dim: c.head_dim,
      n_groups: 1,
      conv_kernel: c.conv_kernel,
      chunk_size: c.chunk_size,
      layer_norm_epsilon: c.layer_norm_epsilon,
      hidden_act: 'silu',
      use_bias: false,
      use_conv_bias: true,
      rms_norm: true,
      residual_in_fp32: true,
      time_step_min: 0.001,
      time_step_max: 0.1,
      time_step_floor: 1e-4,
      initializer_range: 0.02,
      rescale_prenorm_residual: true,
      tie_word_embeddings: true,
      groundlab_prefix_dim: c.prefix_dim,
    };
  }
}

registerArch<Mamba2Config>({
  arch: 'mamba2',
  defaults: mamba2Defaults,
  create: (c) => new Mamba2(c),
  hooks: MAMBA2_HOOKS,
  describe: {
    vocab_size: 'vocabulary size (set from the corpus)',
    hidden_size: 'model width d_model (residual stream)',
    num_hidden_layers: 'number of Mamba-2 blocks',
    state_size: 'SSD state size N per head',
    expand: 'd_inner = expand × hidden_size',
    head_dim: 'channels per SSD head P (heads = d_inner / head_dim)',
    conv_kernel: 'width of the depthwise causal convolution',
    chunk_size: 'chunk length Q of the SSD scan',
    layer_norm_epsilon: 'RMSNorm epsilon',
    prefix_dim: 'width of continuous prefix vectors (image-grounded setting; 0 = none)',
  },
});
