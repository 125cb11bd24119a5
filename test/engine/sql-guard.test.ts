/**
 * The analyst SQL guard on its own, on a real DuckDB file that is NOT locked down:
 * whatever it lets through runs with full rights, so every door must be shut by the
 * guard (and the read-only transaction) alone.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { checkReadOnly, inReadOnlyTransaction, prepareReadOnly, SqlRejected } from '../../engine/sql-guard.ts';

let dir: string;
let store: Store;
let conn: DuckDBConnection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fiscus-guard-'));
  store = await openStore(join(dir, 'g.duckdb'));
  await store.run('CREATE TABLE main.t AS SELECT range AS a FROM range(3)');
  await store.run('CREATE SEQUENCE main.s');
  writeFileSync(join(dir, 'data.csv'), 'x\n1\n2\n');
  conn = await store.connect();
});
afterAll(async () => {
  conn.closeSync();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(sql: string, opts = {}): Promise<unknown[]> {
  return inReadOnlyTransaction(conn, async () => {
    const p = await prepareReadOnly(conn, sql, opts);
    return (await p.runAndReadAll()).getRowObjectsJson();
  });
}

async function refusal(sql: string, opts = {}): Promise<string> {
  try {
    await run(sql, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(SqlRejected);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${sql}`);
}

describe('accepted: plain reads', () => {
  const ok = [
    'SELECT 1 AS x',
    '  -- a comment\n /* another */ SELECT a FROM main.t ORDER BY a',
    'FROM main.t',
    'WITH x AS (SELECT a FROM main.t) SELECT count(*) AS n FROM x',
    'VALUES (1), (2)',
    'SELECT * FROM range(3)',
    'SELECT unnest([1, 2])',
    "SELECT table_name FROM duckdb_tables() WHERE table_name = 't'",
    'DESCRIBE main.t',
    'SUMMARIZE main.t',
    'SHOW TABLES',
    'SELECT 1 AS x;',
    "SELECT '; DELETE FROM main.t' AS s",
  ];
  for (const sql of ok) {
    it(sql.replace(/\s+/g, ' '), async () => {
      expect((await run(sql)).length).toBeGreaterThan(0);
    });
  }
});

describe('refused: anything but one SELECT, by statement kind', () => {
  const cases: [string, RegExp][] = [
    ['EXPLAIN SELECT 1', /an EXPLAIN statement/],
    ['EXPLAIN ANALYZE DELETE FROM main.t', /an EXPLAIN statement/],
    ['explain analyze update main.t set a = 9', /an EXPLAIN statement/],
    ["EXPLAIN ANALYZE COPY main.t TO 'OUT'", /an EXPLAIN statement/],
    ['PRAGMA database_list', /a PRAGMA statement/],
    ['PRAGMA enable_profiling', /a PRAGMA statement/],
    ['SET threads = 1', /a SET statement/],
    ['RESET threads', /a RESET statement/],
    ['CALL pragma_version()', /a CALL statement/],
    ["ATTACH ':memory:' AS other", /an ATTACH statement/],
    ['DETACH other', /a DETACH statement/],
    ["COPY main.t TO 'OUT'", /a COPY statement/],
    ["EXPORT DATABASE 'OUT'", /an EXPORT statement/],
    ['CHECKPOINT', /a CHECKPOINT statement/],
    ['DELETE FROM main.t', /a DELETE statement/],
    ['UPDATE main.t SET a = 9', /an UPDATE statement/],
    ['INSERT INTO main.t VALUES (9)', /an INSERT statement/],
    ['CREATE TABLE main.u (a INT)', /a CREATE statement/],
    ['CREATE MACRO m(x) AS x', /a CREATE statement/],
    ['DROP TABLE main.t CASCADE', /a DROP statement/],
    ['INSTALL httpfs', /an INSTALL statement/],
    ['LOAD json', /a LOAD statement/],
    ['USE memory', /a USE statement/],
    ['VACUUM', /a VACUUM statement/],
    ['BEGIN TRANSACTION', /a BEGIN statement/],
    ['PREPARE p AS SELECT 1', /a PREPARE statement/],
    ['SELECT 1; DELETE FROM main.t', /exactly one statement is allowed \(got 2\)/],
    ['SELEC 1', /does not parse/],
    ['   ', /empty/],
  ];
  for (const [sql, reason] of cases) {
    it(sql, async () => {
      const msg = await refusal(sql.replace('OUT', join(dir, 'out.csv')));
      expect(msg).toMatch(/^只允许单条只读 SELECT 查询 \/ only a single read-only SELECT is allowed|SQL does not parse|SQL 为空/);
      expect(msg).toMatch(reason);
    });
  }
});

