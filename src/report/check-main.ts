/**
 * Command-line entry for the browser check, used by scripts/report-check.sh and CI:
 *
 *   tsx src/report/check-main.ts REPORT.html [--screenshot out.png]
 *   tsx src/report/check-main.ts --demo OUT.html [--screenshot out.png]   (build the demo report first)
 *
 * Prints the findings and exits 1 on any error, 2 on a usage problem or a missing browser.
 */
import { checkReportInBrowser } from './check.js';
import { buildDemoReport } from './demo.js';

async function main(argv: string[]): Promise<number> {
  let demo = false;
  let screenshotPath: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--demo') demo = true;
    else if (a === '--screenshot') screenshotPath = argv[++i];
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else files.push(a);
  }
  if (files.length !== 1) throw new Error('usage: check-main.ts [--demo] REPORT.html [--screenshot PNG]');
  const path = files[0]!;
  if (demo) {
    const warnings: string[] = [];
    (await buildDemoReport((m) => warnings.push(m))).write(path);
    for (const w of warnings) console.log(`chart warning: ${w}`);
    console.log(`wrote demo report ${path}`);
  }
  const res = await checkReportInBrowser(path, { screenshotPath });
  console.log(`"${res.title}": ${res.figures} figure(s), ${res.errors.length} error(s), ${res.warnings.length} warning(s)`);
  for (const w of res.warnings) console.log(`warning: ${w}`);
  for (const e of res.errors) console.log(`error: ${e}`);
  if (res.screenshotPath) console.log(`screenshot: ${res.screenshotPath}`);
  return res.errors.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`report check: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
