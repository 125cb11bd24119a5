import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { FEEDS, qualifiedName, quoteIdent } from '../../engine/feeds.ts';
import { ingestPath, type BatchReport } from '../../ingest/index.ts';
import { freshStore, sampleRows, sumYuan, writeCsv, type Row } from './helpers.ts';

describe('canonical files of every table', () => {
  let store: Store;
  let dir: string;
  const files = new Map<string, Row[]>();
  let reports: BatchReport[];

  beforeAll(async () => {
    ({ store, dir } = await freshStore());
    const feeds = join(dir, 'feeds');
    mkdirSync(feeds);
    // Written in reverse so the folder order cannot come from the write order.
    for (const t of [...FEEDS].reverse()) {
      const rows = sampleRows(t, 60, t.name.length);
      files.set(t.name, rows);
      writeCsv(join(feeds, `${t.name}.csv`), t.columns.map((c) => c.name), rows);
    }
    reports = await ingestPath(store, feeds);
  });
  afterAll(async () => {
    await store.close();
  });

  it('loads the folder in dependency order: reference tables first, indicators before payments', () => {
    expect(reports.map((r) => r.table)).toEqual(FEEDS.map((f) => f.name));
    expect(reports.every((r) => r.status === 'committed')).toBe(true);
  });

  for (const t of FEEDS) {
    it(`${t.name}: every row, and the money to the fen`, async () => {
      const rows = files.get(t.name)!;
      const r = reports.find((x) => x.table === t.name)!;
      expect(r).toMatchObject({ status: 'committed', rows_read: rows.length, accepted: rows.length, rejected: 0, inserted: rows.length });
      const money = t.columns.filter((c) => c.type === 'money');
      const sums = money.map((c) => `CAST(sum(${quoteIdent(c.name)}) AS VARCHAR) AS ${quoteIdent(c.name)}`);
      const got = await store.one(`SELECT count(*) AS n${sums.map((s) => `, ${s}`).join('')} FROM ${qualifiedName(t)}`);
      expect(got?.n).toBe(String(rows.length));
      for (const c of money) {
        const expected = sumYuan(rows.map((x) => x[c.name]).filter((v) => v !== ''));
        expect(got?.[c.name], c.name).toBe(expected);
        expect(r.control_sums[c.name], `control total ${c.name}`).toBe(expected);
      }
      expect(r.control_sums.count).toBe(String(rows.length));
    });
  }

  it('keeps codes as strings with their leading zeros', async () => {
    const rows = files.get('ref.agencies')!;
    const got = await store.all<{ agency_code: string; dept_code: string }>(
      'SELECT agency_code, dept_code FROM ref.agencies ORDER BY agency_code',
    );
    expect(got.map((g) => g.agency_code)).toEqual(rows.map((r) => r.agency_code).sort());
    expect(got.every((g) => g.dept_code.startsWith('0'))).toBe(true);
  });

  it('records each batch with its SHA-256, format and encoding', async () => {
    const rows = await store.all<{ table_name: string; sha256: string; format: string; encoding: string; status: string }>(
      "SELECT table_name, sha256, format, encoding, status FROM fiscus.batches WHERE status = 'committed'",
    );
    expect(rows).toHaveLength(FEEDS.length);
    for (const r of rows) {
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(r.format).toBe('csv');
      expect(r.encoding).toBe('utf-8');
    }
  });

  it('refreshes the working-day calendar after ref.calendar', async () => {
    const rows = files.get('ref.calendar')!;
    const first = rows[0];
    const day = await store.one<{ is_workday: boolean; source: string }>(
      'SELECT is_workday, source FROM fiscus.calendar_days WHERE day = $d::DATE',
      { d: first.date },
    );
    expect(day).toEqual({ is_workday: first.kind === 'workday', source: 'ref.calendar' });
  });

  it('loads the shared sample dataset cleanly', async () => {
    const sample = join(import.meta.dirname, '../../fixtures/sample');
    if (!existsSync(join(sample, 'treasury.payments.csv'))) return; // owned by the fixtures engineer
    const { store: s2 } = await freshStore();
    try {
      const rs = await ingestPath(s2, sample);
      expect(rs.filter((r) => r.status !== 'committed').map((r) => `${r.source}: ${r.message}`)).toEqual([]);
      expect(rs.every((r) => r.rejected === 0 && r.accepted === r.rows_read)).toBe(true);
    } finally {
      await s2.close();
    }
  });
});
