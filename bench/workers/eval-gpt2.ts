/**
 * groundlab side of the evaluation benchmark: scores every matched and mismatched context of the
 * items file with the checkpoint (batched surprisal, analysis/surprisal.ts), times it, writes the
 * surprisals (float32, items in order, matched then each mismatch) and prints one JSON line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as E from '../../src/engine/index.js';
import type { EvalItem } from '../../src/data/contract.js';
import { prepareItems } from '../../src/analysis/grounding.js';
import { defaultBatchTokens, evaluateItems } from '../../src/analysis/surprisal.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

const { values } = parseArgs({ options: { checkpoint: { type: 'string' }, items: { type: 'string' }, out: { type: 'string' }, reps: { type: 'string', default: '3' }, 'batch-tokens': { type: 'string' } } });
const { model } = loadCheckpoint(values.checkpoint!);
const items = JSON.parse(readFileSync(values.items!, 'utf8')) as EvalItem[];
const { prepared } = prepareItems(items, 128);
const maxLen = Math.max(...prepared.map((p) => p.context.length));
const batchTokens = values['batch-tokens'] ? Number(values['batch-tokens']) : defaultBatchTokens(model, maxLen);
const sequences = prepared.reduce((a, p) => a + 1 + p.item.mismatches.length, 0);
const tokens = prepared.reduce((a, p) => a + (1 + p.item.mismatches.length) * p.context.length, 0);

const run = () => evaluateItems(model, prepared, { batchTokens });
run(); // warm-up: first touch of the pooled buffers
const times: number[] = [];
const cpu: number[] = [];
let results = run();
for (let r = 0; r < Number(values.reps); r++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  results = run();
  const c = process.cpuUsage(c0);
  times.push((performance.now() - t0) / 1000);
  cpu.push((c.user + c.system) / 1e6);
}
const out = new Float32Array(sequences);
let k = 0;
for (const r of results) {
  out[k++] = r.matched;
  for (const m of r.mismatched) out[k++] = m;
}
writeFileSync(values.out!, out);
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
console.log(JSON.stringify({ seconds: median, times, cpu_seconds: [...cpu].sort((a, b) => a - b)[Math.floor(cpu.length / 2)], sequences, tokens, sequences_per_s: sequences / median, batch_tokens: batchTokens, threads: E.getThreads() }));
