/**
 * GPT-2 (Radford et al. 2019), as in nanoGPT / Hugging Face GPT2LMHeadModel: learned position
 * embeddings, pre-LayerNorm blocks, GELU MLP (4×), tied input/output embeddings, and an
 * explicit attention matrix whenever a hook listens at attn.pattern, so saliency can read A and ∂L/∂A
 * (otherwise a fused kernel computes the same z).
 *
 * Glossary
 *   B   batch size                    T   sequence length (prefix + tokens)
 *   V   vocabulary size               d   d_model (n_embd)
 *   H   attention heads               D   head width, d / H
 *   L   layers                        k   continuous prefix length (image-grounded setting)
 *
 * Parameter names and layouts are Hugging Face's (Conv1D weights stored in × out; q, k, v fused
 * in c_attn), so a checkpoint loads in PyTorch with GPT2LMHeadModel.from_pretrained.
 */
import * as E from '../engine/index.js';
import type { ParamSpec, Tensor } from '../engine/index.js';
import { ParamStore } from '../engine/index.js';
import { causalSelfAttention } from '../engine/ops/attention.js';
import type { FinalNorm, ForwardOptions, LanguageModel, ModelInput } from './types.js';
import { registerArch } from './registry.js';
import { HOOK_NAMES as HN, HookPattern, type ModelHooks } from './hooks.js';

export interface GPT2Config {
  vocab_size: number;
  /** Maximum sequence length (learned positions). */
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  layer_norm_epsilon: number;
  /** Width of continuous prefix vectors (0: no prefix projection). */
  prefix_dim: number;
}

export const gpt2Defaults: GPT2Config = { vocab_size: 5000, n_positions: 128, n_embd: 256, n_layer: 4, n_head: 4, layer_norm_epsilon: 1e-5, prefix_dim: 0 };

/** Parameters in Hugging Face order, with GPT-2's initialisation (residual projections scaled by 1/√(2L)). */
export function gpt2ParamSpecs(c: GPT2Config): ParamSpec[] {
  const d = c.n_embd;
  const std = 0.02;
  const projStd = 0.02 / Math.sqrt(2 * c.n_layer);
  const w = (name: string, shape: number[], s = std): ParamSpec => ({ name, shape, init: { kind: 'normal', std: s }, decay: true });
  const zero = (name: string, n: number): ParamSpec => ({ name, shape: [n], init: { kind: 'const', value: 0 }, decay: false });
  const one = (name: string, n: number): ParamSpec => ({ name, shape: [n], init: { kind: 'const', value: 1 }, decay: false });
  const specs: ParamSpec[] = [w('transformer.wte.weight', [c.vocab_size, d]), w('transformer.wpe.weight', [c.n_positions, d], 0.01)];
  for (let l = 0; l < c.n_layer; l++) {
    const p = `transformer.h.${l}`;
    specs.push(
      one(`${p}.ln_1.weight`, d),
      zero(`${p}.ln_1.bias`, d),
      w(`${p}.attn.c_attn.weight`, [d, 3 * d]),
      zero(`${p}.attn.c_attn.bias`, 3 * d),
      w(`${p}.attn.c_proj.weight`, [d, d], projStd),
      zero(`${p}.attn.c_proj.bias`, d),
      one(`${p}.ln_2.weight`, d),
      zero(`${p}.ln_2.bias`, d),
      w(`${p}.mlp.c_fc.weight`, [d, 4 * d]),
      zero(`${p}.mlp.c_fc.bias`, 4 * d),
      w(`${p}.mlp.c_proj.weight`, [4 * d, d], projStd),
      zero(`${p}.mlp.c_proj.bias`, d),
    );
  }
  specs.push(one('transformer.ln_f.weight', d), zero('transformer.ln_f.bias', d));
  if (c.prefix_dim > 0) specs.push(w('prefix_proj.weight', [c.prefix_dim, d]), zero('prefix_proj.bias', d));
  return specs;
}


