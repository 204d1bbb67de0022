/**
 * cpu-preset benchmark (issue 15): the training step of the `cpu` preset's four models (GPT-2
 * d 128 × 4 and × 12 layers, Mamba-2 d 128 × 4, LSTM 128/160 × 4; batch 32 × context 128,
 * vocabulary 5000; step as bench/workers/cpu-step.ts) on 2 threads, in one run, against:
 *   - PyTorch 2.x (a venv's CPU wheel; GPT-2 best of explicit attention and SDPA);
 *   - Debian's python3-torch (1.13; explicit attention only: it has no SDPA), when installed;
 *   - "main": the same step with another checkout's sources and native build (BENCH_MAIN,
 *     default /work/base, a frozen copy of main), when present;
 *   - the same run's GEMM throughput: the step's own matrix products (bench/workers/cpu-flops.ts, which
 *     defines the FLOP count) timed alone through our GEMM entry points. "GEMM share" is
 *     (step FLOPs / our step time) / (step FLOPs / those GEMMs' time alone) = GEMMs-alone time /
 *     step time: 100% would be a step that costs nothing but its GEMMs at their stand-alone speed.
 *     Also printed: the step's GFLOP/s as a share of a square 1024 GEMM's (the machine's best case).
 * Rounds interleave every side (ours, main, torch 2, Debian torch, GEMMs) so background load hits
 * all alike; the tables show the median over rounds of each side's median step (after 2 warm-up
 * steps), each side's process CPU time, and its fastest single step (the least disturbed by other
 * load). The load average is printed at the start and end: on this shared 2-core machine, figures
 * taken under load are noisy. Also printed: whether ours and main end with bitwise-equal weights
 * (a hash of the weights after the timed steps), and the projected wall time of the 5-seed cpu
 * study (5 seeds × 4 entries × 5000 steps, plus 10 evaluations of 128 windows counted as 4
 * forward passes of ⅓ step each).
 *
 *   npx tsx bench/cpu-preset.ts      BENCH_ROUNDS=3 BENCH_STEPS=8 BENCH_MODELS=gpt2,gpt2-L12,mamba2,lstm
 *                                    BENCH_TORCH_PYTHON=/work/venv-torch/bin/python BENCH_MAIN=/work/base
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { stepFlops } from './workers/cpu-flops.js';
import { PYTHON, benchDir, fmt, median, runJson, table, threadEnv, tsWorker } from './lib.js';
import { join } from 'node:path';

const rounds = Number(process.env.BENCH_ROUNDS ?? '3');
const steps = process.env.BENCH_STEPS ?? '8';
const models = (process.env.BENCH_MODELS ?? 'gpt2,gpt2-L12,mamba2,lstm').split(',');
const torchPython = process.env.BENCH_TORCH_PYTHON ?? '/work/venv-torch/bin/python';
const mainRoot = process.env.BENCH_MAIN ?? '/work/base';
const env = threadEnv(2);
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${availableParallelism()} cores`;

function torchVersion(python: string): string | null {
  try {
    return execFileSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
const torch2 = existsSync(torchPython) ? torchVersion(torchPython) : null;
const torchDeb = torchVersion(PYTHON);
const haveMain = existsSync(join(mainRoot, 'build', 'Release', 'groundlab_native.node'));
console.log(`cpu-preset bench: ${rounds} rounds × ${steps} steps, 2 threads; start: ${load()}`);
console.log(`  PyTorch 2.x: ${torch2 ? `${torch2} (${torchPython})` : `unavailable at ${torchPython} (python3 -m venv --system-site-packages DIR && DIR/bin/pip install --no-index torch)`}`);
console.log(`  Debian PyTorch: ${torchDeb ? `${torchDeb} (${PYTHON})` : 'unavailable (apt-get install -y python3-torch)'}`);
console.log(`  main: ${haveMain ? mainRoot : `unavailable (no built checkout at ${mainRoot}; set BENCH_MAIN)`}`);

type Side = 'ours' | 'main' | 'torch2' | 'torch2 sdpa' | 'torch deb' | 'gemm' | 'square';
const ms: Record<string, Record<Side, number[]>> = {};
const cpuMs: Record<string, Record<Side, number[]>> = {};
/** Per model and round: did ours and main end with bitwise-equal weights after the timed steps? */
const sameWeights: Record<string, boolean[]> = {};
/** Fastest single step (after warm-up) per model and side over all rounds: the least disturbed by other load. */
const best: Record<string, Partial<Record<Side, number>>> = {};
const recordBest = (m: string, side: Side, steps: number[]) => {
  const b = Math.min(...steps.slice(2));
  (best[m] ??= {})[side] = Math.min(best[m]![side] ?? Infinity, b);
};
const record = (m: string, side: Side, wall: number, cpu: number) => {
  ((ms[m] ??= {} as Record<Side, number[]>)[side] ??= []).push(wall);
  ((cpuMs[m] ??= {} as Record<Side, number[]>)[side] ??= []).push(cpu);
};

