/** The shapes the ingest library hands back to its callers (CLI, demo, bench, rule tests). */
import type { MappingProfile } from './mapping.ts';
import type { FeedFormat } from './source.ts';

export type BatchStatus = 'committed' | 'rolled_back' | 'noop' | 'failed';

/** What `fiscus ingest --dry-run` shows of a file: how it was read and mapped, its first rows and rejects. */
export interface BatchPreview {
  headers: string[];
  /** canonical column → where its value comes from. */
  mapping: Record<string, string>;
  /** Source headers kept in `extra`. */
  extra: string[];
  layout: string[];
  /** The first accepted rows, converted, in file order. */
  rows: Record<string, unknown>[];
  /** The first rejects: line, column, raw value, reason. */
  rejects: { line: number | null; column: string | null; raw: string | null; reason: string }[];
}

/** One batch = one file (or one HTTP pull): the report FEEDS.md asks for. */
export interface BatchReport {
  batch_id: string;
  /** `schema.table`, or '' when the table could not be determined. */
  table: string;
  source: string;
  source_kind: 'file' | 'http';
  format: FeedFormat | null;
  encoding: string | null;
  sha256: string | null;
  mapping: string | null;
  status: BatchStatus;
  message: string;
  rows_read: number;
  accepted: number;
  rejected: number;
  inserted: number;
  corrected: number;
  unchanged: number;
  /** `count` and the sum of every money column over accepted rows, as decimal strings. */
  control_sums: Record<string, string>;
  /** Rows that are not data (blank, comma-only, totals): skipped and counted, neither accepted nor rejected. */
  skipped?: number;
  /** Codes unknown to the reference tables, and similar things a clerk should look at. */
  warnings?: string[];
  /** Dry runs only. */
  preview?: BatchPreview;
  started_at: string;
  finished_at: string;
}

export type IngestPhase = 'hash' | 'read' | 'validate' | 'quarantine' | 'write' | 'done';

export interface ProgressEvent {
  source: string;
  phase: IngestPhase;
  /** 1-based position of this file among the files of the call, and how many there are. */
  index: number;
  total: number;
}

export interface IngestOptions {
  /** Target table (`--table`); otherwise from the mapping profile or the file name. */
  table?: string;
  mapping?: MappingProfile;
  /** Largest rejected share that still commits (default 0.05). */
  maxReject?: number;
  /** Force a format instead of guessing from the extension. */
  format?: FeedFormat;
  onProgress?: (e: ProgressEvent) => void;
  /** Log lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Keep a preview of the mapped rows and rejects in the report (dry runs; never takes the one-pass path). */
  preview?: { rows: number };
  /** Directory for temporary files (transcodes, downloads); default os.tmpdir(). */
  tmpDir?: string;
}

export const DEFAULT_MAX_REJECT = 0.05;
