/** All architectures (importing this registers them) and the shared model types. */
import './gpt2.js';
import './mamba2.js';
import './lstm.js';

export * from './types.js';
export * from './registry.js';
export { GPT2, GPT2_HOOKS, type GPT2Config } from './gpt2.js';
export { MAMBA2_HOOKS } from './mamba2.js';
export { LSTM_HOOKS } from './lstm.js';
export { HOOK_NAMES, HookPattern, hookNames, renderHookTable, type HookName, type ModelHooks } from './hooks.js';

import { renderHookTable } from './hooks.js';
import { archEntry, availableArchs } from './registry.js';

/** README's hook table: every hook point of every registered architecture, with its role, shape and meaning there. */
export function hookTable(): string {
  return renderHookTable(Object.fromEntries(availableArchs().map((a) => [a, archEntry(a).hooks])));
}
