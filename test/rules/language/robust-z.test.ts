/**
 * The robust z-score's MAD on DuckDB is one `mad()` aggregate (rules/language/emit/robust-z.ts),
 * where the rule language defines it as median(|x − median(x)|). On a real DuckDB database the
 * two must agree to the last bit, or a z-score at the threshold could flip: groups of odd and
 * even size (interpolated medians), ties, a constant group (MAD 0), negative and tiny values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore, type Store } from '../../../engine/db.ts';
import { dialectOf } from '../../../rules/language/dialects/index.ts';

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fiscus-mad-'));
  store = await openStore(join(dir, 'm.duckdb'));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A small deterministic generator (mulberry32): the same groups on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

it('DuckDB mad() is median(abs(x - median(x))) bit for bit', async () => {
  const next = rng(20261207);
  const rows: string[] = [];
  for (let g = 0; g < 400; g++) {
    const size = 1 + Math.floor(next() * 60);
    const style = g % 4;
    for (let i = 0; i < size; i++) {
      const v = style === 0 ? Math.log(1 + Math.floor(next() * 5) * 100) // few values: ties
        : style === 1 ? 7.25 // constant: MAD 0
          : style === 2 ? (next() - 0.5) * 1e-6 // tiny, both signs
            : Math.log(1 + next() * 1e7); // ln(amount)
      rows.push(`(${g}, ${v.toPrecision(17)})`);
    }
  }
  await store.run('CREATE TABLE main.v (g INTEGER, x DOUBLE)');
  for (let i = 0; i < rows.length; i += 1000) await store.run(`INSERT INTO main.v VALUES ${rows.slice(i, i + 1000).join(', ')}`);
  const d = dialectOf('duckdb');
  expect(d.mad).toBeDefined();
  const diff = await store.all<{ g: number; one: number; two: number }>(
    `WITH m AS (SELECT g, ${d.median('x')} AS med, ${d.mad!('x')} AS one FROM main.v GROUP BY g),
          s AS (SELECT v.g, ${d.median('abs(v.x - m.med)')} AS two FROM main.v v JOIN m ON m.g = v.g GROUP BY v.g)
     SELECT m.g, m.one, s.two FROM m JOIN s ON s.g = m.g
     WHERE m.one IS DISTINCT FROM s.two OR CAST(m.one AS VARCHAR) <> CAST(s.two AS VARCHAR)`,
  );
  expect(diff).toEqual([]);
  const n = await store.one<{ n: number }>('SELECT count(DISTINCT g)::INTEGER AS n FROM main.v');
  expect(n?.n).toBe(400);
});
