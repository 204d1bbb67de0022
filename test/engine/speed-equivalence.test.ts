/**
 * The engine's speed paths change no result: weights after a few AdamW training steps with our
 * GEMM split (native/gemm.c, on by default) equal those with OpenBLAS's own threading (the split
 * off, as before it existed), for GPT-2, Mamba-2 and the LSTM at widths where the split engages.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../src/engine/index.js';
import { loadNativeKernels } from '../../src/engine/backend/index.js';
import { GPT2 } from '../../src/models/gpt2.js';
import { Mamba2 } from '../../src/models/mamba2.js';
import { LSTMModel } from '../../src/models/lstm.js';
import type { LanguageModel } from '../../src/models/types.js';
import { AdamW, clipGradNorm } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';

const native = loadNativeKernels();
const split0 = native?.gemmSplit?.(-1);
const threads0 = native ? E.getThreads() : 1;
afterAll(() => {
  if (!native) return;
  native.gemmSplit?.(split0!);
  E.setThreads(threads0);
});

// V 1000: the tied LM head's ∂x has K = 1000, a length OpenBLAS's threaded and single-threaded drivers cut differently (native/gemm.c).
const V = 1000, B = 4, T = 64, STEPS = 6;
const models: Record<string, () => LanguageModel> = {
  gpt2: () => new GPT2({ vocab_size: V, n_positions: T, n_embd: 128, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5, prefix_dim: 0 }),
  mamba2: () => new Mamba2({ vocab_size: V, hidden_size: 128, num_hidden_layers: 2, expand: 4, head_dim: 64, state_size: 32, conv_kernel: 4, chunk_size: 32, layer_norm_epsilon: 1e-5, prefix_dim: 0 }),
  lstm: () => new LSTMModel({ vocab_size: V, embedding_size: 128, hidden_size: 160, num_layers: 2, prefix_dim: 0 }),
};

function train(make: () => LanguageModel): Float32Array {
  const model = make();
  model.params.initialize(new Rng(1));
  const opt = new AdamW(model.params, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
  const rng = new Rng(2);
  for (let s = 0; s < STEPS; s++) {
    const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
    const targets = Int32Array.from({ length: B * T }, () => rng.int(V));
    model.params.zeroGrad();
    E.tidy(() => {
      const logits = model.forward({ ids, batch: B, seq: T });
      E.backward(E.crossEntropy(E.reshape(logits, [B * T, V]), targets));
    });
    clipGradNorm(model.params, 1);
    opt.update(1e-3);
  }
  return model.params.data.slice();
}

describe.skipIf(!native)('speed paths leave training unchanged', () => {
  it('single products and pairs: split on equals OpenBLAS threading bitwise, for K short, long, and cut unevenly', () => {
    E.setThreads(2);
    const buf = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s) * 0.1);
    for (const [ta, tb, M, N] of [[0, 0, 600, 128], [0, 1, 600, 128], [1, 0, 128, 600]] as const) {
      for (const K of [200, 400, 640, 700, 1000, 2048, 5000]) {
        const lda = ta ? M : K, ldb = tb ? K : N;
        const A = buf(M * K, 1.3), Bm = buf(K * N, 0.7);
        const run = (split: number, pair: boolean) => {
          native!.gemmSplit!(split);
          const C = buf(M * N, 0.3);
          const D = new Float32Array(M * N);
          if (pair) native!.gemmPair!(ta, tb, M, N, K, 1, A, 0, lda, Bm, 0, ldb, 1, C, 0, N, ta, tb, M, N, K, 1, A, 0, lda, Bm, 0, ldb, 0, D, 0, N);
          else native!.gemm(ta, tb, M, N, K, 1, A, 0, lda, Bm, 0, ldb, 1, C, 0, N);
          return C;
        };
        const old = run(0, false);
        for (const [label, c] of [['split', run(1, false)], ['pair', run(1, true)]] as const) {
          let differ = 0;
          for (let i = 0; i < old.length; i++) if (old[i] !== c[i]) differ++;
          expect(differ, `${label} ${ta}${tb} M ${M} N ${N} K ${K}`).toBe(0);
        }
      }
    }
  });

  for (const [name, make] of Object.entries(models)) {
    it(`${name}: weights after ${STEPS} steps, GEMM split on vs off (2 threads), are bitwise equal`, () => {
      E.setThreads(2);
      native!.gemmSplit!(0);
      const before = train(make);
      native!.gemmSplit!(1);
      const after = train(make);
      let differ = 0;
      for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) differ++;
      expect(differ, `${differ} of ${before.length} weights differ`).toBe(0);
    });
  }
});
