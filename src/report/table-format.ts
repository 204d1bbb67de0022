/**
 * Cell formats and column shorthands shared by the study report's tables (report/study-report.ts,
 * report/sections/mechanistic.ts, report/sections/visual-dialog.ts). Values come from the tidy tables, where
 * a missing number is an empty CSV field or NaN; both show as NA.
 */
import type { TableColumn } from './html.js';

/** A number with a fixed count of decimals, or NA when the value is empty or not a finite number. */
export function fixedOrNA(digits: number): (x: unknown) => string {
  return (x) => (x !== '' && Number.isFinite(Number(x)) ? Number(x).toFixed(digits) : 'NA');
}

/**
 * A p-value: three decimals, four below 0.001, exponent notation below 1e-4 with `expDigits`
 * digits after the point; NA when missing.
 */
export function formatP(p: unknown, expDigits = 1): string {
  const v = Number(p);
  if (p === '' || p === undefined || p === null || !Number.isFinite(v)) return 'NA';
  return v < 1e-4 ? v.toExponential(expDigits) : v < 0.001 ? v.toFixed(4) : v.toFixed(3);
}

/** The column of a study entry's label, headed "model". */
export const MODEL_COLUMN: TableColumn = { key: 'label', label: 'model' };

/** A right-aligned column of numbers with `digits` decimals each (NA when missing). */
export function fixedColumn(key: string, label: string, digits: number): TableColumn {
  return { key, label, format: fixedOrNA(digits), align: 'right' };
}

/** A right-aligned column of p-values (see formatP). */
export function pColumn(key: string, label: string, expDigits?: number): TableColumn {
  return { key, label, format: (p) => formatP(p, expDigits), align: 'right' };
}
