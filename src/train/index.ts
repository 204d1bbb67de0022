/** Training: the trainer, presets and schedules, checkpoints, Hugging Face import. */
export * from './trainer.js';
export * from './config.js';
export * from './schedule.js';
export * from './checkpoint.js';
export * from './optim.js';
export * from './data.js';
export { importHfCheckpoint } from './hf-import.js';
