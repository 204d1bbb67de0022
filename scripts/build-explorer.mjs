#!/usr/bin/env node
/**
 * Bundles the explorer page (src/report/explorer/page.ts: engine, models, saliency, page code)
 * into one browser script, dist/report/explorer/page.bundle.js, which `groundlab explore` inlines
 * into index.html. Run by `npm run build` after tsc.
 *
 * The page runs on the TypeScript reference kernels: the native-addon loader
 * (src/engine/backend/native.ts, node:fs/module/os) is replaced by a stub that reports "no addon",
 * and any other Node built-in reaching the bundle fails the build (platform: browser).
 *
 *   node scripts/build-explorer.mjs            writes the bundle
 *   import { bundleExplorer } from '...'       returns { code, inputs } without writing (tests, tsx)
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRY = join(root, 'src', 'report', 'explorer', 'page.ts');
export const OUTFILE = join(root, 'dist', 'report', 'explorer', 'page.bundle.js');
const STUB = join(root, 'src', 'report', 'explorer', 'native-stub.ts');

/** Replaces the engine's native-addon loader with a stub: the page never loads an addon. */
const noNativeAddon = {
  name: 'groundlab-no-native-addon',
  setup(build) {
    build.onResolve({ filter: /(^|\/)native\.js$/ }, (args) => {
      if (!args.importer.includes(`${join('src', 'engine', 'backend')}`)) return undefined;
      return { path: STUB };
    });
  },
};

/** Builds the page bundle; returns its code and the source files it contains (relative to the package). */
export async function bundleExplorer({ minify = true } = {}) {
  const esbuild = await import('esbuild');
  const res = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    minify,
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'silent',
    // Environment switches the engine reads in Node: fixed for the page.
    define: {
      'process.env.GROUNDLAB_BACKEND': '"reference"',
      'process.env.GROUNDLAB_POOL_MIB': 'undefined',
    },
    plugins: [noNativeAddon],
  });
  const code = res.outputFiles[0].text;
  const inputs = Object.keys(res.metafile.inputs);
  return { code, inputs };
}

async function main() {
  const { code, inputs } = await bundleExplorer();
  mkdirSync(dirname(OUTFILE), { recursive: true });
  const tmp = `${OUTFILE}.tmp-${process.pid}`;
  writeFileSync(tmp, code);
  renameSync(tmp, OUTFILE);
  console.log(`explorer page bundle: ${OUTFILE} (${(code.length / 1024).toFixed(0)} KiB from ${inputs.length} files)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`build-explorer: ${err.message ?? err}`);
    process.exit(1);
  });
}
