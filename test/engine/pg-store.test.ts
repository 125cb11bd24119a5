/**
 * The PostgreSQL engine's Store on a real PostgreSQL 15 (the run's private server,
 * test/helpers/pg-global-setup.ts): migrations, JSON-safe rows like DuckDB's, named
 * parameters, the serialisation and transactions of engine/store-core.ts, COPY appends.
 */
import { describe, expect, it } from 'vitest';
import { DuckDBTimestampTZValue } from '@duckdb/node-api';
import { openStore, type Store } from '../../engine/db.ts';
import { namedToPositional, timestamptzToUtcText } from '../../engine/pg-store.ts';
import { appendFlagEvents, readFlagEvents, verifyEventChain } from '../../engine/flag-events.ts';
import { freshDatabase } from '../helpers/postgres.ts';

const havePg = !!process.env.FISCUS_TEST_PG_URL;

describe('named parameters → positional', () => {
  it('numbers each name once and leaves strings, identifiers, comments, casts and dollar quotes alone', () => {
    const r = namedToPositional(
      `SELECT $a, '$a' AS "$b", $b::DATE, $a -- $b\n /* $a */ , $$ $a $$, E'\\' $a'`,
      { a: 1, b: '2026-01-01' },
    );
    expect(r.text).toBe(`SELECT $1, '$a' AS "$b", $2::DATE, $1 -- $b\n /* $a */ , $$ $a $$, E'\\' $a'`);
    expect(r.values).toEqual([1, '2026-01-01']);
  });
  it('refuses a parameter without a value', () => {
    expect(() => namedToPositional('SELECT $a, $c', { a: 1 })).toThrow(/\$c has no value/);
  });
  it('PostgreSQL TIMESTAMPTZ text in any zone → DuckDB’s UTC text', () => {
    expect(timestamptzToUtcText('2026-01-01 08:00:00.123+08')).toBe('2026-01-01 00:00:00.123+00');
    expect(timestamptzToUtcText('2026-01-01 02:30:00-05:30')).toBe('2026-01-01 08:00:00+00');
    expect(timestamptzToUtcText('infinity')).toBe('infinity');
  });
});

async function pgStore(): Promise<Store> {
  return openStore(await freshDatabase('store'));
}

