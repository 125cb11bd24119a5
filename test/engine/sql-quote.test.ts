/** The one SQL string quoter: whatever the text, DuckDB reads back exactly that text and nothing runs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { sqlString, sqlStringList } from '../../engine/sql-quote.ts';

let store: Store;
beforeAll(async () => {
  store = await openStore(':memory:');
});
afterAll(async () => {
  await store.close();
});

describe('sqlString', () => {
  it('round-trips hostile text through DuckDB as a literal', async () => {
    const texts = [
      "it's", "''", "'", "x'; DROP TABLE fiscus.flags; --", "a\\'b", '"double"', '反斜杠\\和引号\'', 'line\nbreak', "$p ? :name", '', "/tmp/o'brien/data.duckdb",
    ];
    for (const t of texts) {
      const r = await store.one<{ v: string }>(`SELECT ${sqlString(t)} AS v`);
      expect(r?.v, JSON.stringify(t)).toBe(t);
    }
    // The table the injection names is still there.
    expect((await store.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM fiscus.flags'))?.n).toBe(0);
  });

  it('quotes lists for IN (…)', async () => {
    const r = await store.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM (VALUES ('a'), ('it''s'), ('c')) t(x) WHERE x IN (${sqlStringList(['a', "it's"])})`);
    expect(r?.n).toBe(2);
    expect(sqlStringList([])).toBe('');
  });
});