function peerArgs(m: string): [string, string[]] {
  const common = ['--threads', '2', '--steps', steps, '--batch', '32', '--vocab', '5000', '--ctx', '128'];
  if (m === 'gpt2' || m === 'gpt2-L12') return ['peers/gpt2_step_torch.py', [...common, '--d', '128', '--heads', '4', '--layers', m === 'gpt2' ? '4' : '12']];
  if (m === 'mamba2') return ['peers/mamba2_step_torch.py', [...common, '--layers', '4', '--d', '128', '--expand', '4', '--headdim', '64', '--state', '32', '--chunk', '64']];
  return ['peers/lstm_step_torch.py', [...common, '--layers', '4', '--embed', '128', '--hidden', '160']];
}
const py = (python: string, m: string, extra: string[] = []) => {
  const [script, args] = peerArgs(m);
  const r = runJson(python, [join(benchDir, script), ...args, ...extra], env);
  return [r.median_ms, r.cpu_median_ms ?? r.median_cpu_ms ?? NaN, r.steps as number[]] as const;
};

for (let r = 0; r < rounds; r++) {
  for (const m of models) {
    const o = tsWorker('workers/cpu-step.ts', ['--model', m, '--steps', steps], env);
    record(m, 'ours', o.median_ms, o.cpu_median_ms);
    recordBest(m, 'ours', o.steps);
    if (haveMain) {
      const b = tsWorker('workers/cpu-step.ts', ['--model', m, '--steps', steps, '--root', mainRoot], env);
      record(m, 'main', b.median_ms, b.cpu_median_ms);
      recordBest(m, 'main', b.steps);
      (sameWeights[m] ??= []).push(o.weights_fnv1a === b.weights_fnv1a);
    }
    const gpt = m.startsWith('gpt2');
    if (torch2) {
      const [w, c, st] = py(torchPython, m);
      record(m, 'torch2', w, c);
      recordBest(m, 'torch2', st);
      if (gpt) {
        const [ws, cs, sts] = py(torchPython, m, ['--attn', 'sdpa']);
        record(m, 'torch2 sdpa', ws, cs);
        recordBest(m, 'torch2 sdpa', sts);
      }
    }
    if (torchDeb) {
      const [w, c, st] = py(PYTHON, m);
      record(m, 'torch deb', w, c);
      recordBest(m, 'torch deb', st);
    }
    const g = tsWorker('workers/gemm-shapes.ts', ['--model', m], env);
    record(m, 'gemm', g.gemm_ms, NaN);
    record(m, 'square', g.square1024_gflops, NaN);
    console.error(`round ${r + 1}/${rounds} ${m}: ours ${fmt(o.median_ms)} ms, GEMMs alone ${fmt(g.gemm_ms)} ms; ${load()}`);
  }
}

