import { describe, expect, it } from 'vitest';
import { computeSaliency, type SaliencyItem } from '../../src/analysis/saliency.js';
import { GPT2 } from '../../src/models/gpt2.js';
import { Rng } from '../../src/util/rng.js';

/**
 * A one-layer GPT-2 built by hand: head 0 attends from every position to ENV tokens (a constant
 * query along an "is ENV" feature), head 1 to non-ENV tokens; both write to the output.
 */
function copyHeadModel(): { model: GPT2; env: number[]; lan: number[] } {
  const V = 12, d = 16;
  const model = new GPT2({ vocab_size: V, n_positions: 16, n_embd: d, n_layer: 1, n_head: 2, layer_norm_epsilon: 1e-5, prefix_dim: 0 });
  const rng = new Rng(5);
  model.params.initialize(rng);
  const env = [4, 5, 6, 7];
  const lan = [3, 8, 9, 10, 11];
  const wte = model.params.get('transformer.wte.weight').data;
  for (let v = 0; v < V; v++) {
    const flag = env.includes(v) ? 3 : -3;
    wte[v * d + 0] = flag;
    wte[v * d + 1] = -flag;
    for (let k = 2; k < d; k++) wte[v * d + k] = 0.3 * rng.normal();
  }
  model.params.get('transformer.wpe.weight').data.fill(0);
  const W = model.params.get('transformer.h.0.attn.c_attn.weight').data; // [d, 3d]
  const bias = model.params.get('transformer.h.0.attn.c_attn.bias').data;
  // q/k of both heads read only the flag feature; values stay random.
  for (let r = 0; r < d; r++) for (let c = 0; c < 2 * d; c++) W[r * 3 * d + c] = 0;
  bias.fill(0, 0, 2 * d);
  bias[0] = 10; // head 0 query: +flag
  bias[8] = -10; // head 1 query: -flag
  W[0 * 3 * d + 16] = 1; // head 0 key = x̂_0
  W[0 * 3 * d + 24] = 1; // head 1 key = x̂_0
  for (const n of ['transformer.h.0.mlp.c_fc.weight', 'transformer.h.0.mlp.c_proj.weight']) model.params.get(n).data.fill(0);
  return { model, env, lan };
}

function items(env: number[], lan: number[], n: number): SaliencyItem[] {
  const rng = new Rng(9);
  return Array.from({ length: n }, () => {
    const len = 4 + rng.int(6);
    const context: number[] = [3];
    const envPositions: number[] = [];
    for (let i = 0; i < 2; i++) {
      envPositions.push(context.length);
      context.push(rng.pick(env));
    }
    while (context.length < len) context.push(rng.pick(lan));
    return { context, target: rng.pick(lan), envPositions };
  });
}

describe('saliency', () => {
  const { model, env, lan } = copyHeadModel();
  const its = items(env, lan, 12);

  it('is concentrated on the head that reads the ENV tokens', () => {
    const { rows } = computeSaliency(model, its, { batchSize: 5 });
    const share = (h: number) => rows.filter((r) => r.head === h).reduce((a, r) => a + r.envShare, 0) / its.length;
    expect(share(0)).toBeGreaterThan(0.95);
    expect(share(1)).toBeLessThan(0.05);
    expect(rows.filter((r) => r.head === -1)).toHaveLength(its.length); // one layer-flow row per item
  });

  it('batching and padding do not change any item', () => {
    const a = computeSaliency(model, its, { batchSize: 12 });
    const b = computeSaliency(model, its, { batchSize: 1 });
    its.forEach((_, i) => expect(a.surprisal[i]).toBeCloseTo(b.surprisal[i]!, 5));
    const key = (r: { item: number; head: number }) => `${r.item}/${r.head}`;
    const bm = new Map(b.rows.map((r) => [key(r), r]));
    for (const r of a.rows) expect(r.envShare).toBeCloseTo(bm.get(key(r))!.envShare, 4);
  });

  it('returns the full token × token map of the chosen head, causal', () => {
    const { maps } = computeSaliency(model, its.slice(0, 3), { mapOf: { layer: 0, head: 0 } });
    const n = its[0]!.context.length;
    expect(maps![0]!.length).toBe(n * n);
    for (let r = 0; r < n; r++) for (let c = r + 1; c < n; c++) expect(maps![0]![r * n + c]).toBe(0);
  });

  it('leaves the model trainable afterwards', () => {
    computeSaliency(model, its.slice(0, 2));
    expect(model.params.get('transformer.wte.weight').requiresGrad).toBe(true);
  });
});
