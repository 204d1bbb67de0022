/** The explorer page's stylesheet (inlined into index.html by write.ts). */
export const EXPLORER_CSS = `
:root { --env: #1b9e77; --env-bg: #e3f4ee; --lan: #3b5bdb; --lan-bg: #e7ecfd; --swap: #d95f02; --ink: #1d2329; --muted: #5f6b76; --line: #d9dee3; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fafbfc; }
#app { max-width: 1100px; margin: 0 auto; padding: 18px 22px 40px; }
h1 { font-size: 1.45em; margin: 0 0 2px; }
h2 { font-size: 1.05em; margin: 0 0 8px; }
.sub, .note, footer { color: var(--muted); font-size: 0.9em; }
footer { margin-top: 18px; }
.controls { display: flex; flex-wrap: wrap; gap: 10px 22px; align-items: center; padding: 10px 14px; background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; position: sticky; top: 0; z-index: 2; }
.controls label { display: inline-flex; align-items: center; gap: 6px; }
.controls select { max-width: 280px; }
.slider input { width: 220px; }
.step-label { font-variant-numeric: tabular-nums; min-width: 9em; }
.busy { color: var(--muted); font-size: 0.9em; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin: 12px 0; }
.panel.two { display: flex; flex-wrap: wrap; gap: 22px; }
/* The head grid takes its natural width (it scrolls when wider than the page); the saliency fills the rest or wraps below. */
.panel.two > div:first-child { flex: 0 1 auto; width: min-content; max-width: 100%; min-width: 0; }
.panel.two > div:last-child { flex: 1 1 360px; min-width: 0; }
.grid { overflow-x: auto; }
.item-info { font-size: 0.9em; color: var(--muted); margin-bottom: 4px; }
.legend { font-size: 0.85em; color: var(--muted); margin: 4px 0 8px; }
.tokens { line-height: 2.1; }
.tok { display: inline-block; padding: 0 5px; margin: 0 2px 2px 0; border-radius: 4px; border: 1px solid transparent; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.86em; line-height: 1.7; }
.tok.env { background: var(--env-bg); border-color: var(--env); color: #0c5e46; }
.tok.lan { background: var(--lan-bg); border-color: var(--lan); color: #23389a; }
.tok.speaker { color: var(--muted); background: #f1f3f5; }
.tok.special { color: #999; }
.tok.swap { outline: 2px solid var(--swap); outline-offset: 1px; }
.tok.target { font-weight: 600; border-style: dashed; }
.arrow { margin: 0 6px; color: var(--muted); }
.sline { margin: 6px 0; }
.num { font-weight: 650; font-variant-numeric: tabular-nums; font-size: 1.15em; }
.swap label { display: inline-flex; gap: 6px; align-items: center; }
.msg { color: var(--swap); font-size: 0.9em; }
.grid table { border-collapse: collapse; font-size: 0.88em; }
.grid th { font-weight: 500; color: var(--muted); padding: 3px 6px; text-align: center; white-space: nowrap; }
.grid td { padding: 2px; }
.cell { width: 54px; height: 34px; border: 1px solid var(--line); border-radius: 5px; cursor: pointer; font: inherit; font-variant-numeric: tabular-nums; color: var(--ink); }
.cell:hover { border-color: var(--ink); }
.cell.selected { outline: 3px solid var(--swap); outline-offset: 1px; }
.error { background: #fdecea; border: 1px solid #e0a39d; color: #8a1c12; padding: 8px 12px; border-radius: 6px; }
`;
