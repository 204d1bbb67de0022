/**
 * groundlab CLI entry: `groundlab <group> [<sub>] [options]`.
 * Command groups are loaded lazily so that `groundlab corpus ...` never loads the engine's addon.
 */
import { debugEnabled, describeFailure } from '../util/errors.js';
import { type CommandSpec, UsageError, helpText, parseOptions } from './command.js';

type Loader = () => Promise<{ commands: CommandSpec<any>[] }>;

/** One line per command group; each module exports `commands`. */
const groups: Record<string, { summary: string; load: Loader }> = {
  corpus: { summary: 'build, inspect and synthesise grounded corpora', load: () => import('./commands/corpus.js') },
  train: { summary: 'train one model from scratch on a corpus', load: () => import('./commands/train.js') },
  presets: { summary: 'list the size and schedule presets', load: () => import('./commands/train.js') },
  import: { summary: 'import a Hugging Face checkpoint as a run', load: () => import('./commands/train.js') },
  eval: { summary: 'evaluate grounding (matched vs mismatched surprisal, G, tests, co-occurrence R²) of a run or study', load: () => import('./commands/eval.js') },
  analyze: { summary: 'mechanistic suite of a run or study: saliency flow, tuned lens, aggregate heads and ablation', load: () => import('./commands/analyze.js') },
  explore: { summary: 'write a live explorer page that runs your checkpoints in the browser (no server)', load: () => import('./commands/explore.js') },
  report: { summary: 'write a study\'s self-contained HTML report', load: () => import('./commands/report.js') },
  reproduce: { summary: 'the whole study of a preset: corpus, training, evaluation, report (resumable, shardable)', load: () => import('./commands/reproduce.js') },
  visdial: { summary: 'visual dialog (VisDial, COCO): caption- and image-grounded corpora, image features', load: () => import('./commands/visdial.js') },
};

function topHelp(): string {
  const lines = ['groundlab: watch symbol grounding emerge inside small language models', '', 'Usage: groundlab <command> [options]   (add --help to any command; --debug or GROUNDLAB_DEBUG=1 for stack traces of internal errors)', '', 'Commands:'];
  for (const [name, g] of Object.entries(groups)) lines.push(`  ${name.padEnd(12)}${g.summary}`);
  return lines.join('\n');
}

export async function main(argvIn: string[]): Promise<number> {
  // --debug (anywhere) or GROUNDLAB_DEBUG=1: stack traces for internal errors; otherwise one line.
  const debug = debugEnabled(argvIn);
  const argv = argvIn.filter((a) => a !== '--debug');
  const [groupName, ...rest] = argv;
  if (!groupName || groupName === '--help' || groupName === '-h' || groupName === 'help') {
    console.log(topHelp());
    return 0;
  }
  if (groupName === '--version') {
    const { codeVersion } = await import('../util/version.js');
    console.log(codeVersion());
    return 0;
  }
  const group = groups[groupName];
  if (!group) {
    console.error(`groundlab: unknown command "${groupName}"\n\n${topHelp()}`);
    return 2;
  }
  let commands: CommandSpec<any>[];
  try {
    ({ commands } = await group.load());
  } catch (err) {
    console.error(`groundlab ${groupName}: ${describeFailure(err, debug)}`);
    return 1;
  }
  // Longest command name that prefixes argv wins: "corpus build" before "corpus".
  const words = [groupName, ...rest];
  let chosen: CommandSpec<any> | undefined;
  let used = 0;
  for (const c of commands) {
    const cw = c.name.split(' ');
    if (cw.every((w, i) => words[i] === w) && cw.length > used) {
      chosen = c;
      used = cw.length;
    }
  }
  if (!chosen && (words.length === 1 || ['--help', '-h', 'help'].includes(words[1]!))) {
    console.log(`groundlab ${groupName}: ${group.summary}\n\n` + commands.map((c) => `  groundlab ${c.name.padEnd(24)}${c.summary}`).join('\n') + '\n\n(add --help to a command for its options)');
    return 0;
  }
  if (!chosen) {
    console.error(`groundlab: unknown ${groupName} command "${words.slice(1).join(' ')}". Available:\n` + commands.map((c) => `  groundlab ${c.name.padEnd(24)}${c.summary}`).join('\n'));
    return 2;
  }
  const args = words.slice(used);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(helpText(chosen));
    return 0;
  }
  try {
    const opts = parseOptions(chosen, args);
    await chosen.run(opts);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`groundlab: ${err.message}`);
      return 2;
    }
    console.error(`groundlab ${chosen.name}: ${describeFailure(err, debug)}`);
    return 1;
  }
}
