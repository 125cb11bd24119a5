/**
 * rules/run/inline-values.ts: the compiler's DuckDB SQL with its values written in. The scan
 * replaces parameters and nothing inside a string literal or a quoted name, and gives up where
 * it would have to guess; literals carry the bound types exactly; a hostile string value stays
 * one string; and every statement of the built-in pack gives the same rows inlined as bound,
 * on the bundled sample.
 */
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbOnly, type Store } from '../../../engine/db.ts';
import { ingestPath } from '../../../ingest/index.ts';
import { compileRule, loadBuiltinPack } from '../../../rules/language/index.ts';
import { sqlTextsOf } from '../../../rules/language/emit/provenance.ts';
import { bindRule, type BindContext } from '../../../rules/run/bind.ts';
import { MAX_INLINE_LITERAL, duckdbLiteral, inlineParameters, inlineRuleValues } from '../../../rules/run/inline-values.ts';
import { runRules } from '../../../rules/run/runner.ts';
import type { CompiledRule } from '../../../rules/types.ts';
import { addPayments, compileTestRule, tempStore } from './helpers.ts';

const SAMPLE = join(import.meta.dirname, '../../../fixtures/sample');
const upper = (n: string) => `<${n.toUpperCase()}>`;

describe('the scan', () => {
  it('replaces each parameter outside quotes, and nothing inside them', () => {
    expect(inlineParameters(`SELECT CAST($as_of AS DATE), '$as_of', "$as_of" FROM t WHERE x = $p_min`, upper))
      .toBe(`SELECT CAST(<AS_OF> AS DATE), '$as_of', "$as_of" FROM t WHERE x = <P_MIN>`);
    // A doubled quote is part of the literal; the parameter after it is still one.
    expect(inlineParameters(`SELECT 'it''s $x', "a""$b", $c`, upper)).toBe(`SELECT 'it''s $x', "a""$b", <C>`);
    expect(inlineParameters('SELECT 1', upper)).toBe('SELECT 1');
  });

  it('gives up where it would have to guess', () => {
    for (const sql of [
      'SELECT $x -- a comment',
      'SELECT /* $x */ $y',
      'SELECT $$ $x $$',
      'SELECT $tag$ $x $tag$',
      'SELECT $1',
      'SELECT a$x FROM t',
      "SELECT E'\\' $x'",
      "SELECT 'never closed $x",
    ]) expect(inlineParameters(sql, upper), sql).toBeUndefined();
    // A value it cannot write in: the caller binds instead.
    expect(inlineParameters('SELECT $x', () => undefined)).toBeUndefined();
  });
});

describe('the literals', () => {
  it('carry exactly the types bindRule binds with', () => {
    expect(duckdbLiteral({ type: 'decimal', cents: 123456n })).toBe(`CAST('1234.56' AS DECIMAL(18,2))`);
    expect(duckdbLiteral({ type: 'decimal', cents: -5n })).toBe(`CAST('-0.05' AS DECIMAL(18,2))`);
    expect(duckdbLiteral({ type: 'double', value: 1e-7 })).toBe(`CAST('1e-7' AS DOUBLE)`);
    expect(duckdbLiteral({ type: 'integer', value: -3 })).toBe('CAST(-3 AS INTEGER)');
    expect(duckdbLiteral({ type: 'date', iso: '2025-12-31' })).toBe(`DATE '2025-12-31'`);
    expect(duckdbLiteral({ type: 'list', value: null })).toBe('CAST(NULL AS VARCHAR[])');
    expect(duckdbLiteral({ type: 'list', value: ["o'b", 'c'] })).toBe(`CAST(['o''b', 'c'] AS VARCHAR[])`);
    expect(duckdbLiteral({ type: 'varchar', value: "x' OR TRUE --" })).toBe(`'x'' OR TRUE --'`);
    expect(duckdbLiteral({ type: 'varchar', value: 'a\u0000b' })).toBeUndefined();
    expect(duckdbLiteral({ type: 'list', value: ['a', '\u0000'] })).toBeUndefined();
  });
});

