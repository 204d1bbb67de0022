/** Child process for the kill-and-resume and shard tests: runs the groundlab CLI on argv. */
import { main } from '../../src/cli/main.js';

process.exit(await main(process.argv.slice(2)));
