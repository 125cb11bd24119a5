/**
 * One lock for read-decide-write sequences (issue 10, "the store's lock is advisory"): an
 * ingest, a tracker action and a deadline scan started at the same time in one process run
 * one after the other, never interleaved. Before, the ingest took no lock, the tracker its
 * own and the API a third, so the action decided (and wrote) in the middle of the batch.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestPath } from '../../ingest/index.ts';
import { performAction, scanDeadlines } from '../../tracker/index.ts';
import { freshStore, PAYMENT_HEADER, payment, toCsv } from '../ingest/helpers.ts';
import { insertFlags } from '../tracker/helpers.ts';

describe('the Store’s exclusive section across ingest, tracker and scan', () => {
  it('a tracker action and a deadline scan started during an ingest wait for its batch, and the next one waits for them', async () => {
    const { store, dir } = await freshStore();
    try {
      await insertFlags(store, [{ flag_id: 'F1' }, { flag_id: 'F2' }, { flag_id: 'F3' }]);
      // F2 is assigned and overdue: the scan has an event to append.
      await store.run("UPDATE fiscus.flags SET status = 'assigned', assigned_to = '0101', due_date = DATE '2026-01-05' WHERE flag_id = 'F2'");
      // A batch with rejected rows takes the full path: many statements, each a chance to interleave.
      const rows = Array.from({ length: 8_000 }, (_, i) => payment(`P${i}`, i % 499 === 0 ? { amount: 'not money' } : {}));
      const file = join(dir, 'treasury.payments.csv');
      writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
      const file2 = join(dir, 'second', 'treasury.payments.csv');
      mkdirSync(join(dir, 'second'));
      writeFileSync(file2, toCsv(PAYMENT_HEADER, rows.slice(0, 1_000).map((r) => ({ ...r, payment_id: `Q${r.payment_id}` }))));

      const phases: { phase: string; t: number }[] = [];
      let reading!: () => void;
      const inBatch = new Promise<void>((r) => (reading = r));
      const ingest = ingestPath(store, file, {
        onProgress: (e) => {
          phases.push({ phase: e.phase, t: Date.now() });
          if (e.phase === 'read') reading();
        },
      });
      await inBatch;
      // Both start while the batch is being read, validated and written.
      const action = performAction(store, 'F1', { action: 'confirm' }, { name: 'sup', role: 'supervisor' });
      const scan = scanDeadlines(store, { today: '2026-03-02' });
      const dismiss = performAction(store, 'F3', { action: 'dismiss', note: 'not a finding' }, { name: 'sup', role: 'supervisor' });
      // A second ingest asked for after them runs after them.
      const later = ingestPath(store, file2);
      const [[report], acted, scanned, dismissed, [report2]] = await Promise.all([ingest, action, scan, dismiss, later]);

      expect(report).toMatchObject({ status: 'committed' });
      expect(report!.rejected).toBeGreaterThan(0);
      const batchEnd = Date.parse(report!.finished_at!);
      expect(phases.at(-1)!.phase).toBe('done');
      // Each decided (its clock, its reads) only once the batch had committed.
      expect(acted.event.at_ms).toBeGreaterThanOrEqual(batchEnd);
      expect(scanned.overdue.map((e) => e.flag_id)).toEqual(['F2']);
      expect(scanned.overdue[0]!.at_ms).toBeGreaterThanOrEqual(acted.event.at_ms);
      expect(dismissed.event.at_ms).toBeGreaterThanOrEqual(scanned.overdue[0]!.at_ms);
      // Ingest, action, scan, dismiss, ingest: the order they were asked for, none inside another.
      expect(Date.parse(report2!.started_at)).toBeGreaterThanOrEqual(dismissed.event.at_ms);
      const seqs = [acted.event.seq, scanned.overdue[0]!.seq, dismissed.event.seq];
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      // Nothing of the batch was lost to the other callers' transactions.
      const q = await store.one<{ n: string }>('SELECT count(*) AS n FROM fiscus.quarantine WHERE batch_id = $b', { b: report!.batch_id });
      expect(Number(q!.n)).toBe(report!.rejected);
      const n = await store.one<{ n: string }>('SELECT count(*) AS n FROM treasury.payments');
      expect(Number(n!.n)).toBe(report!.accepted + report2!.accepted);
    } finally {
      await store.close();
    }
  });

  it('quarantine rows survive refused tracker actions running meanwhile (the silent rollback of issue 10)', async () => {
    // Before: the quarantine's appender wrote on the Store's connection while a refused action's
    // transaction was open on it; the refusal rolled the rows back, and the batch reported 60
    // rejected rows with 0 in the quarantine (every round, on the old code).
    const { store, dir } = await freshStore();
    try {
      await insertFlags(store, [{ flag_id: 'F1' }]);
      const lost: string[] = [];
      let refused = 0;
      for (let round = 0; round < 4; round++) {
        const rows = Array.from({ length: 1500 }, (_, i) => payment(`R${round}-${i}`, i % 25 === 0 ? { amount: 'bad' } : {}));
        mkdirSync(join(dir, `r${round}`));
        const file = join(dir, `r${round}`, 'treasury.payments.csv');
        writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
        let done = false;
        const ingest = ingestPath(store, file).finally(() => (done = true));
        const refusals = (async () => {
          while (!done) {
            // 'verify' on a discovered flag is refused inside the action's transaction, which rolls back.
            await performAction(store, 'F1', { action: 'verify' }, { name: 'sup', role: 'supervisor' }).then(
              () => {
                throw new Error('verify of a discovered flag was accepted');
              },
              (err: { code?: string }) => {
                expect(err.code).toBe('ILLEGAL_TRANSITION');
                refused++;
              },
            );
          }
        })();
        const [[report]] = await Promise.all([ingest, refusals]);
        const q = await store.one<{ n: string }>('SELECT count(*) AS n FROM fiscus.quarantine WHERE batch_id = $b', { b: report!.batch_id });
        if (Number(q!.n) !== report!.rejected) lost.push(`round ${round}: rejected ${report!.rejected}, quarantined ${q!.n}`);
      }
      expect(refused).toBeGreaterThan(0);
      expect(lost).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
