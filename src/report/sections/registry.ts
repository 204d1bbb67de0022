/**
 * The study report's section types and registry. They live apart from study-report.ts, which
 * imports the built-in sections, so that a section imports its types from here and no report file
 * imports a file that imports it back.
 */
import type { CorpusStats } from '../../data/build.js';
import type { TargetsFile } from '../../data/contract.js';
import type { StudyAggregate } from '../../study/study.js';
import type { TopLevelSpec } from '../charts.js';
import type { ReportBuilder } from '../html.js';

export interface SyntheticTruth {
  kind: 'groundlab-synthetic-world';
  seed: number;
  words: { word: string; level: string; category: string; params: { p_mention: number } }[];
}

export interface StudyReportContext {
  /** Study directory. */
  dir: string;
  agg: StudyAggregate;
  builder: ReportBuilder;
  /** Renders a Vega-Lite spec to SVG (warnings are collected in `warnings`). */
  svg(spec: TopLevelSpec): Promise<string>;
  /** Item set shown in the main figures: corpus items when present, else template items. */
  primaryItems: string;
  labels: string[];
  /** Last evaluated step of a label (for the primary item set). */
  lastStep(label: string): number | undefined;
  corpusDir: string;
  stats: CorpusStats | null;
  targets: TargetsFile | null;
  truth: SyntheticTruth | null;
  /** Ids of sections that rendered nothing (filled while the page is built). */
  empty: string[];
  warnings: string[];
}

export interface StudyReportSection {
  id: string;
  title: string;
  order: number;
  /** Draws the section; returns false when there is nothing to show (then nothing may be drawn). */
  render(ctx: StudyReportContext): Promise<boolean | void>;
}

const registry = new Map<string, StudyReportSection>();

/** Adds a section, or replaces the section with the same id (e.g. an extension slot). */
export function registerStudyReportSection(s: StudyReportSection): void {
  registry.set(s.id, s);
}

/** Sections in page order (built-ins and registered ones). */
export function studyReportSections(): StudyReportSection[] {
  return [...registry.values()].sort((a, b) => a.order - b.order);
}

