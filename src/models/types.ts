/**
 * What every architecture provides, so the trainer and the analyses treat GPT-2, Mamba-2 and
 * the LSTM alike. Each model publishes its hook points as `hooks` (models/hooks.ts: the
 * vocabulary, the roles analyses use, and what each point means for that architecture).
 */
import type { ParamStore, Tensor } from '../engine/index.js';
import type { ModelHooks } from './hooks.js';

export type Arch = 'gpt2' | 'mamba2' | 'lstm';

export interface ModelInput {
  /** Token ids, row-major [batch, seq]. */
  ids: Int32Array;
  batch: number;
  seq: number;
  /**
   * Optional continuous prefix [batch, k, d_in] (image-grounded setting): mapped to d_model by
   * the model's trained prefix projection and placed before the tokens. Then T = k + seq.
   */
  prefix?: Tensor;
}

export interface ForwardOptions {
  /** Only unembed these rows of the flattened [B*T] positions: logits become [R, V]. */
  logitRows?: Int32Array;
}

export interface LanguageModel<C = unknown> {
  readonly arch: Arch;
  readonly config: C;
  readonly params: ParamStore;
  readonly nLayers: number;
  /** Heads per layer that analyses can inspect and ablate (0 for the LSTM). */
  readonly nHeads: number;
  readonly dModel: number;
  readonly vocabSize: number;
  /** Where this architecture's activations can be read and changed (see models/hooks.ts). */
  readonly hooks: ModelHooks;
  /** Logits [B, T, V], or [R, V] for opts.logitRows. */
  forward(input: ModelInput, opts?: ForwardOptions): Tensor;
  /** The unembedding matrix [V, d] used as logits = h · Wᵀ (tied to the input embedding). */
  unembedding(): Tensor;
  /** Hugging Face-style config.json written beside checkpoints. */
  hfConfig(): Record<string, unknown>;
  /**
   * Final norm + unembedding applied to residual-stream vectors [..., d] (the logit lens). With
   * `norm`, other parameters replace the final norm's (the tuned lens's fresh norm).
   */
  readout(h: Tensor, norm?: FinalNorm): Tensor;
  /** The final norm's parameters (a tuned lens starts its fresh norm from a copy). */
  finalNorm(): FinalNorm;
}

export interface FinalNorm {
  weight: Tensor;
  /** LayerNorm has a bias; RMSNorm does not. */
  bias?: Tensor;
}
