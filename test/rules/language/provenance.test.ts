/**
 * The rule runner skips the read-only guard's tree walk for SQL the compiler wrote
 * (rules/language/emit/provenance.ts). These tests hold that exemption to its terms: every
 * text the built-in pack compiles to passes the full guard, and any other text (a rule edited
 * after compiling, a copy, a hand-built rule) is still walked and refused when it reads a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../engine/db.ts';
import { checkReadOnly, SqlRejected } from '../../../engine/sql-guard.ts';
import { compileRule, loadBuiltinPack } from '../../../rules/language/index.ts';
import { emittedByCompiler, sqlTextsOf } from '../../../rules/language/emit/provenance.ts';
import { queryRule } from '../../../rules/run/execute.ts';
import type { CompiledRule } from '../../../rules/types.ts';

let dir: string;
let store: Store;
let pack: CompiledRule[];
let csv: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fiscus-provenance-'));
  // A DuckDB file of its own, not locked down: what the guard lets through runs with full rights.
  store = await openStore(join(dir, 'p.duckdb'));
  csv = join(dir, 'secret.csv');
  writeFileSync(csv, 'secret\nhunter2\n');
  pack = (await loadBuiltinPack()).map((d) => compileRule(d));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = { asOf: '2025-12-31', scope: null };

describe('SQL the rule compiler wrote', () => {
  it('passes the full read-only guard, every text of every built-in rule', async () => {
    const texts = pack.flatMap((r) => sqlTextsOf(r).map((sql) => ({ id: r.meta.id, sql })));
    // Main, delta, precondition and input-count queries of 28 rules.
    expect(texts.length).toBeGreaterThan(60);
    const refused: string[] = [];
    await store.withConnection(async (conn) => {
      for (const t of texts) {
        await checkReadOnly(conn, t.sql).catch((err: unknown) => refused.push(`${t.id}: ${String(err)}`));
      }
    });
    expect(refused).toEqual([]);
    for (const r of pack) expect(sqlTextsOf(r).every((sql) => emittedByCompiler(r, sql))).toBe(true);
  });

  it('runs through the runner without the tree walk and returns its rows', async () => {
    const rule = pack.find((r) => r.meta.id === 'treasury.individual_large')!;
    const rows = await queryRule(store, rule, rule, ctx);
    expect(rows.rows).toEqual([]);
    expect(rows.columns).toContain('entity_id');
  });
});

describe('any other SQL is walked by the guard', () => {
  const readsFile = () => `SELECT * FROM read_csv('${csv}')`;

  it('a compiled rule whose SQL was changed after compiling', async () => {
    const [rule] = (await loadBuiltinPack()).filter((d) => d.meta.id === 'treasury.individual_large').map((d) => compileRule(d));
    rule!.sql = readsFile();
    expect(emittedByCompiler(rule!, rule!.sql)).toBe(false);
    await expect(queryRule(store, rule!, rule!, ctx)).rejects.toThrow(SqlRejected);
    await expect(queryRule(store, rule!, rule!, ctx)).rejects.toThrow(/read_csv/);
  });

  it('a copy of a compiled rule, and a statement of one rule run as another', async () => {
    const rule = pack.find((r) => r.meta.id === 'treasury.no_budget')!;
    const copy = { ...rule, sql: readsFile() };
    await expect(queryRule(store, copy, copy, ctx)).rejects.toThrow(SqlRejected);
    // The record is per rule object: another rule's text is not this rule's.
    const other = pack.find((r) => r.meta.id === 'treasury.individual_large')!;
    expect(emittedByCompiler(rule, other.sql)).toBe(false);
    // An unchanged copy still runs: it only takes the slower, full check.
    const same = { ...rule };
    expect(emittedByCompiler(same, same.sql)).toBe(false);
    expect((await queryRule(store, same, same, ctx)).rows).toEqual([]);
  });

  it('a rule built by hand: read_csv is refused, and so is a second statement', async () => {
    const base = pack.find((r) => r.meta.id === 'treasury.individual_large')!;
    const hand: CompiledRule = { meta: base.meta, params: {}, parameters: [], dialect: 'duckdb', preconditions: [], sql: readsFile() };
    await expect(queryRule(store, hand, hand, ctx)).rejects.toThrow(SqlRejected);
    const two = { ...hand, sql: 'SELECT 1 AS x; DROP TABLE treasury.payments' };
    await expect(queryRule(store, two, two, ctx)).rejects.toThrow(SqlRejected);
    expect(await store.one('SELECT count(*) AS n FROM treasury.payments')).toBeDefined();
  });
});
