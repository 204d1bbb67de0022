#!/usr/bin/env node
/**
 * Builds the native addon (node-gyp, offline) against the headers of the node that runs this
 * script, wherever it is installed: Debian's node keeps them in /usr/include/node, a node from
 * the official tarball or a version manager (nvm, fnm, volta, asdf) under its own prefix,
 * <prefix>/include/node. Order: $GROUNDLAB_NODEDIR, the running node's prefix, /usr. Without any
 * of them node-gyp is left to find (or download) headers itself, which needs the network.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The header directory to build against, and where the choice came from. */
export function chooseNodedir({ execPath = process.execPath, env = process.env, exists = existsSync } = {}) {
  const hasHeaders = (dir) => exists(join(dir, 'include', 'node', 'node_api.h'));
  if (env.GROUNDLAB_NODEDIR) {
    if (!hasHeaders(env.GROUNDLAB_NODEDIR)) return { dir: null, error: `GROUNDLAB_NODEDIR=${env.GROUNDLAB_NODEDIR} has no include/node/node_api.h; point it at a node install prefix (the directory holding include/node)` };
    return { dir: env.GROUNDLAB_NODEDIR, source: 'GROUNDLAB_NODEDIR' };
  }
  const prefix = dirname(dirname(execPath)); // <prefix>/bin/node
  if (hasHeaders(prefix)) return { dir: prefix, source: `the running node (${execPath})` };
  if (hasHeaders('/usr')) return { dir: '/usr', source: '/usr (system headers)' };
  return { dir: null, source: 'none' };
}

/** node-gyp as npm provides it to install scripts, else the copy bundled with the running node's npm, else the one on PATH. */
function nodeGypCommand(env = process.env) {
  if (env.npm_config_node_gyp && existsSync(env.npm_config_node_gyp)) return [process.execPath, [env.npm_config_node_gyp]];
  const bundled = join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, [bundled]]; // `node scripts/install-native.mjs` run by hand
  return ['node-gyp', []];
}

function main() {
  const choice = chooseNodedir();
  if (choice.error) {
    console.error(`groundlab install: ${choice.error}`);
    process.exit(1);
  }
  const [cmd, pre] = nodeGypCommand();
  const args = [...pre, 'rebuild'];
  if (choice.dir) {
    args.push(`--nodedir=${choice.dir}`);
    console.error(`groundlab install: building the native addon against the node headers in ${choice.dir} (${choice.source})`);
  } else {
    console.error(`groundlab install: no node headers under ${dirname(dirname(process.execPath))}/include/node or /usr/include/node; node-gyp will try to download them (set GROUNDLAB_NODEDIR=<node prefix> to build offline)`);
  }
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: join(dirname(fileURLToPath(import.meta.url)), '..') });
  if (r.error) {
    console.error(`groundlab install: could not run node-gyp (${r.error.message}); install it (npm i -g node-gyp) or run through npm`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
