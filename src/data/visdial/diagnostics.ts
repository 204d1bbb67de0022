/**
 * Diagnostics of the visual-dialog readers and builders: the same shape as the CHAT diagnostics
 * (file, line, code, severity, message) so diagnostics.jsonl reads alike, plus `record`, the JSON
 * path of the offending record (e.g. `data.dialogs[12].dialog[3].answer`). A malformed record is
 * reported and skipped; a malformed file (not JSON, no `data.dialogs`) is a UserError.
 */
import type { Severity } from '../chat/diagnostics.js';

export const VISUAL_DIAGNOSTIC_CODES = {
  'malformed-dialog': { severity: 'error', meaning: 'a dialog record without a usable image_id, caption or dialog array; the dialog is skipped' },
  'malformed-round': { severity: 'error', meaning: 'a round whose question or answer is not a valid index into data.questions / data.answers (or a string); the dialog is skipped' },
  'round-without-answer': { severity: 'info', meaning: 'a round with a question and no answer (the last round of VisDial test dialogs); the question is kept' },
  'duplicate-dialog': { severity: 'info', meaning: 'a dialog identical to one already read (same image, caption and rounds, e.g. in two files); the copy is skipped' },
  'conflicting-dialog': { severity: 'warning', meaning: 'two different dialogs for the same image; both are kept' },
  'malformed-caption': { severity: 'error', meaning: 'a COCO annotation without an integer image_id and a string caption; skipped' },
  'caption-without-image': { severity: 'warning', meaning: 'a COCO caption whose image_id is not listed in "images"; the caption is kept' },
  'empty-text': { severity: 'warning', meaning: 'a caption, question or answer with no words after tokenisation' },
  'no-features': { severity: 'warning', meaning: 'an image of the text data has no entry in the features file; its sequences are left out of the image-grounded corpus' },
  'target-not-in-vocab': { severity: 'warning', meaning: 'a requested target word never occurs in the training split' },
  'no-mismatch-source': { severity: 'warning', meaning: 'a mismatch word with no caption or image to take the mismatched environment from; another word is drawn' },
} as const satisfies Record<string, { severity: Severity; meaning: string }>;

export type VisualDiagnosticCode = keyof typeof VISUAL_DIAGNOSTIC_CODES;

export interface VisualDiagnostic {
  file: string;
  /** Always 0: JSON inputs have records, not lines (see `record`). */
  line: number;
  record: string;
  code: VisualDiagnosticCode;
  severity: Severity;
  message: string;
}

export class VisualDiagnostics {
  readonly items: VisualDiagnostic[] = [];

  report(file: string, record: string, code: VisualDiagnosticCode, message: string): void {
    this.items.push({ file, line: 0, record, code, severity: VISUAL_DIAGNOSTIC_CODES[code].severity, message });
  }
}