/** GPT-2's hook points (names from models/hooks.ts), in forward order. */
const HP = {
  embed: new HookPattern(HN.embed, '[B, T, d]', 'token plus position embeddings (after the optional prefix)'),
  residPre: new HookPattern(HN.residPre, '[B, T, d]', 'residual stream entering block l'),
  pattern: new HookPattern(HN.attnPattern, '[B, H, T(query), T(key)]', 'attention probabilities (causal softmax; rows sum to 1)'),
  headOut: new HookPattern(HN.attnZ, '[B, T, H, D]', 'per-head outputs A·v before c_proj: where heads are ablated'),
  mixerOut: new HookPattern(HN.attnOut, '[B, T, d]', 'attention output after c_proj'),
  residMid: new HookPattern(HN.residMid, '[B, T, d]', 'residual stream between attention and MLP'),
  mlpOut: new HookPattern(HN.mlpOut, '[B, T, d]', 'MLP output after its c_proj'),
  residPost: new HookPattern(HN.residPost, '[B, T, d]', 'residual stream leaving block l'),
  finalOut: new HookPattern(HN.lnFinal, '[B, T, d]', 'final LayerNorm of the residual stream'),
  logits: new HookPattern(HN.logits, '[B, T, V] or [R, V]', 'logits (R rows with logitRows)'),
};
export const GPT2_HOOKS: ModelHooks = {
  embed: HP.embed, residPre: HP.residPre, residPost: HP.residPost, mixerOut: HP.mixerOut, pattern: HP.pattern, headOut: HP.headOut, finalOut: HP.finalOut, logits: HP.logits,
  points: [HP.embed, HP.residPre, HP.pattern, HP.headOut, HP.mixerOut, HP.residMid, HP.mlpOut, HP.residPost, HP.finalOut, HP.logits],
};

export class GPT2 implements LanguageModel<GPT2Config> {
  readonly arch = 'gpt2' as const;
  readonly hooks = GPT2_HOOKS;
  readonly params: ParamStore;

  constructor(readonly config: GPT2Config) {
    if (config.n_embd % config.n_head !== 0) throw new Error(`n_embd ${config.n_embd} is not divisible by n_head ${config.n_head}`);
    this.params = new ParamStore(gpt2ParamSpecs(config));
  }

  get nLayers(): number {
    return this.config.n_layer;
  }
  get nHeads(): number {
    return this.config.n_head;
  }
  get dModel(): number {
    return this.config.n_embd;
  }
  get vocabSize(): number {
    return this.config.vocab_size;
  }

  private p(name: string): Tensor {
    return this.params.get(name);
  }

  unembedding(): Tensor {
    return this.p('transformer.wte.weight');
  }

  /** Token embeddings plus learned positions (after the optional continuous prefix). */
  private embed(input: ModelInput): Tensor {
    const { ids, batch: B, seq } = input;
    const k = input.prefix ? input.prefix.shape[1]! : 0;
    const T = k + seq;
    if (T > this.config.n_positions) throw new Error(`sequence length ${T} exceeds n_positions ${this.config.n_positions}`);
    let x = E.embedding(this.p('transformer.wte.weight'), ids, [B, seq]); // (B, seq, d)
    if (input.prefix) {
      if (this.config.prefix_dim === 0) throw new Error('this GPT-2 has no prefix projection (prefix_dim = 0)');
      const pre = E.linear(input.prefix, this.p('prefix_proj.weight'), this.p('prefix_proj.bias')); // (B, k, d)
      x = E.concat([pre, x], 1); // (B, T, d)
    }
    const pos = E.narrow(this.p('transformer.wpe.weight'), 0, 0, T); // (T, d)
    return E.hookPoint(HP.embed.at(), E.add(x, pos)); // (B, T, d)
  }

  /** Causal self-attention of block l (Vaswani et al. 2017 §3.2, GPT-2 layout). */
  private attention(l: number, h: Tensor, B: number, T: number): Tensor {
    const { n_embd: d, n_head: H } = this.config;
    const D = d / H;
    const pre = `transformer.h.${l}.attn`;
    const qkv = E.linear(h, this.p(`${pre}.c_attn.weight`), this.p(`${pre}.c_attn.bias`)); // (B, T, 3d)
    if (!E.hookActive(HP.pattern.at(l))) {
      // Nobody reads the pattern: the fused kernel computes the same z per head block (equality tested).
      const z = E.hookPoint(HP.headOut.at(l), causalSelfAttention(qkv, H, 1 / Math.sqrt(D))); // (B, T, H, D)
      const out = E.linear(E.reshape(z, [B, T, d]), this.p(`${pre}.c_proj.weight`), this.p(`${pre}.c_proj.bias`)); // (B, T, d)
      return E.hookPoint(HP.mixerOut.at(l), out);
    }
    const heads = E.permute(E.reshape(qkv, [B, T, 3, H, D]), [2, 0, 3, 1, 4]); // (3, B, H, T, D)
    const [q, k, v] = E.split(heads, [1, 1, 1], 0).map((t) => E.reshape(t, [B, H, T, D])); // 3 × (B, H, T, D)
    const scores = E.bmm(q!, k!, { transB: true }); // (B, H, T, T) = q · kᵀ
    let pattern = E.softmax(scores, { scale: 1 / Math.sqrt(D), causal: true }); // (B, H, T, T), rows sum to 1
    pattern = E.hookPoint(HP.pattern.at(l), pattern);
    let z = E.permute(E.bmm(pattern, v!), [0, 2, 1, 3]); // (B, T, H, D)
    z = E.hookPoint(HP.headOut.at(l), z); // head ablation happens here, before c_proj
    const out = E.linear(E.reshape(z, [B, T, d]), this.p(`${pre}.c_proj.weight`), this.p(`${pre}.c_proj.bias`)); // (B, T, d)
    return E.hookPoint(HP.mixerOut.at(l), out);
  }

