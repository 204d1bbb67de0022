/** A small learnable corpus for engine/trainer tests: a noisy deterministic successor rule over 40 words. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCorpusCore } from '../../src/data/contract.js';
import { Rng } from '../../src/util/rng.js';

export function writeToyCorpus(dir = mkdtempSync(join(tmpdir(), 'gl-toy-')), tokens = 20_000, seed = 1): string {
  const words = Array.from({ length: 40 }, (_, i) => `w${i}<LAN>`);
  const vocab = ['<pad>', '<unk>', '<doc>', '<MOT>', ...words];
  const rng = new Rng(seed);
  const stream = (n: number) => {
    const out: number[] = [];
    let cur = 4;
    for (let i = 0; i < n; i++) {
      if (i % 200 === 0) out.push(2, 3);
      // Next word follows a fixed rule 80% of the time, otherwise random.
      cur = rng.float() < 0.8 ? 4 + ((cur - 4) * 7 + 3) % 40 : 4 + rng.int(40);
      out.push(cur);
    }
    return out;
  };
  writeCorpusCore(dir, vocab, { train: stream(tokens), val: stream(2000), test: stream(2000) });
  return dir;
}
