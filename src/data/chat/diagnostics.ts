/**
 * Diagnostics: every problem found while reading CHAT or building a corpus is recorded with the
 * file, the line and a stable code, and the work goes on (best effort, never crash a corpus: the
 * lesson of pylangacq #23/#25, where one misaligned tier aborted a whole file).
 */

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  /** Display path of the input file (relative to its input root, or `archive.zip:entry`). */
  file: string;
  /** 1-based line number; 0 when the problem concerns the whole file. */
  line: number;
  code: DiagnosticCode;
  severity: Severity;
  message: string;
}

/** Every code the reader and builder can emit, with what it means and what happens next. */
export const DIAGNOSTIC_CODES = {
  'unreadable-file': { severity: 'error', meaning: 'the file could not be read or decoded; it is skipped' },
  'invalid-utf8': { severity: 'warning', meaning: 'a line that is not valid UTF-8; its tier is skipped (a main tier with its dependent tiers), no byte is replaced' },
  'binary-file': { severity: 'error', meaning: 'the file is not text (NUL bytes); it is skipped' },
  'empty-file': { severity: 'error', meaning: 'no header and no main tier found; the file is skipped' },
  'missing-begin': { severity: 'warning', meaning: '@Begin is missing' },
  'missing-end': { severity: 'warning', meaning: '@End is missing' },
  'content-after-end': { severity: 'warning', meaning: 'lines after @End are still read' },
  'orphan-continuation': { severity: 'warning', meaning: 'a tab-continued line with no line before it; ignored' },
  'orphan-dependent-tier': { severity: 'warning', meaning: 'a dependent tier before any main tier; ignored' },
  'malformed-main-tier': { severity: 'error', meaning: 'a line starting with * that is not "*SPK:\\ttext"; ignored' },
  'malformed-dependent-tier': { severity: 'warning', meaning: 'a line starting with % that is not "%tier:\\ttext"; ignored' },
  'unrecognised-line': { severity: 'warning', meaning: 'a line that is not a header, tier or continuation; ignored' },
  'duplicate-tier': { severity: 'warning', meaning: 'the same dependent tier twice on one utterance; both are kept' },
  'undeclared-speaker': { severity: 'warning', meaning: 'a speaker code not listed in @Participants; the utterance is kept' },
  'unterminated-bullet': { severity: 'warning', meaning: 'a media bullet (\\x15) without its closing mark; the mark is dropped' },
  'empty-utterance': { severity: 'error', meaning: 'a main tier with no content; the utterance is skipped' },
  'unclosed-annotation': { severity: 'error', meaning: 'a "[" without "]" on a main tier; the utterance is skipped' },
  'unbalanced-group': { severity: 'warning', meaning: 'a "<" or ">" without its partner on a main tier; repaired (unmatched ">" ignored, open groups closed at the end)' },
  'template-missing-word': { severity: 'warning', meaning: 'a template whose LAN (or ENV) text lacks the target word; skipped' },
  'template-unknown-word': { severity: 'info', meaning: 'a template word that is not a target word of this corpus; skipped' },
  'target-not-in-vocab': { severity: 'warning', meaning: 'a requested target word never occurs in the training split' },
  'target-env-unseen': { severity: 'warning', meaning: 'a target of the paper\'s list whose ENV form occurs fewer than min_env_seen times in the training split; left out of the targets and mismatches' },
} as const satisfies Record<string, { severity: Severity; meaning: string }>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** Collects diagnostics for one file; `report` fills in the file and the code's severity. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  constructor(readonly file: string) {}

  report(line: number, code: DiagnosticCode, message: string): void {
    this.items.push({ file: this.file, line, code, severity: DIAGNOSTIC_CODES[code].severity, message });
  }
}
