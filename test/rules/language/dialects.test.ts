/**
 * Compile-only checks of the rule SQL per dialect, for every rule of the pack:
 * - golden text (test/rules/language/golden/<dialect>/<rule>.sql; `npx vitest run -u` after a deliberate change),
 * - no DuckDB-only construct in the PostgreSQL SQL,
 * - parameters listed in binding order, positional on PostgreSQL,
 * - PostgreSQL 15 accepts every statement (PREPARE + EXPLAIN EXECUTE on an empty schema from the
 *   feed catalogue), when the run has a PostgreSQL (test/helpers/pg-global-setup.ts),
 * - a construct an engine lacks is refused when the rule is checked, naming rule and construct.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIALECTS, RuleError, compileRule, loadBuiltinPack, parseRuleText, postgresDialect, type RuleDefinition,
} from '../../../rules/language/index.ts';
import type { CompiledRule } from '../../../rules/types.ts';
import { feedTable } from '../../../engine/feeds.ts';
import { freshDatabase } from '../../helpers/postgres.ts';
import { feedSchemaDdl } from './pg-schema.ts';

let pack: RuleDefinition[];
beforeAll(async () => {
  pack = await loadBuiltinPack();
});

/** Everything a compiled rule sends to the engine, as one text. */
function statements(c: CompiledRule): { what: string; sql: string; parameters: { name: string; type: string }[] }[] {
  return [
    { what: 'rule', sql: c.sql, parameters: c.parameters ?? [] },
    ...c.preconditions.map((p, i) => ({ what: `precondition ${i + 1} (${p.reason})`, sql: p.sql, parameters: p.parameters ?? [] })),
    ...(c.inputs ?? []).map((p, i) => ({ what: `input ${i + 1} (${p.table})`, sql: p.sql, parameters: p.parameters ?? [] })),
    ...(c.delta ? [{ what: `delta (${c.delta.keys.join(', ')})`, sql: c.delta.sql, parameters: c.delta.parameters ?? [] }] : []),
  ];
}

function golden(c: CompiledRule): string {
  return `${statements(c).map((s) => `-- ${s.what}\n-- parameters: ${s.parameters.map((p, i) => `${c.dialect === 'postgres' ? `$${i + 1}` : `$${p.name}`}=${p.name}:${p.type}`).join(', ') || 'none'}\n${s.sql};\n`).join('\n')}`;
}