const med = (m: string, s: Side) => (ms[m]?.[s]?.length ? median(ms[m]![s]!) : NaN);
const medCpu = (m: string, s: Side) => (cpuMs[m]?.[s]?.length ? median(cpuMs[m]![s]!) : NaN);
const na = (x: number) => (Number.isFinite(x) ? x : 'n/a');
const rows = models.map((m) => {
  const ours = med(m, 'ours');
  const t2 = Math.min(med(m, 'torch2'), m.startsWith('gpt2') ? med(m, 'torch2 sdpa') : Infinity);
  const which = m.startsWith('gpt2') && med(m, 'torch2 sdpa') < med(m, 'torch2') ? ' (sdpa)' : m.startsWith('gpt2') ? ' (explicit)' : '';
  const deb = med(m, 'torch deb');
  const main = med(m, 'main');
  const gemm = med(m, 'gemm');
  const flops = stepFlops(m);
  return [m, ours, na(main), na(main / ours), Number.isFinite(t2) ? `${fmt(t2)}${which}` : 'n/a', na(t2 / ours), na(deb), na(deb / ours), flops / 1e9, flops / 1e6 / ours, `${((100 * gemm) / ours).toFixed(0)}%`, `${((100 * flops) / 1e6 / ours / med(m, 'square')).toFixed(0)}%`];
});
console.log(`\nTraining step, 2 threads, ms (median over ${rounds} rounds of the median of ${steps} steps after 2 warm-up); ratios > 1: ours faster; end: ${load()}`);
console.log(table(rows, ['model', 'ours', 'main', 'vs main', `torch ${torch2 ?? '2.x'}`, 'vs torch2', `torch ${torchDeb ?? 'deb'}`, 'vs deb', 'GFLOP/step', 'GFLOP/s', 'GEMM share', 'of 1024² GEMM']));
console.log(`GEMM share: the step's GEMMs timed alone (same shapes, same entry points) / our step time. Of 1024² GEMM: our step's GFLOP/s / a square 1024 GEMM's on 2 threads (median ${fmt(median(models.map((m) => med(m, 'square'))))} GFLOP/s).`);
const cpuRows = models.map((m) => [m, medCpu(m, 'ours'), na(medCpu(m, 'main')), na(medCpu(m, 'main') / medCpu(m, 'ours')), na(Math.min(medCpu(m, 'torch2'), m.startsWith('gpt2') ? medCpu(m, 'torch2 sdpa') : Infinity)), na(medCpu(m, 'torch deb'))]);
console.log('\nProcess CPU time per step (all threads), ms: steadier than wall time under load');
console.log(table(cpuRows, ['model', 'ours', 'main', 'main / ours', 'torch2 (best)', 'torch deb']));

const bestOf = (m: string, s: Side) => best[m]?.[s] ?? NaN;
const bestRows = models.map((m) => {
  const o = bestOf(m, 'ours');
  const t2 = Math.min(bestOf(m, 'torch2'), m.startsWith('gpt2') ? bestOf(m, 'torch2 sdpa') : Infinity);
  return [m, o, na(bestOf(m, 'main')), na(bestOf(m, 'main') / o), na(t2), na(t2 / o), na(bestOf(m, 'torch deb')), na(bestOf(m, 'torch deb') / o), `${((100 * med(m, 'gemm')) / o).toFixed(0)}%`];
});
console.log(`\nFastest single step over all rounds, ms (the least disturbed by other load; torch2 best of explicit and SDPA)`);
console.log(table(bestRows, ['model', 'ours', 'main', 'vs main', 'torch2', 'vs torch2', 'torch deb', 'vs deb', 'GEMM share']));

if (haveMain) console.log(`\nWeights after ${steps} steps bitwise equal to main's (same seeds; FNV-1a of the weights): ${models.map((m) => `${m} ${sameWeights[m]?.every(Boolean) ? 'yes' : 'NO'}`).join(', ')}`);

// Projection: the cpu preset trains every study entry for 5000 steps; evaluation adds 10 passes of 128 windows
// (4 forward passes of batch 32, each counted as ⅓ of a training step), i.e. 5000 + 13.3 step-equivalents.
const cpuStudy = ['gpt2', 'gpt2-L12', 'mamba2', 'lstm'];
if (cpuStudy.every((m) => models.includes(m))) {
  const stepEquivalents = 5000 + (10 * 4) / 3;
  const hours = (side: Side) => (5 * stepEquivalents * cpuStudy.reduce((s, m) => s + med(m, side), 0)) / 3.6e6;
  const hoursBest = (side: Side) => (5 * stepEquivalents * cpuStudy.reduce((s, m) => s + bestOf(m, side), 0)) / 3.6e6;
  console.log(`\nProjected 5-seed cpu study (4 entries × 5000 steps + evaluation, training only): from median steps at this run's load: ours ${hours('ours').toFixed(2)} h${haveMain ? `, main ${hours('main').toFixed(2)} h` : ''}; from the fastest steps: ours ${hoursBest('ours').toFixed(2)} h${haveMain ? `, main ${hoursBest('main').toFixed(2)} h` : ''}`);
}
