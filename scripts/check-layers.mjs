#!/usr/bin/env node
// Checks the layering of src/: every import goes from a higher layer to a lower one (or stays in its
// folder), and no files import each other in a cycle. Type-only imports are exempt: they vanish at
// compile time and cannot create an initialisation cycle.
//
//   node scripts/check-layers.mjs [SRC_DIR] [--include-types]   exit 0 when clean, 1 with one line per problem
//   (--include-types also counts type-only imports, for information)
//
// Layers (each may import the ones listed after it):
//   cli -> report -> study -> analysis -> train -> models -> engine; data and util below them all
//   (data sits beside engine: train and above may use it; engine and models may not).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ALLOWED = {
  util: [],
  engine: ['util'],
  data: ['util'],
  models: ['engine', 'util'],
  train: ['models', 'engine', 'data', 'util'],
  analysis: ['train', 'models', 'engine', 'data', 'util'],
  study: ['analysis', 'train', 'models', 'engine', 'data', 'util'],
  report: ['study', 'analysis', 'train', 'models', 'engine', 'data', 'util'],
  cli: ['report', 'study', 'analysis', 'train', 'models', 'engine', 'data', 'util'],
};

const args = process.argv.slice(2);
const includeTypes = args.includes('--include-types');
const srcArg = args.find((a) => !a.startsWith('--'));
const srcDir = resolve(srcArg ?? join(dirname(new URL(import.meta.url).pathname), '..', 'src'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The layer of a file: its top folder under src/ ('root' for src/index.ts and the like). */
function layerOf(file) {
  const parts = relative(srcDir, file).split('/');
  return parts.length > 1 ? parts[0] : 'root';
}

/** Value imports of a file (static, re-exports, dynamic), relative ones only, as resolved .ts paths. */
function valueImports(file) {
  // Comments blanked, newlines kept, so line numbers stay right.
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/^\s*\/\/.*$/gm, '');
  const found = [];
  // import|export [type] [Default,] ({ names } | * [as X] | Default) from '...'
  const staticRe = /^\s*(import|export)\s+((?:type\s+)?(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+))\s+from\s+['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(staticRe)) {
    const clause = m[2].trim();
    if (!includeTypes && /^type\s/.test(clause)) continue; // import type ... / export type ...
    const braces = clause.match(/^\{([\s\S]*)\}$/);
    if (braces && !includeTypes) {
      const names = braces[1].split(',').map((s) => s.trim()).filter(Boolean);
      if (names.length > 0 && names.every((n) => n.startsWith('type '))) continue; // only `type X` specifiers
    }
    found.push({ spec: m[3], line: text.slice(0, m.index + m[0].search(/\S/)).split('\n').length });
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ spec: m[1], line: text.slice(0, m.index).split('\n').length });
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ spec: m[1], line: text.slice(0, m.index).split('\n').length });
  return found
    .filter((i) => i.spec.startsWith('.'))
    .map((i) => ({ ...i, target: resolve(dirname(file), i.spec.replace(/\.js$/, '.ts')) }));
}

const files = walk(srcDir);
const known = new Set(files);
const graph = new Map();
const problems = [];
for (const file of files) {
  const from = layerOf(file);
  const edges = [];
  for (const imp of valueImports(file)) {
    if (!known.has(imp.target)) continue; // a non-TS asset or an unresolved path: tsc reports those
    edges.push(imp.target);
    const to = layerOf(imp.target);
    if (from === to || from === 'root' || !(from in ALLOWED)) continue; // unknown folders are reported once below
    if (to === 'root' || !(ALLOWED[from] ?? []).includes(to)) {
      problems.push(`${relative(srcDir, file)}:${imp.line}: upward import of ${relative(srcDir, imp.target)} (${from} may not import ${to})`);
    }
  }
  graph.set(file, edges);
}
for (const layer of new Set(files.map(layerOf))) {
  if (!(layer in ALLOWED) && layer !== 'root') {
    problems.push(`src/${layer}/: not a known layer (move its files into the layers, or add it to ALLOWED in scripts/check-layers.mjs)`);
  }
}

// Import cycles: strongly connected components of more than one file (Tarjan, iterative enough for src/).
let index = 0;
const idx = new Map(), low = new Map(), onStack = new Set(), stack = [];
function strongConnect(v) {
  idx.set(v, index); low.set(v, index); index++;
  stack.push(v); onStack.add(v);
  for (const w of graph.get(v)) {
    if (!idx.has(w)) { strongConnect(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1 || graph.get(v).includes(v)) {
      problems.push(`import cycle: ${comp.map((f) => relative(srcDir, f)).sort().join(' <-> ')}`);
    }
  }
}
for (const v of graph.keys()) if (!idx.has(v)) strongConnect(v);

if (problems.length > 0) {
  for (const p of problems) console.log(p);
  console.log(`check-layers: ${problems.length} problem(s) in ${relative(process.cwd(), srcDir) || '.'}; move the code down a layer or import a type only`);
  process.exit(1);
}
console.log(`check-layers: ${files.length} files, layers and cycles clean`);