/** DuckDB spellings PostgreSQL does not have (or reads differently). */
const DUCKDB_ONLY: [string, RegExp][] = [
  ['list functions', /\blist(_filter|_transform|_contains|_concat|_sort|_distinct)?\s*\(/i],
  ['lambda', /\b\w+\s*->\s/],
  ['STRUCT', /\bSTRUCT\s*\(|struct_pack/i],
  ['DOUBLE without PRECISION', /\bDOUBLE\b(?!\s+PRECISION)/],
  ['VARCHAR[] / list cast', /VARCHAR\[\]|::\w/],
  ['range()', /\brange\s*\(/i],
  ['last_day/strftime/strptime', /\b(last_day|strftime|strptime|dayofyear|isodow)\s*\(/i],
  ['year()/month()/quarter()/day()', /\b(year|month|quarter|day)\s*\(/i],
  ['median/arg_max/arg_min/first/last', /\b(median|arg_max|arg_min|first|last)\s*\(/i],
  ['ends_with/contains', /\b(ends_with|contains)\s*\(/i],
  ['JSON functions', /\bjson_extract_string|\bjson_object\s*\(|AS JSON\)/i],
  ['SEMI JOIN', /\bSEMI\s+JOIN\b/i],
  ['HUGEINT / TRY_CAST / integer division //', /\bHUGEINT\b|\bTRY_CAST\b|\/\//i],
  ['named parameters', /\$[A-Za-z_]/],
  ['list literal', /(?<!ARRAY|\)|'|TEXT)\[/],
];

describe.each(Object.keys(DIALECTS))('%s dialect', (dialect) => {
  it('emits the golden SQL of every pack rule', async () => {
    for (const def of pack) {
      const c = compileRule(def, { dialect: dialect as 'duckdb' });
      expect(c.dialect).toBe(dialect);
      await expect(golden(c), def.meta.id).toMatchFileSnapshot(`golden/${dialect}/${def.meta.id}.sql`);
    }
  });
});

describe('PostgreSQL SQL', () => {
  it('has no DuckDB-only construct and numbers its parameters in binding order', () => {
    for (const def of pack) {
      const c = compileRule(def, { dialect: 'postgres' });
      for (const s of statements(c)) {
        for (const [what, re] of DUCKDB_ONLY) expect(re.exec(s.sql)?.[0], `${def.meta.id} ${s.what}: ${what}`).toBeUndefined();
        const used = new Set([...s.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
        expect([...used].sort((a, b) => a - b), `${def.meta.id} ${s.what}`).toEqual(s.parameters.map((_, i) => i + 1));
        expect(new Set(s.parameters.map((p) => p.name)).size).toBe(s.parameters.length);
      }
      // The rule's own parameters are bound, never pasted: each appears in the parameter list.
      expect(c.parameters!.map((p) => p.name)).toContain('as_of');
    }
  });

  it('the DuckDB-only list has teeth: the DuckDB SQL of the pack trips it', () => {
    const hits = new Set<string>();
    for (const def of pack) {
      const sql = compileRule(def).sql;
      for (const [what, re] of DUCKDB_ONLY) if (re.test(sql)) hits.add(what);
    }
    expect([...hits]).toEqual(expect.arrayContaining(['list functions', 'STRUCT', 'DOUBLE without PRECISION', 'named parameters', 'year()/month()/quarter()/day()']));
  });

  it('DuckDB SQL keeps named parameters and lists each once', () => {
    for (const def of pack) {
      const c = compileRule(def);
      const named = new Set([...c.sql.matchAll(/\$([A-Za-z_]\w*)/g)].map((m) => m[1]));
      expect(new Set(c.parameters!.map((p) => p.name)), def.meta.id).toEqual(named);
    }
  });

  it('refuses at check time what the engine lacks, naming the rule and the construct', () => {
    const rest = `  having: spending > budget
entity: { type: agency, id: agency_code }
measure: { name: spending, value: spending, threshold: budget }
`;
    const text = fullCompareRule('agency_code, project_code', rest);
    const def = parseRuleText(text, 'rules/full.rule.yaml');
    expect(compileRule(def).sql).toContain('FULL JOIN');
    let err: unknown;
    try {
      compileRule(def, { dialect: 'postgres' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleError);
    const e = err as RuleError;
    expect(e.diagnostic).toBe('dialect-unsupported');
    expect(e.message).toMatch(/^rules\/full\.rule\.yaml:10:9: rule local\.full: `join: full` on a key that can be missing on both sides is not available on postgres/);
    expect(postgresDialect.unsupported.median).toBeUndefined();
    // Keys the feed contract makes NOT NULL are matched with plain `=`: PostgreSQL FULL JOINs those.
    const required = parseRuleText(fullCompareRule('agency_code', rest), 'rules/full.rule.yaml');
    expect(compileRule(required, { dialect: 'postgres' }).sql).toContain('FULL JOIN fiscus_r AS __r ON __l."agency_code" = __r."agency_code"');
  });

  it('a dialect without window functions or an exact median refuses the rules that need them, by name and construct', () => {
    // An old ClickHouse (Debian's 18.16): the same SQL family, fewer constructs (see SCALE-OUT.md).
    const old = {
      ...postgresDialect, name: 'clickhouse-18',
      unsupported: { window_functions: 'no window functions before 21.x', median: 'only approximate quantiles' },
    };
    const fails = (id: string) => {
      try {
        compileRule(pack.find((d) => d.meta.id === id)!, { dialect: old });
      } catch (e) {
        return e as RuleError;
      }
      throw new Error(`${id} compiled on ${old.name}`);
    };
    const dup = fails('treasury.duplicate_payment');
    expect(dup.diagnostic).toBe('dialect-unsupported');
    expect(dup.message).toMatch(/duplicate_payment\.rule\.yaml:\d+:\d+: rule treasury\.duplicate_payment: `cluster` \(gaps and islands over window functions\) is not available on clickhouse-18: no window functions before 21\.x/);
    expect(fails('treasury.amount_outlier').message).toMatch(/rule treasury\.amount_outlier: `robust_z` \(median and MAD of each peer group\) is not available on clickhouse-18: only approximate quantiles/);
    // A dialect may write a typed IR node itself: here every text comparison with a literal, seen as a node.
    const seen: string[] = [];
    const watching = {
      ...postgresDialect,
      emitNode: (n: Parameters<NonNullable<typeof postgresDialect.emitNode>>[0], render: (x: typeof n) => string) => {
        if (n.k === 'binary' && n.op === '=' && n.right.k === 'str') {
          seen.push(`${n.span.line}:${n.span.column} ${n.left.type} = '${n.right.value}'`);
          return `(${render(n.left)} = ${render(n.right)} /* typed */)`;
        }
        return undefined;
      },
    };
    const compiled = compileRule(pack.find((d) => d.meta.id === 'treasury.individual_large')!, { dialect: watching });
    expect(compiled.sql).toContain(`("p"."payee_type" = 'individual' /* typed */)`);
    expect(compiled.delta!.sql).toContain(`("p"."payee_type" = 'individual' /* typed */)`);
    // The one node, seen once for the main SQL and once for the delta variant.
    expect(seen).toEqual([expect.stringMatching(/^\d+:\d+ string = 'individual'$/), expect.stringMatching(/^\d+:\d+ string = 'individual'$/)]);
    expect(seen[0]).toBe(seen[1]);
    // Rules that need neither still compile.
    expect(compileRule(pack.find((d) => d.meta.id === 'treasury.individual_large')!, { dialect: old }).dialect).toBe('clickhouse-18');
  });
});

/** Budget against spending per `groupBy`, `join: full` (line 10), then `rest` (having, lets, entity, measure). */
function fullCompareRule(groupBy: string, rest: string): string {
  return `id: local.full
version: 1
status: test
severity: low
title: { zh: "比对 {agency_code}", en: "Compare {agency_code}" }
reads: [treasury.budget_indicators, treasury.payments]
compare:
  left: { from: treasury.budget_indicators, group_by: [${groupBy}], compute: { budget: sum(amount) } }
  right: { from: treasury.payments, group_by: [${groupBy}], compute: { spending: sum(amount) } }
  join: full
${rest}`;
}

const PG_URL = process.env.FISCUS_TEST_PG_URL;
const PG_TYPES: Record<string, string> = {
  money: 'numeric', number: 'float8', percent: 'float8', integer: 'bigint', days: 'bigint', string: 'text', date: 'date', boolean: 'boolean', list: 'text[]',
};

describe.skipIf(!PG_URL)('PostgreSQL 15 accepts every statement', () => {
  let db: pg.Client;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: await freshDatabase('rulesql') });
    await db.connect();
    for (const s of feedSchemaDdl()) await db.query(s);
  });
  afterAll(async () => {
    await db?.end();
  });

  it('PREPARE and EXPLAIN EXECUTE every rule, precondition and input count of the pack', async () => {
    let n = 0;
    for (const def of pack) {
      for (const s of statements(compileRule(def, { dialect: 'postgres' }))) {
        n++;
        const types = s.parameters.map((p) => PG_TYPES[p.type]).join(', ');
        try {
          await db.query(`PREPARE s${n}${types ? ` (${types})` : ''} AS ${s.sql}`);
          await db.query(`EXPLAIN EXECUTE s${n}${s.parameters.length ? `(${s.parameters.map(() => 'NULL').join(', ')})` : ''}`);
        } catch (err) {
          throw new Error(`${def.meta.id} ${s.what}: ${(err as Error).message}`);
        }
      }
    }
    expect(n).toBeGreaterThan(pack.length * 2);
  });

  it('runs a rule on PostgreSQL and reads its evidence back as [{table, key}]', async () => {
    const def = pack.find((d) => d.meta.id === 'treasury.individual_large')!;
    const c = compileRule(def, { dialect: 'postgres' });
    const row: Record<string, unknown> = {
      payment_id: 'P1', fiscal_year: 2025, pay_date: '2025-06-01', agency_code: 'A01', econ_code: '30226', payee_type: 'individual', amount: '88000.00',
    };
    const t = feedTable('treasury.payments')!;
    const dflt = (c: (typeof t.columns)[number]) =>
      c.values?.[0] ?? ({ money: '1.00', rate: 0, year: 2025, date: '2025-01-01', bool: false } as Record<string, unknown>)[c.type] ?? 'x';
    const cols = [...t.columns.map((c) => c.name), '_batch_id', '_row_hash', '_ingested_at'];
    const vals = [...t.columns.map((c) => (c.name in row ? row[c.name] : c.nullable ? null : dflt(c))), 'b', 'h', new Date()];
    await db.query(`INSERT INTO treasury.payments (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, vals);
    const values = c.parameters!.map((p) => (p.name === 'as_of' ? '2025-12-31' : p.name === 'scope' ? null : c.params[p.name]));
    const r = await db.query(c.sql, values);
    expect(r.rows).toHaveLength(1);
    expect(JSON.parse(r.rows[0].evidence)).toEqual([{ table: 'treasury.payments', key: 'P1' }]);
    expect(r.rows[0].amount).toBe('88000.00');
    expect(r.rows[0].period_start).toBeInstanceOf(Date);
  });

  it('runs a FULL JOIN compare on keys that are never missing: groups found on one side only', async () => {
    const t = feedTable('treasury.budget_indicators')!;
    const row: Record<string, unknown> = { indicator_id: 'I1', agency_code: 'B01', amount: '100.00' };
    const dflt = (c: (typeof t.columns)[number]) =>
      c.values?.[0] ?? ({ money: '1.00', rate: 0, year: 2025, date: '2025-01-01', bool: false } as Record<string, unknown>)[c.type] ?? 'x';
    const cols = [...t.columns.map((c) => c.name), '_batch_id', '_row_hash', '_ingested_at'];
    const vals = [...t.columns.map((c) => (c.name in row ? row[c.name] : c.nullable ? null : dflt(c))), 'b', 'h', new Date()];
    await db.query(`INSERT INTO treasury.budget_indicators (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, vals);
    const def = parseRuleText(fullCompareRule('agency_code', `  having: not left_found or not right_found
let:
  spent: coalesce(spending, 0)
  limit: coalesce(budget, 0)
entity: { type: agency, id: agency_code }
measure: { name: spending, value: spent, threshold: limit }
`), 'rules/full.rule.yaml');
    const c = compileRule(def, { dialect: 'postgres' });
    const values = c.parameters!.map((p) => (p.name === 'as_of' ? '2025-12-31' : p.name === 'scope' ? null : c.params[p.name]));
    const r = await db.query(c.sql, values);
    // I1 budgets B01, which spent nothing; the previous test's P1 is A01's spending without a budget.
    expect(r.rows.map((x) => [x.entity_id, x.measure_value, x.threshold]).sort()).toEqual([
      ['A01', '88000.00', '0.00'],
      ['B01', '0.00', '100.00'],
    ]);
  });
});
