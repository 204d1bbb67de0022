/** Child process for the kill -9 resume test: trains the run described by argv[2] (JSON options). */
import { train } from '../../src/train/trainer.js';

await train({ ...JSON.parse(process.argv[2]!), quiet: true });
