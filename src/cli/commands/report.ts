/** `groundlab report --study DIR`: one self-contained HTML page for a study. */
import { z } from 'zod';
import { type CommandSpec, defineCommand } from '../command.js';
import { UserError } from '../../util/errors.js';

const report = defineCommand({
  name: 'report',
  summary: 'write the study report: one self-contained HTML file (figures, tables, configs, methods)',
  options: z.object({
    study: z.string().describe('study directory (from "groundlab reproduce"); aggregates whatever runs are present'),
    out: z.string().optional().describe('output file (default STUDY/report.html)'),
    check: z.boolean().default(false).describe('open the report in headless Chromium and fail on console errors, page errors or external requests'),
    screenshot: z.string().optional().describe('with --check: save a full-page PNG here'),
  }),
  details: 'Example: groundlab report --study studies/demo --check',
  async run(o) {
    const { writeStudyReport } = await import('../../report/study-report.js');
    const { path, warnings } = await writeStudyReport(o.study, { out: o.out });
    for (const w of warnings) console.error(`chart warning: ${w}`);
    console.log(`report written to ${path}`);
    if (o.check) {
      const { checkReportInBrowser } = await import('../../report/check.js');
      const res = await checkReportInBrowser(path, { screenshotPath: o.screenshot });
      for (const w of res.warnings) console.error(`browser warning: ${w}`);
      if (res.errors.length) throw new UserError(`the report has ${res.errors.length} problem(s) in Chromium:\n  ${res.errors.join('\n  ')}`);
      console.log(`checked in headless Chromium: ${res.figures} figures, no errors${res.screenshotPath ? `; screenshot ${res.screenshotPath}` : ''}`);
    }
  },
});

export const commands: CommandSpec<any>[] = [report];
