/**
 * LSTM language model (Hochreiter & Schmidhuber 1997; the cell of torch.nn.LSTM): token
 * embedding, a stack of unidirectional LSTM layers, a bias-free projection back to the
 * embedding width when the hidden size differs from it, and the tied unembedding
 * (logits = y · Wteᵀ). The paper's contrast architecture: no attention, a strictly causal state.
 *
 * Glossary
 *   B   batch size                    T   sequence length (prefix + tokens)
 *   V   vocabulary size               E   embedding width (embedding_size, tied unembedding)
 *   H   hidden (and cell) width       L   layers (num_layers)
 *   k   continuous prefix length      in  a layer's input width: E for layer 0, H above
 *   i, f, g, o   input, forget, cell-candidate and output gates (torch.nn.LSTM's order)
 *
 * The cell, per layer and time step t (x_t is the layer's input, h_{-1} = c_{-1} = 0):
 *   a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh             (B, 4H), gates stacked i|f|g|o
 *   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
 *   c_t = f ∘ c_{t-1} + i ∘ g,     h_t = o ∘ tanh(c_t)
 *
 * Compute. A layer is one op (engine/ops/lstm.ts): x W_ihᵀ for all steps is one big GEMM, then
 * the time loop runs in C (native/lstm.c): per step one [B, H]·[H, 4H] GEMM for h_{t-1} W_hhᵀ
 * and the fused gate kernel; backward (BPTT) loops the same way and leaves the weight
 * gradients to big GEMMs after the loop. So a step costs its GEMM and gate kernel plus ~0.1-0.3 µs
 * of fixed cost, with no JS and no tape node per step.
 *
 * Widths in the presets (src/train/config.ts): E = the GPT-2's d_model and H = 1.25 E, which puts
 * the non-embedding parameters within 3% of the GPT-2 of the same depth (the tied embeddings are
 * then identical, so the totals match for any vocabulary): tiny E 32 / H 40 / 2 layers, demo
 * 64 / 80 / 4, cpu 128 / 160 / 4, paper 768 / 960 / 4.
 *
 * Hooks (LSTM_HOOKS below; names from models/hooks.ts):
 *   hook_embed                  token embeddings (after the optional prefix), (B, T, E)
 *   blocks.{l}.hook_resid_pre   input of layer l, (B, T, in): gradient × input attributions
 *   blocks.{l}.lstm.h           hidden states h_t of layer l, (B, T, H)
 *   blocks.{l}.lstm.c           cell states c_t of layer l, (B, T, H)
 *   blocks.{l}.hook_resid_post  output of layer l (= its h), (B, T, H)
 *   proj.out                    final hidden fed to the unembedding (after proj), (B, T, E);
 *                               also emitted as ln_final.out (its earlier name, kept as an alias:
 *                               there is no norm). readout() maps any layer's h (..., H) through
 *                               proj and the unembedding, the logit lens
 *   logits                      (B, T, V), or (R, V) for logitRows
 * h and c are read out of the fused recurrence: a forward hook that replaces them changes what
 * the layers above and the logits see, not the layer's own later steps; a backward hook sees
 * the gradient arriving from above (∂L/∂h_t with the layer's recurrence held fixed; c has no
 * consumer above, so no gradient reaches lstm.c unless a hook or probe uses it). The gradient
 * at hook_resid_pre is the full derivative through the recurrence (SPEC §6's LSTM saliency).
 *
 * Parameter names and layouts are torch.nn.LSTM's inside an nn.Module with `embedding`
 * (nn.Embedding), `lstm` (nn.LSTM(E, H, L, batch_first=True)), `proj` (nn.Linear(H, E,
 * bias=False)) and `prefix_proj` (nn.Linear(prefix_dim, E)), so a checkpoint's state dict loads
 * in PyTorch as is (scripts/fixtures/lstm_fixture.py).
 */
import * as E from '../engine/index.js';
import type { ParamSpec, Tensor } from '../engine/index.js';
import { ParamStore } from '../engine/index.js';
import { lstmLayer } from '../engine/ops/lstm.js';
import type { FinalNorm, ForwardOptions, LanguageModel, ModelInput } from './types.js';
import { registerArch } from './registry.js';
import { HOOK_NAMES as HN, HookPattern, type ModelHooks } from './hooks.js';

export interface LSTMConfig {
  vocab_size: number;
  /** Token embedding width E (also the unembedding's: embeddings are tied). */
  embedding_size: number;
  /** Hidden and cell width H of every layer. */
  hidden_size: number;
  num_layers: number;
  /** Width of continuous prefix vectors (0: no prefix projection). */
  prefix_dim: number;
}

export const lstmDefaults: LSTMConfig = { vocab_size: 5000, embedding_size: 128, hidden_size: 160, num_layers: 4, prefix_dim: 0 };

