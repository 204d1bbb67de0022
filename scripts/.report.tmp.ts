import { writeStudyReport } from '../src/report/study-report.js';
const t0 = performance.now();
const r = await writeStudyReport(process.argv[2]!);
console.log(r.path, r.warnings.slice(0, 5), ((performance.now() - t0) / 1000).toFixed(1));
