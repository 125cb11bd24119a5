import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { csvCell } from '../../engine/format.ts';
import { insertFlags, seedAgencies, startServer, T } from '../api/helpers.ts';
import { runCli } from '../helpers/cli.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { PAYMENT_HEADER, payment, writeCsv } from '../ingest/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiscus-query-'));
const db = join(dir, 'q.duckdb');
const files = join(dir, 'files');

beforeAll(async () => {
  const store = await openStore(db);
  await store.run(`INSERT INTO ref.agencies VALUES ('A0101', '市教育局', 'A0101', '370811', '{"联系人":"李"}', 'b1', '1', now())`);
  await store.run(`CREATE TABLE main.money_probe AS SELECT 12345678.91::DECIMAL(18,2) AS amount, 9007199254740993::BIGINT AS big`);
  await insertFlags(store, [{ flag_id: 'C1' }, { flag_id: 'C2' }]);
  await store.run(`INSERT INTO fiscus.quarantine VALUES
    ('B1', 'treasury.payments', 'p.csv', 2, 'amount', '=HYPERLINK("http://evil.invalid","x")', 'not a number', '{"amount":"=HYPERLINK(\\"http://evil.invalid\\",\\"x\\")"}'),
    ('B1', 'treasury.payments', 'p.csv', 3, 'amount', '-12.50', 'negative', '{"amount":"-12.50"}'),
    ('B1', 'treasury.payments', 'p.csv', 4, 'payee_name', '@SUM(1+1)', 'too long', '{"payee_name":"@SUM(1+1)"}')`);
  await store.close();
  mkdirSync(files);
  writeFileSync(join(files, 'extra.csv'), 'code,amount\nX1,10.50\nX2,-2.25\n');
});

async function counts() {
  const store = await openStore(db);
  try {
    return {
      flags: await store.all('SELECT flag_id, status FROM fiscus.flags ORDER BY 1'),
      events: await store.all('SELECT seq, hash FROM fiscus.flag_events ORDER BY seq'),
      agencies: await store.all('SELECT count(*) AS n FROM ref.agencies'),
      tables: await store.all('SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = current_database()'),
    };
  } finally {
    await store.close();
  }
}

