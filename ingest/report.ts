/** The batch report: ids, the fiscus.batches row, and the messages a clerk reads. */
import { randomBytes } from 'node:crypto';
import type { Store } from '../engine/db.ts';
import type { BatchReport } from './types.ts';

export function newBatchId(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `B${ts}-${randomBytes(3).toString('hex')}`;
}

export function emptyReport(job: { source: string; sourceKind: 'file' | 'http' }, batchId = newBatchId()): BatchReport {
  const now = new Date().toISOString();
  return {
    batch_id: batchId,
    table: '',
    source: job.source,
    source_kind: job.sourceKind,
    format: null,
    encoding: null,
    sha256: null,
    mapping: null,
    status: 'failed',
    message: '',
    rows_read: 0,
    accepted: 0,
    rejected: 0,
    inserted: 0,
    corrected: 0,
    unchanged: 0,
    control_sums: {},
    started_at: now,
    finished_at: now,
  };
}

export async function writeBatchRow(store: Store, r: BatchReport): Promise<void> {
  await store.run(
    `INSERT INTO fiscus.batches (batch_id, table_name, source, source_kind, format, encoding, sha256, mapping, status,
       message, rows_read, accepted, rejected, inserted, corrected, unchanged, control_sums, started_at, finished_at)
     VALUES ($batch_id, $table_name, $source, $source_kind, $format, $encoding, $sha256, $mapping, $status, $message,
       $rows_read, $accepted, $rejected, $inserted, $corrected, $unchanged, $control_sums::JSON,
       $started_at::TIMESTAMPTZ, $finished_at::TIMESTAMPTZ)`,
    {
      batch_id: r.batch_id,
      table_name: r.table,
      source: r.source,
      source_kind: r.source_kind,
      format: r.format,
      encoding: r.encoding,
      sha256: r.sha256,
      mapping: r.mapping,
      status: r.status,
      message: r.message,
      rows_read: r.rows_read,
      accepted: r.accepted,
      rejected: r.rejected,
      inserted: r.inserted,
      corrected: r.corrected,
      unchanged: r.unchanged,
      control_sums: JSON.stringify(r.control_sums),
      started_at: r.started_at,
      finished_at: r.finished_at,
    },
  );
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function committedMessage(r: BatchReport, notes: string[]): string {
  const parts = [`committed: ${r.inserted} inserted, ${r.corrected} corrected, ${r.unchanged} unchanged`];
  if (r.rejected > 0) parts.push(`${r.rejected} rejected, see \`fiscus quarantine --batch ${r.batch_id}\``);
  parts.push(...notes);
  const zh = `已导入：新增${r.inserted}行，更正${r.corrected}行，未变${r.unchanged}行${r.rejected ? `，拒收${r.rejected}行` : ''}`;
  return `${parts.join('; ')} — ${zh}`;
}

