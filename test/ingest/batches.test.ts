import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { ingestPath, parseMappingProfile } from '../../ingest/index.ts';
import { runCli } from '../helpers/cli.ts';
import { PAYMENT_HEADER, freshStore, payment, sampleRows, sumYuan, table, toCsv, type Row } from './helpers.ts';

type Q = { line: string | null; column_name: string | null; raw_value: string | null; reason: string };

function goodRows(n: number, prefix = 'P'): Row[] {
  return Array.from({ length: n }, (_, i) =>
    payment(`${prefix}${String(i + 1).padStart(4, '0')}`, { amount: `${(i + 1) * 100}.${String(i % 100).padStart(2, '0')}` }),
  );
}

describe('batches: what bad input gets', () => {
  let store: Store;
  let dir: string;
  let dbPath: string;

  beforeEach(async () => {
    ({ store, dir, dbPath } = await freshStore());
  });
  afterEach(async () => {
    await store.close();
  });

  async function quarantine(batch: string): Promise<Q[]> {
    return store.all<Q>(
      `SELECT line, column_name, raw_value, reason FROM fiscus.quarantine WHERE batch_id = $b ORDER BY ${store.dialect.rowid}`,
      { b: batch },
    );
  }

  it('keeps the good rows and quarantines each bad one with line, column, raw value and reason', async () => {
    const rows = goodRows(120); // 5 bad of 120 stays under the 5% threshold
    // Line numbers: header is line 1, rows[i] is line i + 2 until the multi-line field below.
    rows[3] = payment('P0004', { amount: '12,3a4.00' });
    rows[5] = payment('P0006', { pay_date: '2025-02-30' });
    rows[8] = payment('P0009', { agency_code: '' });
    rows[10] = payment('P0011', { purpose: '第一行\n第二行', amount: '5.00' }); // lines 12–13, valid
    rows[12] = payment('P0013', { fund_source: 'abc' }); // line 15: shifted by the quoted newline
    rows[20] = payment('P0004', { amount: '1.00' }); // line 23: duplicate of line 5
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
    const [r] = await ingestPath(store, file);
    expect(r).toMatchObject({ status: 'committed', rows_read: 120, accepted: 115, rejected: 5, inserted: 115 });
    const good = rows.filter((_, i) => ![3, 5, 8, 12, 20].includes(i));
    expect(r.control_sums).toEqual({ count: '115', amount: sumYuan(good.map((x) => x.amount)) });
    expect(await store.one('SELECT count(*) AS n, CAST(sum(amount) AS VARCHAR) AS s FROM treasury.payments')).toEqual({
      n: '115',
      s: sumYuan(good.map((x) => x.amount)),
    });
    const q = await quarantine(r.batch_id);
    expect(q.map((x) => [x.line, x.column_name, x.raw_value])).toEqual([
      ['5', 'amount', '12,3a4.00'],
      ['7', 'pay_date', '2025-02-30'],
      ['10', 'agency_code', null],
      ['15', 'fund_source', 'abc'],
      ['23', 'payment_id', 'P0004'],
    ]);
    expect(q[0].reason).toMatch(/^amount: "12,3a4\.00" is not a number/);
    expect(q[1].reason).toMatch(/^pay_date: 2025-02-30 is not a date/);
    expect(q[2].reason).toMatch(/^agency_code: required/);
    expect(q[3].reason).toMatch(/^fund_source: "abc" is not one of general, gov_fund, soe_capital, social_insurance/);
    expect(q[4].reason).toMatch(/^payment_id: duplicate key P0004, first at line 5/);
    const raw = await store.one<{ raw_row: string }>(
      "SELECT raw_row FROM fiscus.quarantine WHERE batch_id = $b AND column_name = 'amount'",
      { b: r.batch_id },
    );
    expect(JSON.parse(raw!.raw_row)).toMatchObject({ payment_id: 'P0004', amount: '12,3a4.00', agency_code: '0101' });
    // The first occurrence of the duplicated key is the one kept.
    expect(await store.one("SELECT CAST(amount AS VARCHAR) AS a FROM treasury.payments WHERE payment_id = 'P0004'")).toBeUndefined();
  });

  it('quarantines broken CSV lines (wrong number of fields) with their physical line', async () => {
    const rows = goodRows(30).map((x) => PAYMENT_HEADER.map((h) => x[h]).join(','));
    rows.splice(4, 0, 'P9999,2025,too,few');
    const file = join(dir, 'treasury.payments.broken.csv');
    writeFileSync(file, `${PAYMENT_HEADER.join(',')}\n${rows.join('\n')}\n`);
    const [r] = await ingestPath(store, file, { maxReject: 0.1 });
    expect(r).toMatchObject({ status: 'committed', rows_read: 31, accepted: 30, rejected: 1 });
    const q = await quarantine(r.batch_id);
    expect(q).toEqual([
      { line: '6', column_name: null, raw_value: 'P9999,2025,too,few', reason: expect.stringMatching(/^line has 4 fields, the header has 17/) },
    ]);
  });

  it('quarantines a line over the 8 MiB line limit with its reason, and loads the rest', async () => {
    // DuckDB reports such a line without a column; reading its reject once crashed the ingest.
    const rows = goodRows(30).map((x) => PAYMENT_HEADER.map((h) => x[h]).join(','));
    rows[3] = rows[3].replace('办公用品', 'x'.repeat(9_000_000));
    const file = join(dir, 'treasury.payments.long.csv');
    writeFileSync(file, `${PAYMENT_HEADER.join(',')}\n${rows.join('\n')}\n`);
    const [r] = await ingestPath(store, file, { maxReject: 0.1 });
    expect(r).toMatchObject({ status: 'committed', accepted: 29, rejected: 1 });
    const q = await quarantine(r.batch_id);
    expect(q.map((x) => [x.line, x.column_name, x.reason])).toEqual([['5', null, 'line is longer than 8 MiB — 该行超过 8 MiB']]);
    expect(q[0]!.raw_value).toMatch(/^P0004,2025,/); // the line itself (its start), kept as evidence
  });

  it('counts physical lines after skipped title lines, blank lines and multi-line fields', async () => {
    const body = goodRows(40).map((x) => PAYMENT_HEADER.map((h) => x[h]).join(','));
    body[2] = body[2].replace('办公用品', '"办公\n用品"'); // line 6–7 (title 1–2, header 3, rows from 4)
    body.splice(5, 0, ''); // a blank line: line 10
    body[9] = body[9].replace('2025-03-03', '2025-13-01'); // line 14
    body.splice(12, 0, 'P7777,broken'); // line 17
    const file = join(dir, 'treasury.payments.titled.csv');
    writeFileSync(file, `导出标题\r\n单位：元\r\n${PAYMENT_HEADER.join(',')}\r\n${body.join('\r\n')}\r\n`);
    const [r] = await ingestPath(store, file, { mapping: parseMappingProfile('skip_rows: 2\n', 'skip.yaml'), maxReject: 0.1 });
    expect(r).toMatchObject({ status: 'committed', rows_read: 41, rejected: 2, accepted: 39 });
    const q = await quarantine(r.batch_id);
    expect(q.map((x) => [x.line, x.column_name])).toEqual([['14', 'pay_date'], ['17', null]]);
  });

  it('rejects negative amounts in money columns that are not signed', async () => {
    const t = table('assets.cards');
    const rows = sampleRows(t, 30);
    rows[2] = { ...rows[2], original_value: '-1.00' };
    rows[7] = { ...rows[7], net_value: '1.005' };
    const file = join(dir, 'assets.cards.csv');
    writeFileSync(file, toCsv(t.columns.map((c) => c.name), rows));
    const [r] = await ingestPath(store, file, { maxReject: 0.1 });
    expect(r).toMatchObject({ status: 'committed', rejected: 2 });
    const q = await quarantine(r.batch_id);
    expect(q.map((x) => [x.line, x.column_name])).toEqual([['4', 'original_value'], ['9', 'net_value']]);
    expect(q[0].reason).toMatch(/^original_value: -1\.00 must not be negative/);
    expect(q[1].reason).toMatch(/^net_value: 1\.005 has more than 2 decimal places/);
  });

  it('rolls a mostly bad file back whole, keeps its quarantine, and the CLI exits 1', async () => {
    await store.close();
    const rows = goodRows(20).map((x, i) => (i % 2 ? { ...x, pay_date: 'yesterday' } : x));
    const file = join(dir, 'treasury.payments.bad.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
    const res = await runCli(['--db', dbPath, 'ingest', file, '--format', 'json']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/rolled back/);
    const [r] = JSON.parse(res.stdout);
    expect(r).toMatchObject({ status: 'rolled_back', rows_read: 20, rejected: 10, inserted: 0, accepted: 0 });
    expect(r.message).toMatch(/10 of 20 rows rejected \(50\.0% > 5\.0%\)/);
    ({ store } = await freshStoreAt(dbPath));
    expect(await store.one('SELECT count(*) AS n FROM treasury.payments')).toEqual({ n: '0' });
    expect(await store.one('SELECT status FROM fiscus.batches WHERE batch_id = $b', { b: r.batch_id })).toEqual({ status: 'rolled_back' });
    expect(await quarantine(r.batch_id)).toHaveLength(10);
  });

  it('is a no-op to ingest the same file twice; same content in another file is unchanged row by row', async () => {
    await store.close();
    const rows = goodRows(25);
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
    const first = await runCli(['--db', dbPath, 'ingest', file, '--format', 'json']);
    expect(first.code).toBe(0);
    const again = await runCli(['--db', dbPath, 'ingest', file, '--format', 'json']);
    expect(again.code).toBe(0);
    const [r2] = JSON.parse(again.stdout);
    expect(r2).toMatchObject({ status: 'noop', inserted: 0, corrected: 0 });
    expect(r2.message).toContain(JSON.parse(first.stdout)[0].batch_id);
    // Same rows, other order and line endings: a different file, but nothing changes.
    const file2 = join(dir, 'treasury.payments.reordered.csv');
    writeFileSync(file2, toCsv(PAYMENT_HEADER, [...rows].reverse(), '\r\n'));
    const third = await runCli(['--db', dbPath, 'ingest', file2, '--format', 'json']);
    expect(JSON.parse(third.stdout)[0]).toMatchObject({ status: 'committed', unchanged: 25, inserted: 0, corrected: 0 });
    // The same bytes under another name are recognised by their SHA-256.
    const copy = join(dir, 'treasury.payments.copy.csv');
    writeFileSync(copy, readFileSync(file));
    const fourth = await runCli(['--db', dbPath, 'ingest', copy, '--format', 'json']);
    expect(JSON.parse(fourth.stdout)[0]).toMatchObject({ status: 'noop', source: copy });
    ({ store } = await freshStoreAt(dbPath));
    expect(await store.one('SELECT count(*) AS n FROM treasury.payments')).toEqual({ n: '25' });
    expect(await store.one('SELECT count(*) AS n FROM fiscus.row_history')).toEqual({ n: '0' });
    expect(await store.one('SELECT count(DISTINCT _batch_id) AS n FROM treasury.payments')).toEqual({ n: '1' });
  });

  it('replaces a corrected row and keeps the old version in row_history', async () => {
    const rows = goodRows(10);
    const f1 = join(dir, 'treasury.payments.v1.csv');
    writeFileSync(f1, toCsv(PAYMENT_HEADER, rows));
    const [r1] = await ingestPath(store, f1);
    const v2 = rows.map((x) => (x.payment_id === 'P0003' ? { ...x, amount: '999.99', purpose: '更正后的摘要' } : x));
    v2.push(payment('P0011', { amount: '11.00' }));
    const f2 = join(dir, 'treasury.payments.v2.csv');
    writeFileSync(f2, toCsv(PAYMENT_HEADER, v2));
    const [r2] = await ingestPath(store, f2);
    expect(r2).toMatchObject({ status: 'committed', inserted: 1, corrected: 1, unchanged: 9, accepted: 11 });
    const cur = await store.one(
      "SELECT CAST(amount AS VARCHAR) AS amount, purpose, _batch_id FROM treasury.payments WHERE payment_id = 'P0003'",
    );
    expect(cur).toEqual({ amount: '999.99', purpose: '更正后的摘要', _batch_id: r2.batch_id });
    const untouched = await store.one("SELECT _batch_id FROM treasury.payments WHERE payment_id = 'P0001'");
    expect(untouched).toEqual({ _batch_id: r1.batch_id });
    const hist = await store.all<{ row_key: string; old_row: string; old_batch_id: string; replaced_by_batch: string }>(
      'SELECT row_key, old_row, old_batch_id, replaced_by_batch FROM fiscus.row_history',
    );
    expect(hist).toHaveLength(1);
    expect(hist[0]).toMatchObject({ row_key: 'P0003', old_batch_id: r1.batch_id, replaced_by_batch: r2.batch_id });
    expect(JSON.parse(hist[0].old_row)).toMatchObject({
      payment_id: 'P0003',
      amount: rows[2].amount,
      purpose: rows[2].purpose,
      pay_date: '2025-03-03',
      _batch_id: r1.batch_id,
    });
  });

  it('refuses a file missing required columns, naming them and their aliases, and still loads the others', async () => {
    await store.close();
    const missing = PAYMENT_HEADER.filter((h) => h !== 'payee_account' && h !== 'amount');
    const bad = join(dir, 'treasury.payments.nocols.csv');
    writeFileSync(bad, toCsv(missing, goodRows(3)));
    const good = join(dir, 'treasury.payments.ok.csv');
    writeFileSync(good, toCsv(PAYMENT_HEADER, goodRows(3, 'Q')));
    const unknown = join(dir, 'payments-export.csv');
    writeFileSync(unknown, toCsv(PAYMENT_HEADER, goodRows(3, 'R')));
    const res = await runCli(['--db', dbPath, 'ingest', bad, unknown, good, '--format', 'json']);
    expect(res.code).toBe(1);
    const [rb, ru, rg] = JSON.parse(res.stdout);
    expect(rb.status).toBe('failed');
    expect(rb.message).toMatch(/required columns missing for treasury\.payments: payee_account \([^)]*收款人账号[^)]*\); amount \([^)]*支付金额/);
    expect(ru.status).toBe('failed');
    expect(ru.message).toMatch(/cannot tell the table of .*payments-export\.csv/);
    expect(ru.message).toMatch(/Known tables: ref\.regions, .*treasury\.payments/);
    expect(rg).toMatchObject({ status: 'committed', inserted: 3 });
    expect(res.stderr).toMatch(/2 failed of 3 batches/);
  });

  it('quarantines a JSON Lines line that is not an object, with its line number', async () => {
    const lines = goodRows(30).map((x) => JSON.stringify(x));
    lines.splice(2, 0, '');
    lines.splice(5, 0, '{"payment_id": "P77", broken');
    const file = join(dir, 'treasury.payments.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const [r] = await ingestPath(store, file, { maxReject: 0.1 });
    expect(r).toMatchObject({ status: 'committed', rows_read: 31, accepted: 30, rejected: 1 });
    const q = await quarantine(r.batch_id);
    expect(q).toEqual([
      { line: '6', column_name: null, raw_value: '{"payment_id": "P77", broken', reason: expect.stringMatching(/^line is not a JSON object/) },
    ]);
  });

  it('reports a usage error (exit 2) for a bad --max-reject or unknown --table', async () => {
    await store.close();
    const file = join(dir, 'x.csv');
    writeFileSync(file, 'a\n1\n');
    expect((await runCli(['--db', dbPath, 'ingest', file, '--max-reject', '2'])).code).toBe(2);
    const res = await runCli(['--db', dbPath, 'ingest', file, '--table', 'treasury.paymentz']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Known tables: .*treasury\.payments/);
    ({ store } = await freshStoreAt(dbPath));
    expect(readFileSync(file, 'utf8')).toBe('a\n1\n');
  });

  it('lists batches and quarantine from the CLI', async () => {
    await store.close();
    const rows = goodRows(40);
    rows[1] = payment('P0002', { amount: 'abc' });
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
    const ing = await runCli(['--db', dbPath, 'ingest', file, '--format', 'json']);
    const id = JSON.parse(ing.stdout)[0].batch_id;
    const b = await runCli(['--db', dbPath, 'batches', '--format', 'jsonl']);
    expect(b.code).toBe(0);
    const batch = JSON.parse(b.stdout.trim().split('\n').at(-1)!);
    expect(batch).toMatchObject({ batch_id: id, status: 'committed', rows_read: '40', rejected: '1', control_sums: { count: '39' } });
    expect(batch.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const table = await runCli(['--db', dbPath, 'batches']);
    expect(table.stdout).toContain(id);
    const q = await runCli(['--db', dbPath, 'quarantine', '--batch', id, '--format', 'csv']);
    expect(q.code).toBe(0);
    expect(q.stdout.split('\n')[0]).toBe('batch_id,table_name,source,line,column_name,raw_value,reason,raw_row');
    expect(q.stdout).toContain(',3,amount,abc,"amount: ""abc"" is not a number');
    const missing = await runCli(['--db', dbPath, 'quarantine', '--batch', 'B-nope']);
    expect(missing.code).toBe(1);
    ({ store } = await freshStoreAt(dbPath));
  });
});

async function freshStoreAt(dbPath: string) {
  return { store: await openStore(dbPath) };
}
