import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { FEEDS, SYSTEM_COLUMNS, systemColumnType } from '../../engine/feeds.ts';
import { migrate, MIGRATIONS, schemaVersion, type Migration } from '../../engine/migrations.ts';

function tempDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'fiscus-engine-')), 'test.duckdb');
}

describe('schema migrations', () => {
  it('creates every feed table with its key, DECIMAL money and bookkeeping columns', async () => {
    const store = await openStore(tempDb());
    try {
      expect(await schemaVersion(store)).toBe(MIGRATIONS.at(-1)!.version);
      for (const t of FEEDS) {
        const cols = await store.all<{ column_name: string; data_type: string }>(
          `SELECT column_name, data_type FROM information_schema.columns
           WHERE table_schema = $s AND table_name = $t ORDER BY ordinal_position`,
          { s: t.schema, t: t.table },
        );
        const names = cols.map((c) => c.column_name);
        expect(names).toEqual([...t.columns.map((c) => c.name), 'extra', '_batch_id', '_row_hash', '_ingested_at']);
        expect(cols.find((x) => x.column_name === '_row_hash')?.data_type, `${t.name}._row_hash`).toBe('UBIGINT');
        // What engine/feeds.ts declares for DuckDB now is what the migrations left (a new
        // migration that rebuilds a table from that declaration recreates it as it is).
        const declared = SYSTEM_COLUMNS.map((c) => [c.name, systemColumnType(c, 'duckdb').replace(' NOT NULL', '').replace('TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE')]);
        expect(cols.slice(t.columns.length).map((c) => [c.column_name, c.data_type]), t.name).toEqual(declared);
        for (const c of t.columns.filter((c) => c.type === 'money')) {
          expect(cols.find((x) => x.column_name === c.name)?.data_type, `${t.name}.${c.name}`).toBe('DECIMAL(18,2)');
        }
        // No primary-key index on DuckDB (migration 10): ingest enforces the key (test/ingest/keys.test.ts).
        const pk = await store.all<{ constraint_text: string }>(
          `SELECT constraint_text FROM duckdb_constraints() WHERE schema_name = $s AND table_name = $t AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')`,
          { s: t.schema, t: t.table },
        );
        expect(pk, t.name).toEqual([]);
      }
    } finally {
      await store.close();
    }
  });

  it('migrations 10 and 11 rebuild a keyed feed table of an older database without its index, keeping every row and its hash', async () => {
    const path = tempDb();
    const first = await openStore(path);
    // The table as versions 1-9 made it: with its primary key, and rows in it.
    await first.run('DROP TABLE ref.regions');
    await first.run(`CREATE TABLE ref.regions (region_code VARCHAR NOT NULL, region_name VARCHAR NOT NULL, parent_code VARCHAR, level VARCHAR NOT NULL,
      extra JSON, _batch_id VARCHAR NOT NULL, _row_hash VARCHAR NOT NULL, _ingested_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (region_code))`);
    // Hashes as versions 1-10 wrote them (decimal text of a UBIGINT), and one written by hand.
    await first.run(`INSERT INTO ref.regions VALUES ('110000', '北京市', NULL, 'province', NULL, 'B1', '18446744073709551615', now()),
      ('110100', '市辖区', '110000', 'city', NULL, 'B1', 'h2', now())`);
    await first.run('DELETE FROM fiscus.schema_version WHERE version >= 10');
    await first.close();
    const store = await openStore(path);
    try {
      expect(await schemaVersion(store)).toBe(MIGRATIONS.at(-1)!.version);
      expect(await store.all('SELECT region_code, region_name, parent_code, _batch_id FROM ref.regions ORDER BY 1')).toEqual([
        { region_code: '110000', region_name: '北京市', parent_code: null, _batch_id: 'B1' },
        { region_code: '110100', region_name: '市辖区', parent_code: '110000', _batch_id: 'B1' },
      ]);
      expect(await store.all(`SELECT 1 FROM duckdb_constraints() WHERE schema_name = 'ref' AND table_name = 'regions' AND constraint_type = 'PRIMARY KEY'`)).toEqual([]);
      // Migration 11: the text became the number it spells; text that spells none, the hash of that text.
      expect(await store.all(`SELECT region_code, _row_hash, _row_hash = hash('h2') AS hashed, typeof(_row_hash) AS type FROM ref.regions ORDER BY 1`)).toEqual([
        { region_code: '110000', _row_hash: '18446744073709551615', hashed: false, type: 'UBIGINT' },
        { region_code: '110100', _row_hash: expect.stringMatching(/^\d+$/), hashed: true, type: 'UBIGINT' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('is idempotent on reopen and applies only newer migrations, in order', async () => {
    const path = tempDb();
    const first = await openStore(path);
    await first.close();
    const store = await openStore(path);
    try {
      expect(await migrate(store)).toEqual([]);
      const extra: Migration[] = [
        ...MIGRATIONS,
        { version: 1000, description: 'test: add a table', up: (s) => s.run('CREATE TABLE fiscus.migration_probe (x INTEGER)') },
      ];
      expect(await migrate(store, extra)).toEqual([1000]);
      expect(await migrate(store, extra)).toEqual([]);
      expect(await schemaVersion(store)).toBe(1000);
    } finally {
      await store.close();
    }
  });

  it('refuses a database newer than the code', async () => {
    const store = await openStore(tempDb());
    try {
      await store.run("INSERT INTO fiscus.schema_version VALUES (99999, 'from the future', now())");
      await expect(migrate(store)).rejects.toThrow(/newer than this fiscus/);
    } finally {
      await store.close();
    }
  });

  it('rolls back a failing migration whole', async () => {
    const store = await openStore(tempDb());
    try {
      const before = await schemaVersion(store);
      const broken: Migration[] = [
        ...MIGRATIONS,
        {
          version: 2000,
          description: 'test: fails half way',
          up: async (s) => {
            await s.run('CREATE TABLE fiscus.half_done (x INTEGER)');
            await s.run('SELECT * FROM no_such_table');
          },
        },
      ];
      await expect(migrate(store, broken)).rejects.toThrow();
      expect(await schemaVersion(store)).toBe(before);
      const t = await store.all("SELECT * FROM information_schema.tables WHERE table_name = 'half_done'");
      expect(t).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
