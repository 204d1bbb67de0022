import { writeStudyClaims } from '../src/study/claims-study.js';
import { formatClaims } from '../src/analysis/claims.js';
const t0 = performance.now();
const r = writeStudyClaims(process.argv[2]!);
console.log(formatClaims(r.claims));
console.log(`seconds ${((performance.now() - t0) / 1000).toFixed(1)}`);
