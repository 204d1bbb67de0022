/**
 * Text width estimation for rendering Vega in Node without a canvas package.
 *
 * Without `canvas`, vega-scenegraph guesses every string as 0.8 em per character, about 45% wider
 * than real sans-serif text: legends and axis titles get pushed too far and labels are thinned out
 * needlessly. We install a per-character estimate from the Helvetica AFM widths instead (Arial and
 * Liberation Sans share these metrics), and make every chart ask for that font family first, so the
 * estimate matches what a browser draws.
 */
import * as vega from 'vega';

/** Font stack used by the charts and the HTML page: metric-compatible faces first. */
export const FONT_STACK = "Helvetica, Arial, 'Liberation Sans', 'Nimbus Sans', sans-serif";

// Helvetica advance widths (1/1000 em) for the printable ASCII characters 32..126.
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space .. /
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 .. ?
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ .. O
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P .. _
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` .. o
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p .. ~
];
/** Non-ASCII characters (Greek letters, ², ±, …) get a middle-of-the-road width. */
const OTHER_WIDTH = 600;
/** Bold Helvetica is about 6% wider on average. */
const BOLD_FACTOR = 1.06;
/** A small safety margin: overestimating costs a few pixels of padding, underestimating overlaps. */
const MARGIN = 1.03;

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

/** Estimated width in pixels of `text` at `fontSize` px. */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    units += code >= 32 && code <= 126 ? HELVETICA[code - 32]! : OTHER_WIDTH;
  }
  return (units / 1000) * fontSize * (bold ? BOLD_FACTOR : 1) * MARGIN;
}

function isBold(weight: number | string | undefined): boolean {
  if (weight === undefined) return false;
  if (typeof weight === 'number') return weight >= 600;
  return weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
}

interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

let installed = false;

/** Replaces vega's 0.8-em fallback with the Helvetica estimate (idempotent, process-wide). */
export function installTextMetrics(): void {
  if (installed) return;
  const metrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;
  metrics.width = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const s = text == null ? '' : String(text).trim();
    const w = estimateTextWidth(s, size, isBold(item.fontWeight));
    // Vega truncates text longer than `limit` with an ellipsis, so it never draws wider than that.
    return item.limit && item.limit > 0 ? Math.min(w, item.limit) : w;
  };
  installed = true;
}