describe('fiscus query', () => {
  it('prints money and big integers as exact strings in JSON', async () => {
    const res = await runCli(['--db', db, 'query', 'SELECT amount, big FROM main.money_probe', '--format', 'json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([{ amount: '12345678.91', big: '9007199254740993' }]);
  });

  it('keeps codes as strings and supports csv, jsonl and bound parameters', async () => {
    const csv = await runCli(['--db', db, 'query', 'SELECT agency_code, agency_name FROM ref.agencies WHERE region_code = $r', '--param', 'r=370811', '--format', 'csv']);
    expect(csv.stdout).toBe('agency_code,agency_name\nA0101,市教育局\n');
    const jsonl = await runCli(['--db', db, 'query', 'SELECT region_code FROM ref.agencies', '--format', 'jsonl']);
    expect(jsonl.stdout).toBe('{"region_code":"370811"}\n');
  });

  it('refuses anything but one SELECT, and bad usage exits 2', async () => {
    const del = await runCli(['--db', db, 'query', 'DELETE FROM ref.agencies']);
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(/only a single read-only SELECT is allowed: this is a DELETE statement/);
    const two = await runCli(['--db', db, 'query', 'SELECT 1; DROP TABLE ref.agencies']);
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(/exactly one statement/);
    const fmt = await runCli(['--db', db, 'query', 'SELECT 1', '--format', 'xml']);
    expect(fmt.code).toBe(2);
    const missing = await runCli(['--db', db, 'query']);
    expect(missing.code).toBe(2);
    const still = await runCli(['--db', db, 'query', 'SELECT count(*) AS n FROM ref.agencies', '--format', 'csv']);
    expect(still.stdout).toBe('n\n1\n');
  });
});

describe('fiscus query runs in the server\'s sandbox (issue 10 attacks)', () => {
  const out = join(dir, 'x.csv');
  const attacks: [string, RegExp][] = [
    ["SELECT * FROM read_text('/etc/passwd')", /read_text\(\) reads files/],
    ["SELECT * FROM glob('/etc/*')", /glob\(\) reads files/],
    [`EXPLAIN ANALYZE COPY (SELECT 1) TO '${out}'`, /this is an EXPLAIN statement/],
    [`COPY (SELECT 1) TO '${out}'`, /this is a COPY statement/],
    ['EXPLAIN ANALYZE DELETE FROM fiscus.flag_events', /this is an EXPLAIN statement/],
    ["EXPLAIN ANALYZE UPDATE fiscus.flags SET status = 'verified'", /this is an EXPLAIN statement/],
    ['EXPLAIN ANALYZE DROP TABLE ref.agencies CASCADE', /this is an EXPLAIN statement/],
    ['CREATE MACRO pwn(x) AS x', /this is a CREATE statement/],
    ['PRAGMA database_list', /this is a PRAGMA statement/],
    ['SELECT path FROM duckdb_databases()', /duckdb_databases\(\)/],
    ["SELECT current_setting('allowed_directories')", /current_setting\(\)/],
    ["SELECT * FROM '/etc/passwd'", /is read as a file/],
    ["SELECT * FROM query('DELETE FROM fiscus.flag_events')", /query\(\)/],
    ["ATTACH '/tmp/other.duckdb' AS o", /this is an ATTACH statement/],
    ['SET enable_external_access = true', /this is a SET statement/],
  ];

  it('every attack is refused with its reason, nothing is printed, nothing changes, no file is written', async () => {
    const before = await counts();
    expect(before.events.length).toBe(2);
    for (const [sql, reason] of attacks) {
      const r = await runCli(['--db', db, 'query', sql, '--format', 'csv']);
      expect(r.code, sql).toBe(1);
      expect(r.stdout, sql).toBe('');
      expect(r.stderr, sql).toMatch(reason);
      expect(r.stderr, sql).not.toContain('root:');
      expect(r.stderr, sql).not.toContain(db);
    }
    expect(existsSync(out)).toBe(false);
    expect(await counts()).toEqual(before);
  });

  it('--allow-files DIR lets the SQL read files under DIR, and only there', async () => {
    const ok = await runCli(['--db', db, 'query', `SELECT code, amount FROM read_csv('${join(files, 'extra.csv')}', types = {'amount': 'DECIMAL(10,2)'}) ORDER BY 1`, '--allow-files', files, '--format', 'csv']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('code,amount\nX1,10.50\nX2,-2.25\n');
    const outside = await runCli(['--db', db, 'query', "SELECT * FROM read_text('/etc/passwd')", '--allow-files', files]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/Permission Error/);
    expect(outside.stdout).not.toContain('root:');
    const write = await runCli(['--db', db, 'query', `COPY (SELECT 1) TO '${join(files, 'w.csv')}'`, '--allow-files', files]);
    expect(write.code).toBe(1);
    expect(existsSync(join(files, 'w.csv'))).toBe(false);
    const settings = await runCli(['--db', db, 'query', "SELECT current_setting('allowed_directories')", '--allow-files', files]);
    expect(settings.code).toBe(1);
  });

  it('--allow-files: a missing directory or --api is a usage error; --help documents it', async () => {
    expect((await runCli(['--db', db, 'query', 'SELECT 1', '--allow-files', join(dir, 'nope')])).code).toBe(2);
    expect((await runCli(['--db', db, 'query', 'SELECT 1', '--allow-files', files, '--api', 'http://127.0.0.1:1', '--token', 'x'])).code).toBe(2);
    const help = await runCli(['query', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--allow-files <dir>/);
    expect(help.stdout).toMatch(/repeatable/);
  });
});

describe('CSV outputs neutralise spreadsheet formulas (OWASP CSV injection)', () => {
  it('csvCell: = + - @ tab CR first get a quote unless the cell is a number', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('+86 138')).toBe("'+86 138");
    expect(csvCell('-')).toBe("'-");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('＝1+1')).toBe("'＝1+1");
    for (const n of ['-12.50', '+3', '-0.5', '-1e-3', '12', '.5']) expect(csvCell(n)).toBe(n);
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('')).toBe('');
  });

  it('fiscus query --format csv', async () => {
    const r = await runCli(['--db', db, 'query', `SELECT '=1+1' AS "=x", -12.50::DECIMAL(10,2) AS neg, '-12.50' AS neg_text, '@A1' AS at`, '--format', 'csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("'=x,neg,neg_text,at\n'=1+1,-12.50,-12.50,'@A1\n");
  });

  it('fiscus quarantine --format csv', async () => {
    const r = await runCli(['--db', db, 'quarantine', '--format', 'csv']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('batch_id,table_name,source,line,column_name,raw_value,reason,raw_row');
    expect(lines[1]).toContain(`,"'=HYPERLINK(""http://evil.invalid"",""x"")",`);
    expect(lines[2]).toContain(',-12.50,negative,');
    expect(lines[3]).toContain(",'@SUM(1+1),");
  });
});

describe('fiscus query --api still works', () => {
  let close: () => Promise<void>;
  let url: string;
  beforeAll(async () => {
    const serverDb = join(dir, 'server.duckdb');
    const store = await openStore(serverDb);
    await seedAgencies(store);
    await insertFlags(store, [{ flag_id: 'S1' }]);
    const s = await startServer(store);
    url = s.url;
    close = async () => {
      await s.app.close();
      await store.close();
    };
  });
  afterAll(async () => close());

  it('answers through the server, with the server refusing what the sandbox refuses', async () => {
    const ok = await runCli(['--db', db, 'query', 'SELECT flag_id FROM fiscus.flags', '--api', url, '--token', T.analyst, '--format', 'csv']);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('flag_id\nS1\n');
    const no = await runCli(['--db', db, 'query', "SELECT * FROM read_text('/etc/passwd')", '--api', url, '--token', T.analyst]);
    // The API client exits 2 for a 400 (the request was refused as given).
    expect(no.code).toBe(2);
    expect(no.stderr).toMatch(/server 400: .*read_text\(\) reads files/);
  });
});

describe.skipIf(!process.env.FISCUS_TEST_PG_URL)('fiscus query and fiscus quarantine on PostgreSQL', () => {
  let pgDb: string;
  let batch: string;
  beforeAll(async () => {
    pgDb = await freshDatabase('cliq');
    const store = await openStore(pgDb);
    await insertFlags(store, [{ flag_id: 'P1' }, { flag_id: 'P2', agency_code: 'A0102' }]);
    await store.close();
    // A file with one bad amount among 30 (under the 5% roll-back threshold): one batch, one quarantined row.
    const feed = join(dir, 'pg-feed');
    mkdirSync(feed);
    writeCsv(join(feed, 'treasury.payments.csv'), PAYMENT_HEADER, [
      payment('PG-1'),
      payment('PG-2', { amount: '12,5x' }),
      ...Array.from({ length: 28 }, (_, i) => payment(`PG-${i + 3}`)),
    ]);
    const ing = await runCli(['--db', pgDb, 'ingest', join(feed, 'treasury.payments.csv'), '--format', 'json']);
    expect(ing.code, ing.stderr).toBe(0);
    batch = (JSON.parse(ing.stdout) as { batch_id: string }[])[0]!.batch_id;
  });

  it('runs a read with string parameters and a NULL, money as exact strings', async () => {
    const r = await runCli([
      '--db', pgDb, 'query',
      'SELECT flag_id, amount, CAST($n AS VARCHAR) IS NULL AS n_null FROM fiscus.flags WHERE agency_code = $a ORDER BY flag_id',
      '--param', 'a=A0102', '--null', 'n', '--format', 'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ flag_id: 'P2', amount: '612000.00', n_null: true }]);
    const csv = await runCli(['--db', pgDb, 'query', 'SELECT flag_id FROM fiscus.flags ORDER BY 1', '--format', 'csv']);
    expect(csv.stdout).toBe('flag_id\nP1\nP2\n');
  });

  it('runs in the analyst sandbox: writes refused and nothing changed; no files; a wrong parameter is a usage error', async () => {
    const del = await runCli(['--db', pgDb, 'query', 'DELETE FROM fiscus.flags']);
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(/read-only transaction/);
    const who = await runCli(['--db', pgDb, 'query', 'SELECT current_user AS u', '--format', 'json']);
    expect(JSON.parse(who.stdout)).toEqual([{ u: 'fiscus_analyst' }]);
    const left = await runCli(['--db', pgDb, 'query', 'SELECT count(*) AS n FROM fiscus.flags', '--format', 'json']);
    expect(JSON.parse(left.stdout)).toEqual([{ n: '2' }]);
    const files = await runCli(['--db', pgDb, 'query', 'SELECT 1', '--allow-files', dir]);
    expect(files.code).toBe(2);
    expect(files.stderr).toMatch(/--allow-files works on a DuckDB database only/);
    const typo = await runCli(['--db', pgDb, 'query', 'SELECT 1 AS x', '--param', 'nope=1']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/no parameter \$nope/);
  });

  it('fiscus quarantine lists the rejected row, for all batches and for --batch', async () => {
    const all = await runCli(['--db', pgDb, 'quarantine', '--format', 'json']);
    expect(all.code, all.stderr).toBe(0);
    const one = await runCli(['--db', pgDb, 'quarantine', '--batch', batch, '--format', 'json']);
    expect(one.code, one.stderr).toBe(0);
    for (const r of [all, one]) {
      const rows = JSON.parse(r.stdout) as { batch_id: string; line: string; column_name: string; raw_value: string }[];
      expect(rows.map((q) => [q.batch_id, String(q.line), q.column_name, q.raw_value])).toEqual([[batch, '3', 'amount', '12,5x']]);
    }
    const none = await runCli(['--db', pgDb, 'quarantine', '--batch', 'B-NOPE']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no batch B-NOPE/);
  });
});
