/**
 * POST /v1/query and the saved queries: SELECT only, no file system, no settings,
 * time and row limits, json/csv/arrow; malformed requests get 4xx problems and the
 * server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { auth, getJson, insertFlags, seedAgencies, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let app: FastifyInstance;
let url: string;
let dir: string;
let cleanup: () => Promise<void>;

const post = (path: string, body: unknown, token = T.analyst, headers: Record<string, string> = {}) =>
  getJson(`${url}${path}`, token, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  ({ store, dir, cleanup } = await tempStore());
  await seedAgencies(store);
  const sys = `'b', 'h', now()`;
  await store.run(`INSERT INTO treasury.budget_indicators (indicator_id, fiscal_year, region_code, agency_code, func_code, econ_code, fund_source,
      project_code, amount, approved_date, kind, base_indicator_id, _batch_id, _row_hash, _ingested_at) VALUES
    ('I1', 2025, '370811', 'A0101', '20502', '30201', 'general', NULL, 1000000.00, DATE '2025-01-20', 'initial', NULL, ${sys}),
    ('I2', 2025, '370811', 'A0102', '20502', '30201', 'general', NULL, 500000.00, DATE '2025-01-20', 'initial', NULL, ${sys}),
    ('I3', 2025, '370811', 'A0101', '21201', '31001', 'gov_fund', NULL, 300000.10, DATE '2025-02-01', 'initial', NULL, ${sys})`);
  await store.run(`INSERT INTO treasury.payments (payment_id, fiscal_year, region_code, agency_code, indicator_id, func_code, econ_code, fund_source,
      project_code, payee_name, payee_account, payee_type, amount, pay_date, pay_method, purpose, direct_fund, _batch_id, _row_hash, _ingested_at) VALUES
    ('P1', 2025, '370811', 'A0101', 'I1', '20502', '30201', 'general', NULL, '某公司', '6222', 'org', 100000.01, DATE '2025-01-25', 'direct', '办公用品', false, ${sys}),
    ('P2', 2025, '370811', 'A0101', 'I1', '20502', '30201', 'general', NULL, '某公司', '6222', 'org', 200000.02, DATE '2025-03-10', 'direct', '办公用品', false, ${sys}),
    ('P3', 2025, '370811', 'A0102', 'I2', '20502', '30201', 'general', NULL, '某公司', '6223', 'org', 50000.00, DATE '2025-06-15', 'direct', '设备', false, ${sys}),
    ('P4', 2025, '370811', 'A0101', 'I3', '21201', '31001', 'gov_fund', NULL, '某建筑', '6224', 'org', 100000.00, DATE '2025-04-01', 'direct', '工程', false, ${sys})`);
  await store.run(`INSERT INTO debt.positions (region_code, fiscal_year, debt_limit, debt_balance, fiscal_capacity, interest_paid, general_expenditure, new_debt,
      _batch_id, _row_hash, _ingested_at) VALUES ('370811', 2025, 1000.00, 1100.00, 900.00, 50.00, 400.00, 100.00, ${sys})`);
  writeFileSync(join(dir, 'secret.csv'), 'a\n1\n');
  ({ app, url } = await startServer(store, { queryTimeoutMs: 1500, queryMaxRows: 1000 }));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

describe('POST /v1/query refuses what is not a plain read', () => {
  const refused = [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('SECRET')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM glob('/etc/*')",
    'CREATE TABLE t AS SELECT 1',
    "INSERT INTO fiscus.flags (flag_id) VALUES ('x')",
    "UPDATE fiscus.flags SET status = 'verified'",
    'DELETE FROM fiscus.flag_events',
    "COPY fiscus.flags TO '/tmp/out.csv'",
    "ATTACH '/tmp/other.duckdb' AS o",
    "SET enable_external_access = true",
    'SET lock_configuration = false',
    "PRAGMA enable_profiling",
    "SELECT 1; DROP TABLE fiscus.flags",
    "SELECT * FROM query('DROP TABLE fiscus.flags')",
    "INSTALL httpfs",
    "LOAD httpfs",
  ];
  for (const sql of refused) {
    it(`refuses: ${sql}`, async () => {
      const r = await post('/v1/query', { sql: sql.replace('SECRET', join(dir, 'secret.csv')) });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.type).toContain('application/problem+json');
      expect(r.body.status).toBe(r.status);
      expect(typeof r.body.detail).toBe('string');
    });
  }

  it('the database is intact and settings unchanged afterwards', async () => {
    const r = await post('/v1/query', {
      sql: "SELECT current_setting('enable_external_access') AS ext, current_setting('lock_configuration') AS locked, (SELECT count(*) FROM fiscus.flags) AS n",
    });
    expect(r.status).toBe(200);
    expect(r.body.rows[0]).toEqual({ ext: false, locked: true, n: '0' });
  });
});

describe('POST /v1/query results', () => {
  it('json: money and bigint as strings, params bound, columns typed', async () => {
    const r = await post('/v1/query', {
      sql: 'SELECT payment_id, amount, count(*) OVER () AS n, pay_date, direct_fund FROM treasury.payments WHERE agency_code = $a AND amount > $min ORDER BY payment_id',
      params: { a: 'A0101', min: 100000 },
    });
    expect(r.status).toBe(200);
    expect(r.body.rows).toEqual([
      { payment_id: 'P1', amount: '100000.01', n: '2', pay_date: '2025-01-25', direct_fund: false },
      { payment_id: 'P2', amount: '200000.02', n: '2', pay_date: '2025-03-10', direct_fund: false },
    ]);
    expect(r.body.columns.map((c: any) => c.type)).toEqual(['VARCHAR', 'DECIMAL(18,2)', 'BIGINT', 'DATE', 'BOOLEAN']);
    expect(r.body.truncated).toBe(false);
  });

  it('row limit: the result is cut and says so', async () => {
    const r = await post('/v1/query', { sql: 'SELECT range AS i FROM range(5000)' });
    expect(r.status).toBe(200);
    expect(r.body.row_count).toBe(1000);
    expect(r.body.rows.length).toBe(1000);
    expect(r.body.truncated).toBe(true);
    const small = await post('/v1/query', { sql: 'SELECT range AS i FROM range(5000)', max_rows: 10 });
    expect(small.body.rows.length).toBe(10);
    expect(small.body.truncated).toBe(true);
  });

  it('time limit: a long query is cancelled with a 422 problem and the server keeps serving', async () => {
    const r = await post('/v1/query', { sql: 'SELECT count(*) FROM range(100000000000) a' });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('QUERY_TIMEOUT');
    expect(r.type).toContain('application/problem+json');
    expect((await post('/v1/query', { sql: 'SELECT 42 AS x' })).body.rows).toEqual([{ x: 42 }]);
  });

  it('csv', async () => {
    const res = await fetch(`${url}/v1/query`, {
      method: 'POST',
      headers: { ...auth(T.analyst), 'content-type': 'application/json' },
      body: JSON.stringify({ sql: "SELECT payment_id, amount, purpose || ',x' AS p FROM treasury.payments ORDER BY 1 LIMIT 2", format: 'csv' }),
    });
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(await res.text()).toBe('payment_id,amount,p\nP1,100000.01,"办公用品,x"\nP2,200000.02,"办公用品,x"\n');
  });

  it('arrow IPC stream: VARCHAR, DECIMAL (as string), INTEGER, BIGINT, DOUBLE, DATE, BOOLEAN, nulls', async () => {
    const res = await fetch(`${url}/v1/query`, {
      method: 'POST',
      headers: { ...auth(T.analyst), 'content-type': 'application/json' },
      body: JSON.stringify({
        sql: `SELECT payment_id, amount, fiscal_year, (row_number() OVER (ORDER BY payment_id))::BIGINT AS rn, amount::DOUBLE AS d,
                     pay_date, direct_fund, CASE WHEN payment_id = 'P2' THEN NULL ELSE 7 END AS maybe
              FROM treasury.payments ORDER BY payment_id`,
        format: 'arrow',
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(table.numRows).toBe(4);
    const rows = table.toArray().map((r) => r.toJSON());
    expect(rows[0]!.payment_id).toBe('P1');
    expect(rows[0]!.amount).toBe('100000.01');
    expect(rows[0]!.fiscal_year).toBe(2025);
    expect(rows[1]!.rn).toBe(2n);
    expect(rows[1]!.d).toBeCloseTo(200000.02);
    expect(new Date(rows[0]!.pay_date as number).toISOString().slice(0, 10)).toBe('2025-01-25');
    expect(rows[0]!.direct_fund).toBe(false);
    expect(rows[1]!.maybe).toBeNull();
    expect(rows[2]!.maybe).toBe(7);
  });

  it('SQL errors in the analyst\'s query are 400 problems with the reason', async () => {
    const r = await post('/v1/query', { sql: 'SELECT no_such_column FROM treasury.payments' });
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(/no_such_column/);
  });
});

describe('malformed requests get 4xx problems and the server keeps serving', () => {
  it('bad JSON, wrong types, unknown fields, huge body, wrong content type', async () => {
    const cases: [string | object, Record<string, string>, number][] = [
      ['{"sql": ', {}, 400],
      [{ sql: 42 }, {}, 400],
      [{ sql: 'SELECT 1', format: 'xml' }, {}, 400],
      [{ sql: 'SELECT 1', params: { a: { nested: true } } }, {}, 400],
      [{ sql: 'SELECT 1', surprise: 1 }, {}, 400],
      [{}, {}, 400],
      [JSON.stringify({ sql: `SELECT '${'x'.repeat(2_000_000)}'` }), {}, 413],
      ['sql=SELECT 1', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
    ];
    for (const [body, headers, status] of cases) {
      const r = await post('/v1/query', body, T.analyst, headers);
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.type).toContain('application/problem+json');
      expect(r.body.status).toBe(status);
    }
    const bad = await getJson(`${url}/v1/flags?limit=abc&fiscal_year=x`, T.analyst);
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect((await post('/v1/query', { sql: 'SELECT 1 AS ok' })).body.rows).toEqual([{ ok: 1 }]);
  });
});

describe('saved queries', () => {
  it('lists the standard analyses', async () => {
    const r = await getJson(`${url}/v1/queries`, T.analyst);
    expect(r.body.items.map((q: any) => q.name)).toEqual(['budget_execution', 'spending_by_month', 'four_books', 'debt_indicators']);
  });

  it('budget execution against time progress', async () => {
    const r = await post('/v1/queries/budget_execution', { params: { fiscal_year: 2025, as_of: '2025-06-30' } });
    expect(r.status).toBe(200);
    const a1 = r.body.rows.find((x: any) => x.agency_code === 'A0101');
    expect(a1).toMatchObject({ agency_name: '市第一中学', budget: '1000000.00', spent: '300000.03', remaining: '699999.97' });
    expect(a1.execution_pct).toBeCloseTo(30.0, 2);
    expect(a1.time_progress_pct).toBeCloseTo((181 / 365) * 100, 1);
  });

  it('spending by month, four books, debt indicators', async () => {
    const m = await post('/v1/queries/spending_by_month', { params: { fiscal_year: 2025 } });
    expect(m.body.rows.map((x: any) => [x.month, x.amount, x.cumulative])).toEqual([
      ['2025-01', '100000.01', '100000.01'],
      ['2025-03', '200000.02', '300000.03'],
      ['2025-04', '100000.00', '400000.03'],
      ['2025-06', '50000.00', '450000.03'],
    ]);
    const b = await post('/v1/queries/four_books', { params: { fiscal_year: 2025 } });
    expect(b.body.rows.map((x: any) => [x.fund_source, x.budget, x.spent])).toEqual([
      ['general', '1500000.00', '350000.03'],
      ['gov_fund', '300000.10', '100000.00'],
      ['soe_capital', '0.00', '0.00'],
      ['social_insurance', '0.00', '0.00'],
    ]);
    const d = await post('/v1/queries/debt_indicators', { params: { fiscal_year: 2025 } });
    expect(d.body.rows[0]).toMatchObject({ region_code: '370811', debt_ratio_pct: 122.22, over_limit: true, interest_burden_pct: 12.5 });
  });

  it('missing or unknown parameters and unknown queries are 4xx problems', async () => {
    expect((await post('/v1/queries/budget_execution', { params: { fiscal_year: 2025 } })).status).toBe(400);
    expect((await post('/v1/queries/budget_execution', { params: { fiscal_year: 2025, as_of: '2025-06-30', x: 1 } })).status).toBe(400);
    expect((await post('/v1/queries/nope', { params: {} })).status).toBe(404);
  });
});

describe('evidence lookup', () => {
  it('splits composite keys on | and leaves unknown keys as null rows', async () => {
    await insertFlags(store, [{ flag_id: 'DEBT-1', agency_code: null, evidence: [
      { table: 'debt.positions', key: '370811|2025' },
      { table: 'debt.positions', key: '370811|2024' },
      { table: 'treasury.payments', key: 'P4' },
    ] }]);
    const d = await getJson(`${url}/v1/flags/DEBT-1`, T.analyst);
    expect(d.status).toBe(200);
    expect(d.body.evidence_rows[0].row).toMatchObject({ region_code: '370811', fiscal_year: 2025, debt_balance: '1100.00' });
    expect(d.body.evidence_rows[1].row).toBeNull();
    expect(d.body.evidence_rows[2].row).toMatchObject({ payment_id: 'P4', amount: '100000.00' });
  });
});
