/** All architectures (importing this registers them) and the shared model types. */
import './gpt2.js';
import './mamba2.js';
import './lstm.js';

export * from './types.js';
export * from './registry.js';
export { GPT2, type GPT2Config } from './gpt2.js';
