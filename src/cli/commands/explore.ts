/** `groundlab explore --run RUN | --study STUDY`: a page that runs the user's own checkpoints in the browser. */
import { z } from 'zod';
import { type CommandSpec, defineCommand } from '../command.js';
import { UserError } from '../../util/errors.js';

const explore = defineCommand({
  name: 'explore',
  summary: 'write a live explorer: DIR/index.html runs your checkpoints in the browser (file://, no server, no network)',
  options: z.object({
    run: z.string().optional().describe('run directory (run_config.json, checkpoints/)'),
    study: z.string().optional().describe('or a study directory: every run with checkpoints, with a run picker'),
    corpus: z.string().optional().describe('corpus directory (default: the one recorded by the run or study; its hash must match)'),
    out: z.string().optional().describe('output directory (default RUN/explore or STUDY/explore): index.html and weights/'),
    max_mb: z.number().default(200).describe('size limit of the page plus weights in MB (10^6 bytes); past it checkpoints are thinned evenly, keeping the first and last'),
    max_items: z.number().int().default(1000).describe('at most this many evaluation items, spread over words'),
    check: z.boolean().default(false).describe('open the page in headless Chromium and fail on console or page errors'),
  }),
  details: [
    'In the page: pick an item (ENV and LAN tokens told apart); the target\'s surprisal is computed live;',
    'swap v<ENV> for another word; a checkpoint slider; a head grid of ENV shares; click a head for its',
    'token saliency |A ⊙ ∂L/∂A| (Mamba-2: implicit attention; LSTM: gradient × input).',
    'Weights are beside the page in DIR/weights/ (one script per checkpoint): keep the folder together.',
    '',
    'Example: groundlab explore --study studies/demo  (then open studies/demo/explore/index.html)',
  ].join('\n'),
  async run(o) {
    const { writeExplorer } = await import('../../report/explorer/write.js');
    const res = await writeExplorer({ run: o.run, study: o.study, corpus: o.corpus, out: o.out, maxMb: o.max_mb, maxItems: o.max_items });
    for (const r of res.runs) {
      console.log(`${r.name}: ${r.steps.length} checkpoint(s)${r.dropped.length ? `, ${r.dropped.length} left out to stay under ${o.max_mb} MB (steps ${r.dropped.join(', ')})` : ''}`);
    }
    console.log(`explorer written to ${res.path} (${(res.bytes / 1e6).toFixed(2)} MB with weights; page ${(res.pageBytes / 1e6).toFixed(2)} MB; ${res.items} items)`);
    if (o.check) {
      const { checkExplorerInBrowser } = await import('../../report/explorer/check.js');
      const c = await checkExplorerInBrowser(res.path);
      if (c.errors.length) throw new UserError(`the explorer has ${c.errors.length} problem(s) in Chromium:\n  ${c.errors.join('\n  ')}`);
      console.log(`checked in headless Chromium: first surprisal after ${c.firstNumberMs} ms, no errors`);
    }
  },
});

export const commands: CommandSpec<any>[] = [explore];
