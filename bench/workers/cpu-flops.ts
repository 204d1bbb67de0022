/**
 * The matrix products of one training step of each `cpu`-preset model (batch 32 × context 128,
 * vocabulary 5000), used by the cpu-preset benchmark to count a step's FLOPs and to time the
 * same GEMMs alone ("the same run's GEMM throughput").
 *
 * FLOP count of a step (the definition the benchmark prints): 2·M·N·K per product, over every
 * GEMM of the forward pass and the two of its backward (∂input, ∂weight), i.e. 3× the forward
 * products; attention's q·kᵀ and P·v are counted over the full T × T square (as PyTorch's explicit
 * attention computes them, although the causal half is zero); Mamba-2's SSD and the LSTM's
 * recurrent products are counted as the GEMMs they are (the SSD's four chunked einsums, the
 * LSTM's h·W_hhᵀ per step and the batched x·W_ihᵀ); elementwise work (LayerNorm, GELU, softmax,
 * AdamW, ...) counts 0. Imported by cpu-preset.ts and gemm-shapes.ts.
 */
export interface Gemm {
  /** batch > 1: `batch` independent products (attention per (b, h), SSD per chunk). */
  batch: number;
  ta: 0 | 1;
  tb: 0 | 1;
  M: number;
  N: number;
  K: number;
  /** How many times the step runs it. */
  count: number;
  what: string;
}

export const B = 32, T = 128, V = 5000;
const rows = B * T;

/** y = x·W (x: rows × K, W: K × N) plus its backward products ∂x = ∂y·Wᵀ and ∂W = xᵀ·∂y. */
function dense(K: number, N: number, count: number, what: string, transW = false): Gemm[] {
  return [
    { batch: 1, ta: 0, tb: transW ? 1 : 0, M: rows, N, K, count, what: `${what} fwd` },
    { batch: 1, ta: 0, tb: transW ? 0 : 1, M: rows, N: K, K: N, count, what: `${what} ∂x` },
    transW ? { batch: 1, ta: 1, tb: 0, M: N, N: K, K: rows, count, what: `${what} ∂W` } : { batch: 1, ta: 1, tb: 0, M: K, N, K: rows, count, what: `${what} ∂W` },
  ];
}

/** Batched product a·b (M × K by K × N per item) and its two backward products. */
function batched(batch: number, M: number, N: number, K: number, count: number, what: string): Gemm[] {
  return [
    { batch, ta: 0, tb: 0, M, N, K, count, what: `${what} fwd` },
    { batch, ta: 0, tb: 1, M, N: K, K: N, count, what: `${what} ∂a` },
    { batch, ta: 1, tb: 0, M: K, N, K: M, count, what: `${what} ∂b` },
  ];
}

export function stepGemms(model: string): Gemm[] {
  const lmHead = (d: number) => dense(d, V, 1, 'LM head', true);
  if (model === 'gpt2' || model === 'gpt2-L12') {
    const L = model === 'gpt2' ? 4 : 12, d = 128, H = 4, D = d / H;
    return [
      ...dense(d, 3 * d, L, 'c_attn'),
      ...dense(d, d, L, 'attn c_proj'),
      ...dense(d, 4 * d, L, 'c_fc'),
      ...dense(4 * d, d, L, 'mlp c_proj'),
      ...batched(B * H, T, T, D, L, 'q·kᵀ'),
      ...batched(B * H, T, D, T, L, 'P·v'),
      ...lmHead(d),
    ];
  }
  if (model === 'mamba2') {
    const L = 4, d = 128, di = 512, N = 32, H = 8, P = 64, Q = 64, chunks = (B * T) / Q;
    return [
      ...dense(d, 2 * di + 2 * N + H, L, 'in_proj', true),
      ...dense(di, d, L, 'out_proj', true),
      // SSD per chunk (Dao & Gu 2024 §7): C·Bᵀ (Q×Q×N), intra-chunk (per head Q×P×Q), states Bᵀ·x (N×P×Q per head), state read-out C·h (Q×P×N per head).
      ...batched(chunks, Q, Q, N, L, 'SSD C·Bᵀ'),
      ...batched(chunks * H, Q, P, Q, L, 'SSD intra-chunk'),
      ...batched(chunks * H, N, P, Q, L, 'SSD chunk states'),
      ...batched(chunks * H, Q, P, N, L, 'SSD state read-out'),
      ...lmHead(d),
    ];
  }
  if (model === 'lstm') {
    const E = 128, Hd = 160, L = 4;
    const out: Gemm[] = [];
    out.push(...dense(E, 4 * Hd, 1, 'W_ih layer 0', true), ...dense(Hd, 4 * Hd, L - 1, 'W_ih layers 1-3', true));
    // recurrence: per time step h_{t-1}·W_hhᵀ (B × 4H × H) forward, ∂h and ∂W_hh backward
    out.push(
      { batch: 1, ta: 0, tb: 1, M: B, N: 4 * Hd, K: Hd, count: L * T, what: 'h·W_hhᵀ fwd' },
      { batch: 1, ta: 0, tb: 0, M: B, N: Hd, K: 4 * Hd, count: L * T, what: 'h·W_hhᵀ ∂h' },
      { batch: 1, ta: 1, tb: 0, M: 4 * Hd, N: Hd, K: B, count: L * T, what: 'h·W_hhᵀ ∂W' },
    );
    out.push(...dense(Hd, E, 1, 'proj', true), ...lmHead(E));
    return out;
  }
  throw new Error(`cpu-flops: unknown model ${model}`);
}

export const gemmFlops = (g: Gemm): number => 2 * g.batch * g.M * g.N * g.K * g.count;
export const stepFlops = (model: string): number => stepGemms(model).reduce((s, g) => s + gemmFlops(g), 0);