/**
 * Parameters in torch state-dict order, with torch's default initialisation for every module:
 * nn.Embedding N(0, 1); nn.LSTM and nn.Linear uniform ±1/√fan_in (fan_in = H for the LSTM).
 * The embedding's unit scale matters here (there is no norm): with ±0.1 (a common choice for
 * tied LSTM LMs) the input barely moves the gates and the tiny preset learnt nothing in 100
 * steps, while the initial logits stay near uniform either way (std ≈ 0.2 at every preset size).
 */
export function lstmParamSpecs(c: LSTMConfig): ParamSpec[] {
  const { embedding_size: Ed, hidden_size: H } = c;
  const u = (name: string, shape: number[], bound: number, decay: boolean): ParamSpec => ({ name, shape, init: { kind: 'uniform', low: -bound, high: bound }, decay });
  const k = 1 / Math.sqrt(H);
  const specs: ParamSpec[] = [{ name: 'embedding.weight', shape: [c.vocab_size, Ed], init: { kind: 'normal', std: 1 }, decay: true }];
  for (let l = 0; l < c.num_layers; l++) {
    const inDim = l === 0 ? Ed : H;
    specs.push(
      u(`lstm.weight_ih_l${l}`, [4 * H, inDim], k, true),
      u(`lstm.weight_hh_l${l}`, [4 * H, H], k, true),
      u(`lstm.bias_ih_l${l}`, [4 * H], k, false),
      u(`lstm.bias_hh_l${l}`, [4 * H], k, false),
    );
  }
  if (H !== Ed) specs.push(u('proj.weight', [Ed, H], k, true));
  if (c.prefix_dim > 0) {
    const kp = 1 / Math.sqrt(c.prefix_dim);
    specs.push(u('prefix_proj.weight', [Ed, c.prefix_dim], kp, true), u('prefix_proj.bias', [Ed], kp, false));
  }
  return specs;
}


/** The LSTM's hook points (names from models/hooks.ts), in forward order. */
const HP = {
  embed: new HookPattern(HN.embed, '[B, T, E]', 'token embeddings (after the optional prefix)'),
  residPre: new HookPattern(HN.residPre, '[B, T, in]', 'input of layer l (in = E for layer 0, H above): where gradient × input saliency is taken'),
  h: new HookPattern(HN.lstmH, '[B, T, H]', 'hidden states h_t of layer l (the layer\'s output)'),
  c: new HookPattern(HN.lstmC, '[B, T, H]', 'cell states c_t of layer l (a read-out: nothing above consumes c)'),
  residPost: new HookPattern(HN.residPost, '[B, T, H]', 'output of layer l (= its h)'),
  finalOut: new HookPattern(
    HN.projOut,
    '[B, T, E]',
    'the last layer\'s h projected to the embedding width (no norm); also emitted as ln_final.out, its name before this map, kept as an alias',
    [HN.lnFinal],
  ),
  logits: new HookPattern(HN.logits, '[B, T, V] or [R, V]', 'logits (R rows with logitRows)'),
};
export const LSTM_HOOKS: ModelHooks = {
  embed: HP.embed, residPre: HP.residPre, residPost: HP.residPost, mixerOut: HP.h, pattern: null, headOut: null, finalOut: HP.finalOut, logits: HP.logits,
  points: [HP.embed, HP.residPre, HP.h, HP.c, HP.residPost, HP.finalOut, HP.logits],
};

export class LSTMModel implements LanguageModel<LSTMConfig> {
  readonly arch = 'lstm' as const;
  readonly hooks = LSTM_HOOKS;
  readonly params: ParamStore;
  private ones: Tensor | null = null;

  constructor(readonly config: LSTMConfig) {
    for (const f of ['vocab_size', 'embedding_size', 'hidden_size', 'num_layers'] as const) {
      if (!Number.isInteger(config[f]) || config[f] < 1) throw new Error(`lstm: ${f} must be a positive integer, got ${config[f]}`);
    }
    this.params = new ParamStore(lstmParamSpecs(config));
  }

  get nLayers(): number {
    return this.config.num_layers;
  }
  /** No attention heads: analyses use gradient × input at the layer inputs instead. */
  get nHeads(): number {
    return 0;
  }
  /** Width of the per-layer states (hook_resid_post, lstm.h, lstm.c): the hidden size H. */
  get dModel(): number {
    return this.config.hidden_size;
  }
  get vocabSize(): number {
    return this.config.vocab_size;
  }
  /** Width of the embedding, proj.out and the unembedding. */
  get embeddingSize(): number {
    return this.config.embedding_size;
  }

  private p(name: string): Tensor {
    return this.params.get(name);
  }

  /** The tied unembedding [V, E] (logits = proj.out · Wᵀ). */
  unembedding(): Tensor {
    return this.p('embedding.weight');
  }

