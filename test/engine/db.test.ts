import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { openStore } from '../../engine/db.ts';
import { appendFlagEvents } from '../../engine/flag-events.ts';
import { runCli } from '../helpers/cli.ts';
import { holdDatabase } from '../helpers/hold-db.ts';

describe('database ownership', () => {
  it('says which process holds the file and what to do, and leaves it intact', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fiscus-lock-')), 'locked.duckdb');
    const store = await openStore(path);
    await store.run("INSERT INTO ref.regions VALUES ('370800', '济宁市', '370000', 'city', NULL, 'b1', '1', now())");
    await store.close();

    const holder = await holdDatabase(path);
    try {
      const res = await runCli(['--db', path, 'query', 'SELECT count(*) AS n FROM ref.regions']);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`PID ${holder.pid}`);
      expect(res.stderr).toMatch(/--api/);
      expect(res.stderr).toMatch(/Nothing was changed/);
    } finally {
      await holder.stop();
    }
    const res = await runCli(['--db', path, 'query', 'SELECT region_name FROM ref.regions', '--format', 'csv']);
    expect(res.stdout).toBe('region_name\n济宁市\n');
  });
});

describe('concurrent use of one store', () => {
  it('keeps a transaction free of other callers’ statements', async () => {
    const store = await openStore(':memory:');
    try {
      await store.run('CREATE TABLE main.t (x INTEGER)');
      // A transaction that fails after a slow step, while another caller inserts meanwhile:
      // the outside insert must survive the rollback, and nothing of the transaction may land.
      const failing = store.transaction(async () => {
        await store.run('INSERT INTO main.t VALUES (1)');
        await new Promise((r) => setTimeout(r, 50));
        throw new Error('boom');
      });
      const outside = store.run('INSERT INTO main.t VALUES (2)');
      await expect(failing).rejects.toThrow('boom');
      await outside;
      const nested = store.transaction(async () => {
        await store.transaction(() => store.run('INSERT INTO main.t VALUES (3)'));
      });
      await nested;
      expect(await store.all('SELECT x FROM main.t ORDER BY x')).toEqual([{ x: 2 }, { x: 3 }]);
    } finally {
      await store.close();
    }
  });
});

