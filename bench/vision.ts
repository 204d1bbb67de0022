/**
 * Image encoder benchmark (issue 8): the built-in frozen encoder's cost per image on the shared COCO
 * images (../shared/data/coco/images, 640×480-ish JPEGs): JPEG decoding + area resize to 224×224
 * (TypeScript), and the MobileNetV2 forward pass to the 7×7×1280 feature map (TensorFlow.js, Wasm
 * backend; a few images on the pure-JS cpu backend for comparison). Prints wall and CPU milliseconds
 * per image (median and mean over images, after one warm-up image) and the machine's load.
 * Run: npx tsx bench/vision.ts [images=60]
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listImages } from '../src/data/images/encode.js';
import { decodeJpeg, toModelInput } from '../src/data/images/image.js';
import { loadMobileNetV2, type TfBackend } from '../src/data/images/mobilenet.js';

const DATA = fileURLToPath(new URL('../../shared/data', import.meta.url));
const n = Number(process.argv[2] ?? 60);
const files = listImages([join(DATA, 'coco', 'images')]).slice(0, n + 1);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function run(backend: TfBackend, count: number) {
  let t = performance.now();
  const enc = await loadMobileNetV2({ backend });
  const loadMs = performance.now() - t;
  const decode: number[] = [];
  const decodeCpu: number[] = [];
  const forward: number[] = [];
  const forwardCpu: number[] = [];
  let warmup = 0;
  for (const [i, f] of files.slice(0, count + 1).entries()) {
    t = performance.now();
    const c0 = cpuMs();
    const input = toModelInput(decodeJpeg(readFileSync(f.path), f.rel), enc.inputSize);
    const d = performance.now() - t;
    const dc = cpuMs() - c0;
    t = performance.now();
    const c = cpuMs();
    await enc.encode(input);
    const e = performance.now() - t;
    if (i === 0) {
      warmup = e;
      continue;
    }
    decode.push(d);
    decodeCpu.push(dc);
    forward.push(e);
    forwardCpu.push(cpuMs() - c);
  }
  enc.dispose();
  return { backend: enc.backend, loadMs, warmup, decode, decodeCpu, forward, forwardCpu };
}

console.log(`MobileNetV2 patch features (nsfwjs weights, layer out_relu → 49 × 1280) on ${n} COCO images; ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const wasm = await run('wasm', n);
console.log(`  wasm: model load ${wasm.loadMs.toFixed(0)} ms, first image ${wasm.warmup.toFixed(0)} ms`);
console.log(`  decode + resize (TS):   median ${median(wasm.decode).toFixed(1)} ms, mean ${mean(wasm.decode).toFixed(1)} ms per image (CPU time median ${median(wasm.decodeCpu).toFixed(1)} ms)`);
console.log(`  encoder forward (wasm): median ${median(wasm.forward).toFixed(1)} ms, mean ${mean(wasm.forward).toFixed(1)} ms per image (CPU time median ${median(wasm.forwardCpu).toFixed(1)} ms)`);
console.log(`  total:                  median ${median(wasm.decode.map((d, i) => d + wasm.forward[i]!)).toFixed(1)} ms per image → ${(1000 / median(wasm.decode.map((d, i) => d + wasm.forward[i]!))).toFixed(1)} images/s`);
const few = Math.min(5, n);
const cpu = await run('cpu', few);
console.log(`  encoder forward (pure-JS cpu backend, ${few} images): median ${median(cpu.forward).toFixed(0)} ms per image (${(median(cpu.forward) / median(wasm.forward)).toFixed(1)}× the wasm time)`);
console.log('  (on a loaded machine wall time exceeds CPU time: the CPU-time medians are the cost without contention)');
console.log(JSON.stringify({ images: n, decode_ms: median(wasm.decode), decode_cpu_ms: median(wasm.decodeCpu), forward_ms: median(wasm.forward), forward_cpu_ms: median(wasm.forwardCpu), total_ms: median(wasm.decode.map((d, i) => d + wasm.forward[i]!)), cpu_backend_forward_ms: median(cpu.forward), load: loadavg()[0] }));