describe('on DuckDB', () => {
  let store: Store;
  let pack: CompiledRule[];
  beforeAll(async () => {
    store = await tempStore('fiscus-inline-');
    for (const r of await ingestPath(store, SAMPLE)) expect(r.status, r.message ?? '').toMatch(/committed/);
    pack = (await loadBuiltinPack()).map((d) => compileRule(d));
  }, 60_000);
  afterAll(async () => {
    await store.close();
  });

  const rows = async (conn: DuckDBConnection, sql: string, bind?: (p: Parameters<typeof bindRule>[0]) => void) => {
    const p = await conn.prepare(sql);
    bind?.(p);
    const reader = await p.runAndReadAll();
    // Without ORDER BY the order is the engine's; the rows are compared as a set.
    return { parameters: p.parameterCount, rows: JSON.stringify(reader.getRowObjectsJson().map((r) => JSON.stringify(r)).sort()) };
  };

  /** The sample's batches: a delta run after them re-evaluates every key they touched. */
  const sampleBatches = async (): Promise<string[]> =>
    (await store.all<{ batch_id: string }>(`SELECT batch_id FROM fiscus.batches ORDER BY batch_id`)).map((r) => r.batch_id);

  it('every statement of the pack gives the same rows inlined as bound', async () => {
    let compared = 0;
    let nonEmpty = 0;
    for (const rule of pack) {
      const ctxs: BindContext[] = [
        { asOf: '2025-12-31', scope: null },
        { asOf: '2025-06-30', scope: ['A01', "B'02"], deltaBatches: [...(await sampleBatches()), "no'ne"], deltaDates: ['2025-03-01', '2025-03-31'] },
      ];
      await duckdbOnly(store, 'test').withConnection(async (conn) => {
        for (const sql of sqlTextsOf(rule)) {
          for (const ctx of ctxs) {
            // A delta variant runs after new batches only.
            if (/\$delta_/.test(sql) && !ctx.deltaBatches) continue;
            const inlined = inlineRuleValues(sql, rule, ctx);
            expect(inlined, `${rule.meta.id}: not inlined`).toBeDefined();
            const a = await rows(conn, inlined!);
            const b = await rows(conn, sql, (p) => bindRule(p, rule, ctx));
            expect(a.parameters, rule.meta.id).toBe(0);
            expect(a.rows, `${rule.meta.id}\n${sql.slice(0, 200)}`).toBe(b.rows);
            compared++;
            if (a.rows !== '[]') nonEmpty++;
          }
        }
      });
    }
    expect(compared).toBeGreaterThan(200);
    // The comparison means something only where there are rows to compare.
    expect(nonEmpty).toBeGreaterThan(150);
  });

  it('binds a value too long to be worth writing in (a big scope list), with the same rows', async () => {
    const rule = pack.find((r) => r.meta.id === 'treasury.duplicate_payment')!;
    const agencies = (await store.all<{ a: string }>(`SELECT DISTINCT agency_code AS a FROM treasury.payments ORDER BY 1`)).map((r) => r.a);
    // The sample's agencies, padded with agencies that match nothing until the list is past the limit.
    const pad = Array.from({ length: Math.ceil(MAX_INLINE_LITERAL / 4) }, (_, i) => `X${i}`);
    const ctx: BindContext = { asOf: '2025-12-31', scope: [...agencies, ...pad] };
    expect(inlineRuleValues(rule.sql, rule, ctx)).toBeUndefined();
    expect(inlineRuleValues(rule.sql, rule, { ...ctx, scope: agencies })).toBeDefined();
    await duckdbOnly(store, 'test').withConnection(async (conn) => {
      const bound = await rows(conn, rule.sql, (p) => bindRule(p, rule, ctx));
      const inlined = await rows(conn, inlineRuleValues(rule.sql, rule, { ...ctx, scope: agencies })!);
      expect(bound.rows).not.toBe('[]');
      expect(bound.rows).toBe(inlined.rows);
    });
  });

  it('a hostile string value stays one string: the title shows it and nothing else runs', async () => {
    const s = await tempStore('fiscus-inline-attack-');
    try {
      await addPayments(s, 'B1', [{ id: 'P1', agency: 'A01', amount: '10.00', date: '2025-03-01' }]);
      const hostile = `x' OR TRUE); DELETE FROM treasury.payments; -- $as_of "q"`;
      const rule = compileTestRule(`id: local.tagged
version: 1
status: test
severity: low
title: { zh: "标记 {tag}", en: "Tagged {tag}" }
params:
  tag: { type: string, default: none }
reads: [treasury.payments]
match:
  from: treasury.payments as p
  where: p.purpose <> $tag
let:
  tag: $tag
entity: { type: payment, id: p.payment_id }
measure: { name: amount, value: p.amount, threshold: 0 }
`);
      const attacked: CompiledRule = { ...rule, params: { ...rule.params, p_tag: hostile } };
      // The copy is not the compiler's object, so the runner would guard and bind it: inline the original's text by hand.
      expect(inlineRuleValues(rule.sql, attacked, { asOf: '2025-12-31', scope: null })).toContain(`'x'' OR TRUE); DELETE FROM treasury.payments; -- $as_of "q"'`);
      const summary = await runRules(s, [Object.assign(rule, { params: attacked.params })], { asOf: '2025-12-31', full: true, actor: 'test' });
      expect(summary.rules[0]!.outcome, summary.rules[0]!.reason ?? '').toBe('evaluated');
      expect(await s.all<{ title: string }>('SELECT title FROM fiscus.flags')).toEqual([{ title: `标记 ${hostile}` }]);
      expect(await s.all<{ n: string }>('SELECT count(*)::VARCHAR AS n FROM treasury.payments')).toEqual([{ n: '1' }]);
    } finally {
      await s.close();
    }
  });
});
