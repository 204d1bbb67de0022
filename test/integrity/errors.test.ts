/** One-line errors: user errors as they are, file-system errors with path and next step, internal errors pointing at --debug. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { debugEnabled, describeFailure, UserError } from '../../src/util/errors.js';
import { readJson } from '../../src/util/files.js';

/** Runs the CLI in-process; returns the exit code and what went to stderr. */
async function cli(argv: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const code = await main(argv);
  return { code, err };
}

describe('error reporting', () => {
  afterEach(() => vi.restoreAllMocks());

  it('file-system errors name the path and a next step; internal errors point at --debug; --debug shows the stack', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y.json'"), { code: 'ENOENT', path: '/x/y.json', syscall: 'open' });
    expect(describeFailure(enoent, false)).toBe('/x/y.json: no such file or directory (ENOENT in open); check the path');
    const bug = new TypeError('Cannot read properties of undefined');
    expect(describeFailure(bug, false)).toBe('internal error: Cannot read properties of undefined (rerun with --debug for the stack trace, and please report it)');
    expect(describeFailure(bug, true)).toContain('at '); // the stack
    expect(describeFailure(new UserError('a.cha: bad\nsecond line'), true)).toBe('a.cha: bad; second line');
    expect(debugEnabled(['train', '--debug'])).toBe(true);
    vi.stubEnv('GROUNDLAB_DEBUG', '1');
    expect(debugEnabled([])).toBe(true);
    vi.stubEnv('GROUNDLAB_DEBUG', '0');
    expect(debugEnabled([])).toBe(false);
    vi.unstubAllEnvs();
  });

  it('a damaged JSON file is a user error naming it', () => {
    const p = join(mkdtempSync(join(tmpdir(), 'gl-json-')), 'manifest.json');
    writeFileSync(p, '{"status": "comp');
    expect(() => readJson(p)).toThrow(UserError);
    expect(() => readJson(p)).toThrow(new RegExp(`${p} is not valid JSON .*restore it`));
  });

  it('the CLI prints one line and exits 1 for a missing corpus and for --out naming a file; --debug is accepted anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-cli-'));
    let r = await cli(['train', '--corpus', join(dir, 'nope'), '--out', join(dir, 'run'), '--debug']);
    expect(r.code).toBe(1);
    expect(r.err.length).toBe(1);
    expect(r.err[0]).toMatch(/^groundlab train: .*nope/);
    expect(r.err[0]).not.toMatch(/\n\s+at /);
    vi.restoreAllMocks();
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const { writeToyCorpus } = await import('../helpers/toy-corpus.js');
    r = await cli(['train', '--corpus', writeToyCorpus(), '--out', file, '--preset', 'tiny', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`groundlab train: ${file} exists and is not a directory; choose another output path or move that file away`]);
  });
});

describe('damaged corpus files', () => {
  it('vocab.json and items.jsonl damage: user errors naming the file (and line)', async () => {
    const { writeToyCorpus } = await import('../helpers/toy-corpus.js');
    const { loadCorpus, loadItems } = await import('../../src/data/contract.js');
    const dir = writeToyCorpus();
    writeFileSync(join(dir, 'vocab.json'), '["<pad>", "<unk"');
    expect(() => loadCorpus(dir)).toThrow(new RegExp(`${join(dir, 'vocab.json')} is not valid JSON`));
    writeFileSync(join(dir, 'items.jsonl'), '{"id": 1}\n{"id": 2\n');
    expect(() => loadItems(dir)).toThrow(UserError);
    expect(() => loadItems(dir)).toThrow(`${join(dir, 'items.jsonl')}:2 is not valid JSON`);
  });
});