  /** Maps hidden states (..., H) to the unembedding width (..., E): proj, or identity when H = E. */
  project(h: Tensor): Tensor {
    if (this.config.hidden_size === this.config.embedding_size) return h;
    return E.matmul(h, this.p('proj.weight'), { transB: true }); // (..., E) = h · projᵀ
  }

  /**
   * The LSTM has no final norm. Its stand-in is a diagonal scale of ones (no bias), so that
   * readout(h, finalNorm()) = readout(h) = the model's own head, and a tuned lens's "fresh norm"
   * starts as the identity (a learnable per-unit scale on top of its affine translator).
   */
  finalNorm(): FinalNorm {
    if (!this.ones || this.ones.isDisposed) this.ones = E.keep(E.full([this.config.hidden_size], 1));
    return { weight: this.ones };
  }

  /** Logits from hidden states of any layer (..., H): (h ∘ norm.weight + norm.bias), proj, tied unembedding. */
  readout(h: Tensor, norm?: FinalNorm): Tensor {
    let x = h; // (..., H)
    if (norm) {
      x = E.mul(x, norm.weight); // (..., H)
      if (norm.bias) x = E.add(x, norm.bias);
    }
    return E.matmul(this.project(x), this.unembedding(), { transB: true }); // (..., V)
  }

  /** Token embeddings, after the optional continuous prefix. */
  private embed(input: ModelInput): Tensor {
    const { ids, batch: B, seq } = input;
    let x = E.embedding(this.p('embedding.weight'), ids, [B, seq]); // (B, seq, E)
    if (input.prefix) {
      if (this.config.prefix_dim === 0) throw new Error('this LSTM has no prefix projection (prefix_dim = 0)');
      const pre = E.add(E.matmul(input.prefix, this.p('prefix_proj.weight'), { transB: true }), this.p('prefix_proj.bias')); // (B, k, E)
      x = E.concat([pre, x], 1); // (B, T, E)
    }
    return E.hookPoint(HP.embed.at(), x); // (B, T, E)
  }

  /** LSTM layer l over the whole sequence (the fused op: see the header). */
  private layer(l: number, x: Tensor): Tensor {
    x = E.hookPoint(HP.residPre.at(l), x); // (B, T, in)
    const w = (n: string) => this.p(`lstm.${n}_l${l}`);
    const [h, c] = lstmLayer(x, w('weight_ih'), w('weight_hh'), w('bias_ih'), w('bias_hh')); // (B, T, H) each
    const hh = E.hookPoint(HP.h.at(l), h); // (B, T, H)
    E.hookPoint(HP.c.at(l), c); // (B, T, H), a read-out: nothing above consumes c
    return E.hookPoint(HP.residPost.at(l), hh); // (B, T, H)
  }

  forward(input: ModelInput, opts: ForwardOptions = {}): Tensor {
    const B = input.batch;
    let x = this.embed(input); // (B, T, E)
    const T = x.shape[1]!;
    for (let l = 0; l < this.config.num_layers; l++) x = this.layer(l, x); // (B, T, H)
    // proj.out, then its alias ln_final.out (the same tensor; see LSTM_HOOKS).
    let y = E.hookPoint(HN.lnFinal, E.hookPoint(HP.finalOut.at(), this.project(x))); // (B, T, E)
    if (opts.logitRows) y = E.embedding(E.reshape(y, [B * T, this.config.embedding_size]), opts.logitRows); // (R, E)
    const logits = E.matmul(y, this.unembedding(), { transB: true }); // (B, T, V) or (R, V)
    return E.hookPoint(HP.logits.at(), logits);
  }

  hfConfig(): Record<string, unknown> {
    const c = this.config;
    return {
      architectures: ['LSTMLanguageModel'],
      model_type: 'lstm',
      vocab_size: c.vocab_size,
      embedding_size: c.embedding_size,
      hidden_size: c.hidden_size,
      num_layers: c.num_layers,
      proj: c.hidden_size !== c.embedding_size,
      batch_first: true,
      bidirectional: false,
      gate_order: 'i,f,g,o',
      tie_word_embeddings: true,
      groundlab_prefix_dim: c.prefix_dim,
    };
  }
}

registerArch<LSTMConfig>({
  arch: 'lstm',
  defaults: lstmDefaults,
  create: (c) => new LSTMModel(c),
  hooks: LSTM_HOOKS,
  describe: {
    vocab_size: 'vocabulary size (set from the corpus)',
    embedding_size: 'token embedding width (tied with the unembedding)',
    hidden_size: 'hidden and cell width of every LSTM layer (a bias-free projection maps it back to embedding_size when they differ)',
    num_layers: 'number of stacked LSTM layers',
    prefix_dim: 'width of continuous prefix vectors (image-grounded setting; 0 = none)',
  },
});
