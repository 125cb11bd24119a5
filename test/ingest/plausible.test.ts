/**
 * Values that parse but cannot be meant (issue 10): a year 0, a timestamp in
 * a date column, a JSON object that says `amount` twice. Each is rejected
 * with its line, column, raw value and a reason, never silently reshaped.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { ingestPath, parseMappingProfile } from '../../ingest/index.ts';
import { PAYMENT_HEADER, freshStore, freshStoreForEachTest, payment, toCsv } from './helpers.ts';

type Q = { line: string; column_name: string | null; raw_value: string | null; reason: string };
const quarantine = (store: Store, b: string) =>
  store.all<Q>('SELECT CAST(line AS VARCHAR) AS line, column_name, raw_value, reason FROM fiscus.quarantine WHERE batch_id = $b ORDER BY line', { b });

describe('implausible values are rejected with a reason', () => {
  let store: Store;
  let dir: string;
  freshStoreForEachTest((s) => ({ store, dir } = s));

  const many = (n: number) => Array.from({ length: n }, (_, i) => payment(`OK${i}`));

  it('rejects years before 1900 or after 2100 (0000-01-01 is not 1 BC), in every date spelling', async () => {
    const file = join(dir, 'treasury.payments.csv');
    const rows = [
      payment('Y0', { pay_date: '0000-01-01' }),
      payment('Y1', { pay_date: '1899-12-31' }),
      payment('Y2', { pay_date: '2101-01-01' }),
      payment('Y3', { pay_date: '0001年3月1日' }),
      payment('Y4', { pay_date: '21010301' }),
      payment('Y5', { fiscal_year: '1850' }),
      payment('E1', { pay_date: '1900-01-01' }),
      payment('E2', { pay_date: '2100-12-31' }),
      ...many(200),
    ];
    writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
    const [r] = await ingestPath(store, file);
    expect(r).toMatchObject({ status: 'committed', rejected: 6, accepted: 202 });
    const q = await quarantine(store, r.batch_id);
    expect(q.slice(0, 5).map((x) => [x.line, x.column_name, x.raw_value])).toEqual([
      ['2', 'pay_date', '0000-01-01'],
      ['3', 'pay_date', '1899-12-31'],
      ['4', 'pay_date', '2101-01-01'],
      ['5', 'pay_date', '0001年3月1日'],
      ['6', 'pay_date', '21010301'],
    ]);
    for (const x of q.slice(0, 5)) expect(x.reason).toMatch(/implausible year \(allowed 1900–2100/);
    expect(q[5]).toMatchObject({ line: '7', column_name: 'fiscal_year', raw_value: '1850' });
    expect(q[5].reason).toMatch(/not a year between 1900 and 2100/);
    // The check's own SQL in the engine's dialect (PostgreSQL has no year()); ingest validates in DuckDB on both.
    expect(await store.one(`SELECT count(*)::INT AS n FROM treasury.payments WHERE ${store.dialect.year('pay_date')} < 1900`)).toEqual({ n: 0 });
    expect(await store.all("SELECT CAST(pay_date AS VARCHAR) AS d FROM treasury.payments WHERE payment_id IN ('E1','E2') ORDER BY 1")).toEqual([
      { d: '1900-01-01' },
      { d: '2100-12-31' },
    ]);
  });

  it('takes the plausible range from the profile', async () => {
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, [payment('OLD', { pay_date: '1890-05-01', fiscal_year: '1890' }), payment('NEW', { pay_date: '2025-03-03' })]));
    const profile = parseMappingProfile('years: { min: 1880, max: 2030 }\n', 'years.yaml');
    const [r] = await ingestPath(store, file, { mapping: profile });
    expect(r).toMatchObject({ status: 'committed', accepted: 2, rejected: 0 });
    const narrow = parseMappingProfile('years: { min: 2026 }\n', 'narrow.yaml');
    const [r2] = await ingestPath(store, file, { mapping: narrow, maxReject: 1 });
    expect(r2.rejected).toBe(2);
  });

  it('rejects a timestamp in a date column unless the profile takes its date', async () => {
    const file = join(dir, 'treasury.payments.csv');
    const rows = [
      payment('T1', { pay_date: '2025-03-03T10:00:00' }),
      payment('T2', { pay_date: '2025-03-04 00:00:00' }),
      payment('T3', { pay_date: '2025/03/05 9:30' }),
      ...many(100),
    ];
    writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
    const [r] = await ingestPath(store, file);
    expect(r).toMatchObject({ status: 'committed', rejected: 3 });
    const q = await quarantine(store, r.batch_id);
    expect(q.map((x) => [x.line, x.column_name, x.raw_value])).toEqual([
      ['2', 'pay_date', '2025-03-03T10:00:00'],
      ['3', 'pay_date', '2025-03-04 00:00:00'],
      ['4', 'pay_date', '2025/03/05 9:30'],
    ]);
    for (const x of q) expect(x.reason).toMatch(/is a timestamp, not a date \(set `timestamps: take_date`/);

    const { store: s2 } = await freshStore();
    try {
      const [r2] = await ingestPath(s2, file, { mapping: parseMappingProfile('timestamps: { pay_date: take_date }\n', 'ts.yaml') });
      expect(r2).toMatchObject({ status: 'committed', rejected: 0, accepted: 103 });
      expect(await s2.all("SELECT CAST(pay_date AS VARCHAR) AS d FROM treasury.payments WHERE payment_id LIKE 'T%' ORDER BY payment_id")).toEqual([
        { d: '2025-03-03' },
        { d: '2025-03-04' },
        { d: '2025-03-05' },
      ]);
    } finally {
      await s2.close();
    }
  });

  it('rejects a JSON Lines object with a key given twice, naming the key', async () => {
    const file = join(dir, 'treasury.payments.jsonl');
    const lines = many(60).map((p) => JSON.stringify(p));
    const dup = JSON.stringify(payment('DUP')).replace('"amount":"1000.00"', '"amount":"1000.00","amount":"99999.00"');
    expect(dup).toMatch(/"amount":"1000.00","amount":"99999.00"/);
    lines.splice(2, 0, dup);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const [r] = await ingestPath(store, file);
    expect(r).toMatchObject({ status: 'committed', rejected: 1, accepted: 60 });
    const q = await quarantine(store, r.batch_id);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ line: '3', column_name: 'amount', raw_value: dup });
    expect(q[0].reason).toMatch(/key "amount" appears more than once/);
    expect(await store.one("SELECT count(*)::INT AS n FROM treasury.payments WHERE payment_id = 'DUP'")).toEqual({ n: 0 });
  });
});
