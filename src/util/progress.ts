/**
 * A dependency-free progress bar on stderr. On a TTY it redraws one line; otherwise (CI, logs) it
 * prints a line at most every `logEveryMs` so long jobs still show life without flooding logs.
 */
export interface ProgressOptions {
  total: number;
  label: string;
  /** Unit shown after the counts, e.g. "steps", "files". */
  unit?: string;
  logEveryMs?: number;
  /** Silence all output (tests). Also silenced by GROUNDLAB_QUIET=1. */
  quiet?: boolean;
  /** Work already done before this process started (a resumed run): the rate and eta count only what this process did. */
  start?: number;
}

export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private current = 0;
  private extra = '';
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly quiet: boolean;
  private finalShown = false;

  constructor(private readonly opts: ProgressOptions) {
    this.quiet = opts.quiet ?? process.env.GROUNDLAB_QUIET === '1';
  }

  /** Seconds left at the rate this process has worked so far (0 when unknown or finished). */
  etaSeconds(): number {
    const doneHere = this.current - (this.opts.start ?? 0);
    const left = this.opts.total - this.current;
    return doneHere > 0 && left > 0 ? (((Date.now() - this.start) / 1000) / doneHere) * left : 0;
  }

  /** Sets the absolute position and an optional status text (e.g. "loss 3.21 · 12.3k tok/s"). */
  update(current: number, extra?: string): void {
    this.current = current;
    if (extra !== undefined) this.extra = extra;
    const now = Date.now();
    const every = this.tty ? 100 : (this.opts.logEveryMs ?? 10_000);
    const atEnd = current >= this.opts.total;
    if (now - this.last >= every || (atEnd && !this.finalShown)) {
      this.last = now;
      this.finalShown = atEnd;
      this.render(false);
    }
  }

  tick(n = 1, extra?: string): void {
    this.update(this.current + n, extra);
  }

  done(extra?: string): void {
    const changed = extra !== undefined && extra !== this.extra;
    if (extra !== undefined) this.extra = extra;
    // On a TTY the last line needs its newline; in logs, don't repeat a final line already printed.
    if (this.tty || !this.finalShown || changed || this.current < this.opts.total) this.render(true);
    this.finalShown = true;
  }

  private render(final: boolean): void {
    if (this.quiet) return;
    const { total, label, unit = '' } = this.opts;
    const frac = total > 0 ? Math.min(1, this.current / total) : 1;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = this.etaSeconds();
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const text = `${label} ${bar} ${this.current}/${total} ${unit} ${fmtTime(elapsed)}${eta ? ` eta ${fmtTime(eta)}` : ''}${this.extra ? ' · ' + this.extra : ''}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else process.stderr.write(text + '\n');
  }
}

function fmtTime(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
