/**
 * Architectures by name: how to build one from a config, its default config, and how to read
 * its config back from a checkpoint. Each model file registers itself; import models/index.js
 * to get all of them.
 */
import type { ModelHooks } from './hooks.js';
import type { Arch, LanguageModel } from './types.js';

export interface ArchEntry<C = any> {
  arch: Arch;
  defaults: C;
  create(config: C): LanguageModel<C>;
  /** Config fields that may be overridden from the CLI (`--model.<field>=...`). */
  describe: Record<keyof C & string, string>;
  /** The architecture's hook points (the same map as every model's `hooks`). */
  hooks: ModelHooks;
}

const entries = new Map<Arch, ArchEntry>();

export function registerArch<C>(e: ArchEntry<C>): void {
  entries.set(e.arch, e);
}

export function archEntry(arch: Arch): ArchEntry {
  const e = entries.get(arch);
  if (!e) throw new Error(`unknown architecture "${arch}" (available: ${[...entries.keys()].join(', ')})`);
  return e;
}

export function availableArchs(): Arch[] {
  return [...entries.keys()];
}

/** Builds a model of `arch` from a (partial) config merged over the architecture's defaults. */
export function createModel(arch: Arch, config: Record<string, unknown>): LanguageModel {
  const e = archEntry(arch);
  const full = { ...e.defaults, ...config };
  for (const k of Object.keys(config)) {
    if (!(k in e.defaults)) throw new Error(`${arch} has no config field "${k}" (fields: ${Object.keys(e.defaults).join(', ')})`);
  }
  return e.create(full);
}