describe.skipIf(!havePg)('PostgresStore', () => {
  it('migrates a fresh database, and opening it again changes nothing', async () => {
    const url = await freshDatabase('mig');
    const s = await openStore(url);
    expect(s.engine).toBe('postgres');
    expect(s.path).not.toContain('@127.0.0.1:0');
    const v = await s.one<{ v: number }>('SELECT max(version) AS v FROM fiscus.schema_version');
    await s.close();
    const again = await openStore(url);
    expect(await again.one('SELECT max(version) AS v FROM fiscus.schema_version')).toEqual(v);
    // The calendar is built: the 2026 Spring Festival holiday and its 调休 Saturday.
    expect(await again.all("SELECT CAST(day AS VARCHAR) AS day, is_workday, source FROM fiscus.calendar_days WHERE day IN (DATE '2026-02-14', DATE '2026-02-16') ORDER BY day")).toEqual([
      { day: '2026-02-14', is_workday: true, source: 'builtin' },
      { day: '2026-02-16', is_workday: false, source: 'builtin' },
    ]);
    await again.close();
  });

  it('gives rows as DuckDB does: money and BIGINT as strings, dates as text, TIMESTAMPTZ as UTC text, JSON as text', async () => {
    const s = await pgStore();
    try {
      const row = await s.one(
        `SELECT CAST(12.3 AS DECIMAL(18,2)) AS m, CAST(9007199254740993 AS BIGINT) AS b, 2 AS i, DATE '2026-01-02' AS d,
                TIMESTAMPTZ '2026-01-01 08:00:00.5+08' AS ts, CAST('{"a": 1}' AS JSON) AS j, true AS t, $x AS x`,
        { x: 'x' },
      );
      expect(row).toEqual({ m: '12.30', b: '9007199254740993', i: 2, d: '2026-01-02', ts: '2026-01-01 00:00:00.5+00', j: '{"a": 1}', t: true, x: 'x' });
      // The session's time zone is Asia/Shanghai: a DATE of a timestamp is the Beijing date.
      expect(await s.one("SELECT CAST(TIMESTAMPTZ '2026-01-01 17:00:00Z' AS DATE) AS d")).toEqual({ d: '2026-01-02' });
    } finally {
      await s.close();
    }
  });

  it('keeps a transaction free of other callers’ statements, joins nested ones, and counts the generation at commit', async () => {
    const s = await pgStore();
    try {
      await s.run('CREATE TABLE fiscus.t (x INTEGER)');
      const seen: number[] = [];
      s.onWrite((g) => seen.push(g));
      const g0 = s.generation;
      const failing = s.transaction(async () => {
        await s.run('INSERT INTO fiscus.t VALUES (1)');
        await new Promise((r) => setTimeout(r, 50));
        throw new Error('boom');
      });
      const outside = s.run('INSERT INTO fiscus.t VALUES (2)');
      await expect(failing).rejects.toThrow('boom');
      await outside;
      await s.transaction(async () => {
        await s.transaction(() => s.run('INSERT INTO fiscus.t VALUES (3)'));
        expect(s.generation).toBe(g0 + 1); // not yet: counted at the commit
      });
      expect(await s.all('SELECT x FROM fiscus.t ORDER BY x')).toEqual([{ x: 2 }, { x: 3 }]);
      expect(s.generation).toBe(g0 + 2);
      expect(seen).toEqual([g0 + 1, g0 + 2]);
      // A read on the pool does not see an open transaction's rows.
      let inside: unknown[] = [];
      await s.transaction(async () => {
        await s.run('INSERT INTO fiscus.t VALUES (4)');
        inside = await s.readCommitted('SELECT x FROM fiscus.t ORDER BY x');
      });
      expect(inside).toEqual([{ x: 2 }, { x: 3 }]);
    } finally {
      await s.close();
    }
  });

  it('appends with COPY: tabs, newlines, backslashes, NULLs, DuckDB values; a failed append leaves nothing', async () => {
    const s = await pgStore();
    try {
      await s.run('CREATE TABLE fiscus.a (s VARCHAR, n BIGINT, m DECIMAL(18,2), ts TIMESTAMPTZ, b BOOLEAN)');
      const n = await s.append({ table: 'a', schema: 'fiscus' }, [
        ['a\tb\nc\\d', 1n, '1.10', new DuckDBTimestampTZValue(1_767_225_600_000_000n), true],
        [null, null, null, null, null],
      ]);
      expect(n).toBe(2);
      expect(await s.all('SELECT * FROM fiscus.a ORDER BY n NULLS LAST')).toEqual([
        { s: 'a\tb\nc\\d', n: '1', m: '1.10', ts: '2026-01-01 00:00:00+00', b: true },
        { s: null, n: null, m: null, ts: null, b: null },
      ]);
      await expect(s.append({ table: 'a', schema: 'fiscus' }, [['x', 'not a number', null, null, null]])).rejects.toThrow(/bigint/i);
      expect(await s.one('SELECT count(*) AS n FROM fiscus.a')).toEqual({ n: '2' });
      // The DuckDB-only doors say so.
      await expect(s.withConnection(async () => 1)).rejects.toThrow(/DuckDB engine only/);
    } finally {
      await s.close();
    }
  });

  it('the keyed flag event log appends, reads back and verifies', async () => {
    const s = await pgStore();
    try {
      const at = new Date('2026-01-05T02:03:04.567Z');
      const written = await appendFlagEvents(s, [
        { flag_id: 'F1', event_type: 'flag.discovered', to_status: 'new', actor: 'rules', role: 'system', at, data: { b: 1, a: [1, 2] } },
        { flag_id: 'F1', event_type: 'flag.confirmed', from_status: 'new', to_status: 'confirmed', actor: 'w', role: 'analyst', note: 'ok\tnote' },
      ]);
      const read = await readFlagEvents(s);
      expect(read).toEqual(written);
      expect(read[0]!.at_ms).toBe(at.getTime());
      expect((await verifyEventChain(s)).ok).toBe(true);
      await s.run("UPDATE fiscus.flag_events SET note = 'edited' WHERE seq = 2");
      expect((await verifyEventChain(s)).broken?.seq).toBe(2);
    } finally {
      await s.close();
    }
  });
});
