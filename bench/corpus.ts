/**
 * Corpus benchmark (issue 4): build the corpus from all of ../shared/data/childes (about 230k
 * utterances; CDI targets, our templates) and print wall time and peak memory; then the default
 * synthetic world. Target: under 20 s and under 1 GiB on 2 cores.
 * Run: npx tsx bench/corpus.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCorpus } from '../src/data/build.js';
import { synthesizeWorld } from '../src/data/synth/world.js';

const DATA = fileURLToPath(new URL('../../shared/data', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'groundlab-bench-corpus-'));
const peakMiB = (): number => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB on Linux

try {
  let t0 = performance.now();
  const r = await buildCorpus({
    childes: [join(DATA, 'childes')],
    out: join(work, 'childes'),
    cdi: join(DATA, 'cdi', 'English_American_WS.csv'),
    templates: 'ours',
    quiet: true,
  });
  const childesSeconds = (performance.now() - t0) / 1000;
  const childesPeak = peakMiB();
  const s = r.stats;
  console.log('corpus build, all of ../shared/data/childes (CDI targets, our templates)');
  console.log(`  ${s.transcripts} transcripts, ${s.utterances} utterances, ${s.env_tokens + s.lan_tokens} ENV+LAN tokens, vocabulary ${s.vocab_size}`);
  console.log(`  ${r.targets.words.length} targets, ${r.items} items, ${r.diagnostics} diagnostics`);
  console.log(`  wall time ${childesSeconds.toFixed(2)} s (target < 20 s) · peak RSS ${childesPeak.toFixed(0)} MiB (target < 1024 MiB)`);

  t0 = performance.now();
  const w = await synthesizeWorld({ out: join(work, 'synth'), quiet: true });
  const synthSeconds = (performance.now() - t0) / 1000;
  console.log('synthetic world, default options');
  console.log(`  ${w.stats.transcripts} transcripts, ${w.stats.splits.train.tokens} training tokens, vocabulary ${w.stats.vocab_size}, ${w.targets.words.length} targets`);
  console.log(`  wall time ${synthSeconds.toFixed(2)} s · peak RSS so far ${peakMiB().toFixed(0)} MiB`);
  if (childesSeconds > 20 || childesPeak > 1024) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