  private mlp(l: number, h: Tensor): Tensor {
    const pre = `transformer.h.${l}.mlp`;
    const up = E.gelu(E.linear(h, this.p(`${pre}.c_fc.weight`), this.p(`${pre}.c_fc.bias`))); // (B, T, 4d)
    const out = E.linear(up, this.p(`${pre}.c_proj.weight`), this.p(`${pre}.c_proj.bias`)); // (B, T, d)
    return E.hookPoint(HP.mlpOut.at(l), out);
  }

  private block(l: number, x: Tensor, B: number, T: number): Tensor {
    const eps = this.config.layer_norm_epsilon;
    const pre = `transformer.h.${l}`;
    x = E.hookPoint(HP.residPre.at(l), x); // (B, T, d)
    const a = this.attention(l, E.layerNorm(x, this.p(`${pre}.ln_1.weight`), this.p(`${pre}.ln_1.bias`), eps), B, T);
    x = E.hookPoint(HP.residMid.at(l), E.add(x, a)); // (B, T, d)
    const m = this.mlp(l, E.layerNorm(x, this.p(`${pre}.ln_2.weight`), this.p(`${pre}.ln_2.bias`), eps));
    return E.hookPoint(HP.residPost.at(l), E.add(x, m)); // (B, T, d)
  }

  finalNorm(): FinalNorm {
    return { weight: this.p('transformer.ln_f.weight'), bias: this.p('transformer.ln_f.bias') };
  }

  readout(h: Tensor, norm: FinalNorm = this.finalNorm()): Tensor {
    const n = E.layerNorm(h, norm.weight, norm.bias!, this.config.layer_norm_epsilon); // (..., d)
    return E.matmul(n, this.unembedding(), { transB: true }); // (..., V)
  }

  forward(input: ModelInput, opts: ForwardOptions = {}): Tensor {
    const B = input.batch;
    let x = this.embed(input); // (B, T, d)
    const T = x.shape[1]!;
    for (let l = 0; l < this.config.n_layer; l++) x = this.block(l, x, B, T);
    let h = E.layerNorm(x, this.p('transformer.ln_f.weight'), this.p('transformer.ln_f.bias'), this.config.layer_norm_epsilon); // (B, T, d)
    h = E.hookPoint(HP.finalOut.at(), h);
    if (opts.logitRows) h = E.embedding(E.reshape(h, [B * T, this.config.n_embd]), opts.logitRows); // (R, d)
    const logits = E.matmul(h, this.unembedding(), { transB: true }); // (B, T, V) or (R, V)
    return E.hookPoint(HP.logits.at(), logits);
  }

  hfConfig(): Record<string, unknown> {
    const c = this.config;
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: c.vocab_size,
      n_positions: c.n_positions,
      n_ctx: c.n_positions,
      n_embd: c.n_embd,
      n_layer: c.n_layer,
      n_head: c.n_head,
      n_inner: null,
      activation_function: 'gelu_new',
      layer_norm_epsilon: c.layer_norm_epsilon,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      initializer_range: 0.02,
      scale_attn_weights: true,
      tie_word_embeddings: true,
      groundlab_prefix_dim: c.prefix_dim,
    };
  }
}

registerArch<GPT2Config>({
  arch: 'gpt2',
  defaults: gpt2Defaults,
  create: (c) => new GPT2(c),
  hooks: GPT2_HOOKS,
  describe: {
    vocab_size: 'vocabulary size (set from the corpus)',
    n_positions: 'maximum sequence length (learned positions)',
    n_embd: 'model width d_model',
    n_layer: 'number of transformer blocks',
    n_head: 'attention heads per block',
    layer_norm_epsilon: 'LayerNorm epsilon',
    prefix_dim: 'width of continuous prefix vectors (image-grounded setting; 0 = none)',
  },
});