describe('one owner of the main connection', () => {
  it('DuckDB itself: an appender on a connection with an open transaction is rolled back with it', async () => {
    // The hazard the Store exists for: this is what ingest/quarantine.ts and engine/flag-events.ts did on the
    // Store's public connection while another caller's transaction was open (issue 10, silent rollback).
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      await conn.run('CREATE TABLE t (x INTEGER)');
      await conn.run('BEGIN TRANSACTION'); // caller A, e.g. a tracker action
      await conn.run('INSERT INTO t VALUES (1)');
      const app = await conn.createAppender('t'); // caller B, e.g. an ingest's quarantine rows
      app.appendInteger(2);
      app.endRow();
      app.flushSync();
      app.closeSync();
      await conn.run('ROLLBACK'); // A fails
      expect((await conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM t')).getRowObjectsJson()).toEqual([{ n: 0 }]);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });

  it('keeps its connection private: no field of a Store holds a DuckDB connection or instance', async () => {
    const store = await openStore(':memory:');
    try {
      const anyStore = store as unknown as Record<string, unknown>;
      expect(anyStore.conn).toBeUndefined();
      expect(anyStore.instance).toBeUndefined();
      for (const v of Object.values(anyStore)) {
        expect(v).not.toBeInstanceOf(DuckDBConnection);
        expect(v).not.toBeInstanceOf(DuckDBInstance);
      }
    } finally {
      await store.close();
    }
  });

  it('an append waits for another caller’s open transaction, and its rows survive that rollback', async () => {
    const store = await openStore(':memory:');
    try {
      await store.run('CREATE TABLE main.t (x INTEGER)');
      const order: string[] = [];
      let opened!: () => void;
      const isOpen = new Promise<void>((r) => (opened = r));
      const failing = store.transaction(async () => {
        await store.run('INSERT INTO main.t VALUES (1)');
        opened();
        await new Promise((r) => setTimeout(r, 80));
        order.push('A rolls back');
        throw new Error('boom');
      });
      await isOpen;
      const appended = store.append({ table: 't', schema: 'main' }, [[2], [3]]).then((n) => order.push(`B appended ${n}`));
      // A prepared statement on the main connection (what the rule runner does) waits too.
      const prepared = store
        .withConnection(async (conn) => {
          const p = await conn.prepare('SELECT count(*)::INTEGER AS n FROM main.t WHERE x = $x');
          p.bindInteger(1, 1);
          return (await p.runAndReadAll()).getRowObjectsJson()[0];
        }, { writes: false })
        .then((r) => order.push(`C saw A's row ${JSON.stringify(r)}`));
      await expect(failing).rejects.toThrow('boom');
      await Promise.all([appended, prepared]);
      // B and C ran after A ended, outside its transaction: C never saw A's uncommitted row.
      expect(order[0]).toBe('A rolls back');
      expect(order.slice(1).sort()).toEqual(['B appended 2', 'C saw A\'s row {"n":0}']);
      expect(await store.all('SELECT x FROM main.t ORDER BY x')).toEqual([{ x: 2 }, { x: 3 }]);
    } finally {
      await store.close();
    }
  });

  it('appendFlagEvents and quarantine-style appends keep their rows when a concurrent tracker transaction fails', async () => {
    const store = await openStore(':memory:');
    try {
      await store.run('CREATE TEMP TABLE bad (_rn BIGINT, line BIGINT)');
      const failing = store.transaction(async () => {
        await store.run("UPDATE fiscus.flags SET status = 'x'");
        await new Promise((r) => setTimeout(r, 50));
        throw new Error('illegal transition');
      });
      const quarantine = store.append({ table: 'bad', schema: 'main', catalog: 'temp' }, [[1n, 2n], [5n, 7n]]);
      const events = appendFlagEvents(store, [{ flag_id: 'F1', event_type: 'flag.discovered', to_status: 'discovered', actor: 'rules', role: 'system' }]);
      await expect(failing).rejects.toThrow('illegal transition');
      await quarantine;
      expect((await events).map((e) => e.seq)).toEqual([1]);
      expect(await store.all('SELECT _rn, line FROM bad ORDER BY 1')).toEqual([{ _rn: '1', line: '2' }, { _rn: '5', line: '7' }]);
      expect(await store.all('SELECT seq, flag_id FROM fiscus.flag_events')).toEqual([{ seq: '1', flag_id: 'F1' }]);
    } finally {
      await store.close();
    }
  });

  it('an append is atomic: a failing row writes none of them, even inside a transaction that commits', async () => {
    const store = await openStore(':memory:');
    try {
      await store.run('CREATE TABLE main.t (x INTEGER NOT NULL)');
      await expect(store.append({ table: 't', schema: 'main' }, [[1], ['not a number']])).rejects.toThrow();
      await store.transaction(async () => {
        await store
          .withAppender({ table: 't', schema: 'main' }, (w) => {
            for (let i = 0; i < 3000; i++) w.appendRow([i]); // more than one chunk reaches the appender
            throw new Error('half-way');
          })
          .catch(() => undefined);
        await store.run('INSERT INTO main.t VALUES (42)');
      });
      expect(await store.all('SELECT x FROM main.t')).toEqual([{ x: 42 }]);
    } finally {
      await store.close();
    }
  });
});

describe('the exclusive section', () => {
  const tick = () => new Promise((r) => setTimeout(r, 20));

  it('runs read-decide-write sequences one at a time, re-entrantly, and transactions join it', async () => {
    const store = await openStore(':memory:');
    try {
      const log: string[] = [];
      const section = (name: string) =>
        store.exclusive(async () => {
          log.push(`${name}+`);
          await tick();
          // Nested: a section inside a section and a transaction inside it run at once.
          await store.exclusive(async () => {
            await store.transaction(() => store.run('SELECT 1'));
          });
          await tick();
          log.push(`${name}-`);
        });
      const a = section('a');
      const b = section('b');
      const tx = store.transaction(async () => {
        log.push('tx+');
        await tick();
        log.push('tx-');
      });
      await Promise.all([a, b, tx, section('c')]);
      expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'tx+', 'tx-', 'c+', 'c-']);
      expect(store.inExclusive).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('single reads do not wait for a section; a failing section releases it', async () => {
    const store = await openStore(':memory:');
    try {
      let release!: () => void;
      const held = store.exclusive(() => new Promise<void>((r) => (release = r)));
      expect(await store.one('SELECT 42 AS x')).toEqual({ x: 42 });
      release();
      await held;
      await expect(store.exclusive(async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
      expect(await store.exclusive(async () => 'next')).toBe('next');
    } finally {
      await store.close();
    }
  });
});

describe('write generation', () => {
  it('moves on every committed write and only then', async () => {
    const store = await openStore(':memory:');
    try {
      const seen: number[] = [];
      const off = store.onWrite((g) => seen.push(g));
      let g = store.generation;
      const moved = () => {
        const d = store.generation - g;
        g = store.generation;
        return d;
      };
      await store.run('CREATE TABLE main.t (x INTEGER)');
      expect(moved()).toBe(1);
      await store.all('SELECT * FROM main.t');
      await store.one('SELECT 1 AS one');
      await store.withConnection((c) => c.runAndReadAll('SELECT 1'), { writes: false });
      expect(moved()).toBe(0);
      await store.all('INSERT INTO main.t VALUES (1) RETURNING x');
      expect(moved()).toBe(1);
      await store.transaction(async () => {
        await store.run('INSERT INTO main.t VALUES (2)');
        await store.run('INSERT INTO main.t VALUES (3)');
        expect(store.generation).toBe(g); // not before the commit
      });
      expect(moved()).toBe(1);
      await store.transaction(async () => {
        await store.all('SELECT * FROM main.t');
      });
      expect(moved()).toBe(0); // a read-only transaction changed nothing
      await store
        .transaction(async () => {
          await store.run('INSERT INTO main.t VALUES (4)');
          throw new Error('rolled back');
        })
        .catch(() => undefined);
      expect(moved()).toBe(0);
      await store.append({ table: 't', schema: 'main' }, [[5]]);
      expect(moved()).toBe(1);
      await store.withConnection((c) => c.run('INSERT INTO main.t VALUES (6)'));
      expect(moved()).toBe(1);
      // EXPLAIN ANALYZE executes its statement: counted as a write.
      await store.all('EXPLAIN ANALYZE DELETE FROM main.t WHERE x = 6');
      expect(moved()).toBe(1);
      off();
      await store.run('INSERT INTO main.t VALUES (7)');
      expect(seen.length).toBe(6);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    } finally {
      await store.close();
    }
  });
});

describe('memory limit', () => {
  it('caps DuckDB memory with FISCUS_MEMORY_LIMIT and refuses a malformed size', async () => {
    process.env.FISCUS_MEMORY_LIMIT = '1GB';
    try {
      const store = await openStore(':memory:');
      const row = await store.one<{ m: string }>("SELECT current_setting('memory_limit') AS m");
      await store.close();
      expect(row?.m).toBe('953.6 MiB');
      process.env.FISCUS_MEMORY_LIMIT = 'lots';
      await expect(openStore(':memory:')).rejects.toThrow(/FISCUS_MEMORY_LIMIT must be a size/);
    } finally {
      delete process.env.FISCUS_MEMORY_LIMIT;
    }
  });
});
