/** An error caused by the user's input (bad path, bad option, bad data): printed without a stack trace. */
export class UserError extends Error {
  readonly userFacing = true;
  override name = 'UserError';
}

/** Stack traces are for developers: shown with --debug or GROUNDLAB_DEBUG=1, never by default. */
export function debugEnabled(argv: readonly string[] = []): boolean {
  const env = process.env.GROUNDLAB_DEBUG;
  return argv.includes('--debug') || (env !== undefined && env !== '' && env !== '0' && env !== 'false');
}

const FS_REASONS: Record<string, [string, string]> = {
  ENOENT: ['no such file or directory', 'check the path'],
  EISDIR: ['is a directory where a file was expected', 'give a file path'],
  ENOTDIR: ['a part of this path is a file, not a directory', 'choose another path or move that file away'],
  EEXIST: ['already exists', 'choose another path or move it away'],
  EACCES: ['permission denied', 'check the file permissions or choose another path'],
  EPERM: ['operation not permitted', 'check the file permissions or choose another path'],
  ENOSPC: ['no space left on the device', 'free some space and rerun (finished work is kept)'],
  EROFS: ['the file system is read-only', 'choose a writable output path'],
  EMFILE: ['too many open files', 'raise the open-file limit (ulimit -n) and rerun'],
};

/**
 * The one line printed for a failed command: user errors as they are, file-system errors with
 * the path and a next step, anything else as an internal error pointing at --debug.
 */
export function describeFailure(err: unknown, debug: boolean): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (debug && e instanceof Error && !(e as { userFacing?: boolean }).userFacing) return e.stack ?? String(e);
  if (e instanceof Error && (e as { userFacing?: boolean }).userFacing) return firstLine(e.message);
  if (e && typeof e.code === 'string' && FS_REASONS[e.code]) {
    const [what, next] = FS_REASONS[e.code]!;
    const path = e.path ?? (e as { dest?: string }).dest;
    return `${path ?? e.syscall ?? 'a file'}: ${what} (${e.code}${e.syscall ? ` in ${e.syscall}` : ''}); ${next}`;
  }
  const msg = e instanceof Error ? e.message : String(err);
  return `internal error: ${firstLine(msg)} (rerun with --debug for the stack trace, and please report it)`;
}

function firstLine(s: string): string {
  return s.includes('\n') ? s.split('\n').map((l) => l.trim()).filter(Boolean).join('; ') : s;
}