describe('refused: SELECT-typed side doors, however the name is spelled', () => {
  const cases: [string, RegExp][] = [
    ["SELECT * FROM query('DELETE FROM main.t')", /query\(\) runs SQL given as text/],
    ["SELECT * FROM query('SELECT 1')", /query\(\)/],
    ["FROM query_table('main.t')", /query_table\(\)/],
    ["SELECT nextval('main.s')", /nextval\(\) advances a sequence/],
    ["SELECT currval('main.s')", /currval\(\)/],
    ['SELECT * FROM duckdb_databases()', /duckdb_databases\(\)/],
    ['SELECT * FROM duckdb_settings()', /duckdb_settings\(\)/],
    ['SELECT * FROM pragma_database_list()', /pragma_database_list\(\)/],
    ['SELECT * FROM pragma_database_size()', /pragma_database_size\(\)/],
    ['SELECT * FROM duckdb_extensions()', /duckdb_extensions\(\)/],
    ['SELECT * FROM duckdb_temporary_files()', /duckdb_temporary_files\(\)/],
    ["SELECT current_setting('allowed_directories')", /current_setting\(\) reveals server settings/],
    ["SELECT CURRENT_SETTING('memory_limit')", /current_setting\(\)/],
    ["SELECT getvariable('x')", /getvariable\(\)/],
    ["SELECT * FROM read_text('/etc/passwd')", /read_text\(\) reads files/],
    ["SELECT * FROM main.read_text('/etc/passwd')", /read_text\(\)/],
    ["SELECT * FROM \"read_text\"('/etc/passwd')", /read_text\(\)/],
    ["SELECT * FROM system.main.READ_TEXT('/etc/passwd')", /read_text\(\)/],
    ["SELECT * FROM glob('/etc/*')", /glob\(\) reads files/],
    ["SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\)/],
    ["SELECT * FROM read_csv_auto('/etc/passwd')", /read_csv_auto\(\)/],
    ["SELECT * FROM read_blob('/etc/passwd')", /read_blob\(\)/],
    ["SELECT * FROM read_parquet('/x.parquet')", /read_parquet\(\)/],
    ["SELECT * FROM read_json('/x.json')", /read_json\(\)/],
    ["SELECT * FROM sniff_csv('/etc/passwd')", /sniff_csv\(\)/],
    ["FROM '/etc/passwd'", /the table name "\/etc\/passwd" is read as a file/],
    ["SELECT * FROM 'data.csv'", /"data.csv" is read as a file/],
    ["SUMMARIZE '/etc/passwd'", /is read as a file/],
    ["SELECT (SELECT max(length(content)) FROM read_text('/etc/passwd')) AS n", /read_text\(\)/],
    ["SELECT * FROM main.t, LATERAL (SELECT content FROM read_text('/etc/passwd'))", /read_text\(\)/],
    ["WITH x AS (SELECT * FROM glob('/etc/*')) SELECT * FROM x", /glob\(\)/],
    ['SELECT * FROM checkpoint()', /checkpoint\(\)/],
    ['SELECT * FROM force_checkpoint()', /force_checkpoint\(\)/],
    ['SELECT * FROM enable_logging()', /enable_logging\(\)/],
    ['SELECT * FROM histogram(main.t, a)', /histogram\(\)/],
    ["SELECT json_serialize_plan('SELECT 1')", /json_serialize_plan\(\)/],
    ['SELECT sleep_ms(10000)', /sleep_ms\(\)/],
    ['SELECT pg_sleep(10)', /pg_sleep\(\)/],
    ['SELECT setseed(0.5)', /setseed\(\)/],
    ["SELECT write_log('x')", /write_log\(\)/],
    ["SELECT get_block_size('fiscus_store')", /get_block_size\(\)/],
  ];
  for (const [sql, reason] of cases) {
    it(sql, async () => {
      const msg = await refusal(sql);
      expect(msg).toMatch(reason);
      expect(msg).not.toContain(dir);
    });
  }

  it('nothing changed: rows, sequence, files', async () => {
    expect(await store.all('SELECT count(*) AS n FROM main.t')).toEqual([{ n: '3' }]);
    expect(await store.all("SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 's'")).toEqual([{ last_value: null }]);
    expect(existsSync(join(dir, 'out.csv'))).toBe(false);
  });
});

describe('--allow-files lets the file readers through (the lockdown then confines them)', () => {
  it('read_csv and replacement scans of a file', async () => {
    const file = join(dir, 'data.csv');
    expect(await run(`SELECT sum(x) AS s FROM read_csv('${file}')`, { allowFiles: true })).toEqual([{ s: '3' }]);
    expect(await run(`SELECT count(*) AS n FROM '${file}'`, { allowFiles: true })).toEqual([{ n: '2' }]);
  });
  it('still one SELECT, still no settings or sequences', async () => {
    expect(await refusal(`COPY main.t TO '${join(dir, 'x.csv')}'`, { allowFiles: true })).toMatch(/a COPY statement/);
    expect(await refusal("SELECT current_setting('threads')", { allowFiles: true })).toMatch(/current_setting/);
    expect(await refusal("SELECT * FROM query('SELECT 1')", { allowFiles: true })).toMatch(/query\(\)/);
  });
});

describe('the read-only transaction holds even if the guard missed something', () => {
  it('writes in it fail, and nothing lands', async () => {
    for (const sql of ['DELETE FROM main.t', "SELECT nextval('main.s')", 'CREATE TABLE main.z (a INT)']) {
      await expect(inReadOnlyTransaction(conn, () => conn.run(sql))).rejects.toThrow(/read-only mode/);
    }
    expect(await store.all('SELECT count(*) AS n FROM main.t')).toEqual([{ n: '3' }]);
    // The connection is usable afterwards.
    expect(await run('SELECT 1 AS x')).toEqual([{ x: 1 }]);
  });

  it('checkReadOnly never binds: a file reader is refused before DuckDB opens the file', async () => {
    await expect(checkReadOnly(conn, `SELECT * FROM read_csv('${join(dir, 'missing.csv')}')`)).rejects.toThrow(/read_csv\(\) reads files/);
  });

  it('the built-in rule pack passes the guard', async () => {
    const { loadBuiltinPack, compileRule } = await import('../../rules/language/index.ts');
    for (const def of await loadBuiltinPack()) {
      const rule = compileRule(def);
      for (const sql of [rule.sql, ...rule.preconditions.map((p) => p.sql)]) await checkReadOnly(conn, sql);
    }
  });
});
