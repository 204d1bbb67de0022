/**
 * The study report's pointer to the live explorer: when STUDY/explore/index.html exists (written
 * by `groundlab explore --study STUDY`), a short section links to it; otherwise nothing is drawn.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StudyReportSection } from './registry.js';

export const EXPLORER_DIR = 'explore';

export const explorerSection: StudyReportSection = {
  id: 'explorer',
  title: 'Live explorer',
  order: 12,
  async render(ctx) {
    if (!existsSync(join(ctx.dir, EXPLORER_DIR, 'index.html'))) return false;
    ctx.builder.section('Live explorer');
    ctx.builder.link(
      `${EXPLORER_DIR}/index.html`,
      'Open the live explorer',
      `(${EXPLORER_DIR}/index.html beside this report): the study's checkpoints run in that page, in the browser, with no server. Pick an item, swap its ENV word, move through training with the checkpoint slider, and click a head for its token saliency. The page needs its weights/ folder beside it.`,
    );
  },
};
