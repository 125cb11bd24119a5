/**
 * Each logic kind on small, hand-made data in a real DuckDB file: the SQL the
 * compiler writes returns the findings an analyst would expect.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../engine/db.ts';
import { feedTable, qualifiedName, quoteIdent } from '../../../engine/feeds.ts';
import { RuleErrors, compileRule, loadRulesDir, parseRuleText } from '../../../rules/language/index.ts';
import { bindValues } from '../../../rules/run/bind.ts';

let store: Store;
beforeAll(async () => {
  store = await openStore(join(mkdtempSync(join(tmpdir(), 'fiscus-')), 'kinds.duckdb'));
});
afterAll(async () => {
  await store.close();
});

async function load(table: string, defaults: Record<string, unknown>, rows: Record<string, unknown>[]): Promise<void> {
  const t = feedTable(table)!;
  await store.run(`DELETE FROM ${qualifiedName(t)}`);
  for (const r of rows) {
    const row = { ...defaults, ...r };
    const cols = t.columns.map((c) => c.name);
    const vals = cols.map((c) => (row[c] === undefined || row[c] === null ? 'NULL' : `'${String(row[c]).replaceAll("'", "''")}'`));
    await store.run(
      `INSERT INTO ${qualifiedName(t)} (${cols.map(quoteIdent).join(', ')}, _batch_id, _row_hash, _ingested_at) VALUES (${vals.join(', ')}, 'b', '1', now())`,
    );
  }
}

async function run(text: string, asOf = '2025-12-31', params: Record<string, unknown> = {}) {
  const def = parseRuleText(text, 'rules/t.rule.yaml');
  const c = compileRule(def, { params });
  const rows = await store.all<Record<string, unknown>>(c.sql, bindValues(c, asOf, null) as never);
  return rows.map((r) => ({
    ...r,
    // JSON text on both engines (the dialects' evidenceColumn).
    evidence: (JSON.parse(String(r.evidence)) as { key: string }[]).map((e) => e.key),
    vars: JSON.parse(String(r.vars)) as Record<string, unknown>,
  })) as (Record<string, unknown> & { evidence: string[]; vars: Record<string, unknown> })[];
}

const PAY = {
  fiscal_year: 2025, region_code: '370811', agency_code: 'A01', func_code: '2050201', econ_code: '30201',
  fund_source: 'general', payee_name: '某公司', payee_account: 'ACC1', payee_type: 'org', pay_method: 'direct',
  purpose: 'x', direct_fund: false,
};

const HEAD = (extra = '') => `id: test.kind
version: 1
severity: medium
title: { zh: "测试 {n}", en: "test {n}" }
${extra}`;

describe('window', () => {
  const rule = HEAD(`reads: [treasury.payments]
window:
  from: treasury.payments as p
  where: amount > 0
  partition_by: [agency_code, payee_account]
  date: pay_date
  within: 7 days
  compute: { n: count(), total: sum(amount) }
  having: n >= 3
entity: { type: payee, id: "agency_code || '|' || payee_account" }
period: { start: window_start, end: window_end }
measure: { name: total, value: total }
amount: total
`);

  it('reports maximal windows only, overlapping ones separately', async () => {
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', amount: '10.00', pay_date: '2025-03-01' },
      { payment_id: 'P2', amount: '10.00', pay_date: '2025-03-03' },
      { payment_id: 'P3', amount: '10.00', pay_date: '2025-03-05' },
      { payment_id: 'P4', amount: '10.00', pay_date: '2025-03-09' }, // window from 03-03: P2,P3,P4 (not a subset of 03-01's)
      { payment_id: 'P5', amount: '-10.00', pay_date: '2025-03-04' }, // reversal, filtered out
      { payment_id: 'P9', amount: '10.00', pay_date: '2026-01-02' }, // after as-of
    ]);
    const rows = await run(rule);
    const got = rows.map((r) => [r.period_start, r.period_end, r.evidence, r.amount, r.vars.n]);
    got.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(got).toEqual([
      ['2025-03-01', '2025-03-05', ['P1', 'P2', 'P3'], '30.00', 3],
      ['2025-03-03', '2025-03-09', ['P2', 'P3', 'P4'], '30.00', 3],
    ]);
  });

  it('drops a window contained in an earlier one', async () => {
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', amount: '10.00', pay_date: '2025-03-01' },
      { payment_id: 'P2', amount: '10.00', pay_date: '2025-03-02' },
      { payment_id: 'P3', amount: '10.00', pay_date: '2025-03-03' },
      { payment_id: 'P4', amount: '10.00', pay_date: '2025-03-04' },
    ]);
    const rows = await run(rule);
    expect(rows.map((r) => r.evidence)).toEqual([['P1', 'P2', 'P3', 'P4']]);
  });

  it('gives the same windows as frames (count, sum) and as a join (a median): same-day rows, NULL partitions', async () => {
    const byProject = (computes: string) => HEAD(`reads: [treasury.payments]
window:
  from: treasury.payments as p
  partition_by: [agency_code, project_code]
  date: pay_date
  within: 7 days
  compute: { ${computes} }
  having: n >= 3
entity: { type: agency, id: agency_code }
period: { start: window_start, end: window_end }
measure: { name: total, value: total }
amount: total
`);
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', amount: '10.00', pay_date: '2025-03-01', project_code: 'X' },
      { payment_id: 'P2', amount: '20.00', pay_date: '2025-03-01', project_code: 'X' }, // same day: one window, not two
      { payment_id: 'P3', amount: '30.00', pay_date: '2025-03-02', project_code: 'X' },
      // No project: NULL is no partition, in either form.
      { payment_id: 'Q1', amount: '10.00', pay_date: '2025-03-01' },
      { payment_id: 'Q2', amount: '10.00', pay_date: '2025-03-02' },
      { payment_id: 'Q3', amount: '10.00', pay_date: '2025-03-03' },
    ]);
    const frames = byProject('n: count(), total: sum(amount)');
    const joined = byProject('n: count(), total: sum(amount), mid: median(amount)');
    expect(compileRule(parseRuleText(frames, 'rules/t.rule.yaml')).sql).toMatch(/OVER fiscus_frame/);
    expect(compileRule(parseRuleText(joined, 'rules/t.rule.yaml')).sql).not.toMatch(/OVER fiscus_frame/);
    for (const text of [frames, joined]) {
      const rows = await run(text);
      expect(rows.map((r) => [r.period_start, r.period_end, r.evidence, r.amount, r.vars.n])).toEqual([
        ['2025-03-01', '2025-03-02', ['P1', 'P2', 'P3'], '60.00', 3],
      ]);
    }
  });
});

describe('sequence', () => {
  it('pairs each row with the previous one of its partition', async () => {
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', amount: '500.00', pay_date: '2025-01-01' },
      { payment_id: 'P2', amount: '500.00', pay_date: '2025-01-20' },
      { payment_id: 'P3', amount: '500.00', pay_date: '2025-03-20' },
      { payment_id: 'P4', amount: '700.00', pay_date: '2025-01-21' },
    ]);
    const rows = await run(HEAD(`reads: [treasury.payments]
sequence:
  from: treasury.payments as p
  partition_by: [agency_code, payee_account, amount]
  order_by: [pay_date, payment_id]
  having: prev.payment_id is not null and gap <= 30
let:
  gap: days_between(prev.pay_date, pay_date)
  n: gap
entity: { type: payment, id: payment_id }
period: { start: prev.pay_date, end: pay_date }
measure: { name: gap, value: gap, threshold: 30 }
evidence:
  - { table: treasury.payments, key: prev.payment_id }
  - auto
`));
    expect(rows.map((r) => [r.entity_id, r.evidence, r.measure_value, r.threshold])).toEqual([['P2', ['P1', 'P2'], '19', '30']]);
  });
});

describe('compare', () => {
  it('joins grouped sides on their keys; a missing side is null', async () => {
    await load('debt.allocations', { bond_code: 'B1', project_name: 'x', agency_code: 'A01', allocation_date: '2025-01-01' }, [
      { allocation_id: 'AL1', project_code: 'PR1', amount: '100.00' },
      { allocation_id: 'AL2', project_code: 'PR1', amount: '50.00' },
    ]);
    await load('debt.spending', { bond_code: 'B1' }, [
      { spend_id: 'S1', project_code: 'PR1', amount: '160.00', pay_date: '2025-02-01' },
      { spend_id: 'S2', project_code: 'PR2', amount: '10.00', pay_date: '2025-02-01' },
      { spend_id: 'S3', project_code: 'PR2', amount: '5.00', pay_date: '2025-02-03' },
    ]);
    const rows = await run(HEAD(`reads: [debt.spending, debt.allocations]
compare:
  left:
    from: debt.spending
    group_by: [bond_code, project_code]
    compute: { spent: sum(amount) }
  right:
    from: debt.allocations
    group_by: [bond_code, project_code]
    compute: { allocated: sum(amount) }
  join: left
  having: not right_found or spent > allocated
let:
  n: spent
entity: { type: bond, id: "bond_code || '|' || project_code" }
measure: { name: spent, value: spent, threshold: 'coalesce(allocated, 0)' }
amount: spent - coalesce(allocated, 0)
`));
    const got = rows.map((r) => [r.entity_id, r.measure_value, r.threshold, r.amount, [...(r.evidence as string[])].sort()]).sort();
    expect(got).toEqual([
      ['B1|PR1', '160.00', '150.00', '10.00', ['AL1', 'AL2', 'S1']],
      ['B1|PR2', '15.00', '0.00', '15.00', ['S2', 'S3']],
    ]);
  });
});

describe('deadline', () => {
  // 2025: National Day holiday Oct 1–8; Sat Oct 11 is an adjusted working day (调休).
  // 5 working days after Tue Sep 30: Oct 9, 10, 11, 13, 14 → due Oct 14.
  const rule = HEAD(`params:
  limit: { type: integer, default: 5 }
reads: [transfers.grants]
deadline:
  from: transfers.grants as g
  start: g.received_date
  within: $limit workdays
  end: g.issued_date
let:
  n: elapsed
entity: { type: transfer, id: transfer_id }
period: { start: start, end: due }
measure: { name: workdays, value: elapsed, threshold: limit }
`);
  const G = { fiscal_year: 2025, from_region: '370800', to_region: '370811', category: 'general', program_code: 'X', program_name: 'x', amount: '1.00', doc_no: 'd', direct_fund: false, received_date: '2025-09-30' };

  it('counts working days with holidays and adjusted working days', async () => {
    await load('transfers.grants', G, [
      { transfer_id: 'T1', issued_date: '2025-10-14' },
      { transfer_id: 'T2', issued_date: '2025-10-15' },
    ]);
    const rows = await run(rule);
    expect(rows.map((r) => [r.entity_id, r.measure_value, r.threshold, r.period_start, r.period_end])).toEqual([['T2', '6', '5', '2025-09-30', '2025-10-14']]);
  });

  it('a not-yet-done item is judged only after its deadline', async () => {
    await load('transfers.grants', G, [{ transfer_id: 'T3', issued_date: '2025-10-20' }]);
    // issued_date after the as-of date is not seen: the table is empty as of Oct 13
    expect(await run(rule, '2025-10-13')).toEqual([]);
  });
});

describe('aggregate with evaluation dates', () => {
  it('evaluates at every quarter end up to the as-of date', async () => {
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', amount: '1.00', pay_date: '2025-02-01' },
      { payment_id: 'P2', amount: '2.00', pay_date: '2025-05-01' },
      { payment_id: 'P3', amount: '4.00', pay_date: '2025-11-01' },
    ]);
    const rows = await run(HEAD(`reads: [treasury.payments]
aggregate:
  at: quarter_ends
  from: treasury.payments
  where: pay_date <= at and fiscal_year = year(at)
  group_by: [agency_code]
  compute: { n: count(), total: sum(amount) }
entity: { type: agency, id: agency_code }
period: { start: year_start(year(at)), end: at }
measure: { name: total, value: total }
`), '2025-10-15');
    expect(rows.map((r) => [r.period_end, r.measure_value, r.vars.n]).sort()).toEqual([
      ['2025-03-31', '1.00', 1],
      ['2025-06-30', '3.00', 2],
      ['2025-09-30', '3.00', 2],
    ]);
  });
});

describe('loadRulesDir', () => {
  it('reports every broken file with its position', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiscus-rules-'));
    mkdirSync(join(dir, 'sub'));
    const good = HEAD(`reads: [treasury.payments]
match:
  from: treasury.payments
  where: amount > 100
let: { n: amount }
entity: { type: payment, id: payment_id }
measure: { name: amount, value: amount }
`);
    writeFileSync(join(dir, 'good.rule.yaml'), good);
    writeFileSync(join(dir, 'bad1.rule.yaml'), good.replace('where: amount > 100', 'where: amont > 100'));
    writeFileSync(join(dir, 'sub', 'bad2.rule.yaml'), good.replace('where: amount > 100', 'where: amount >'));
    writeFileSync(join(dir, 'notes.yaml'), 'not: a rule');
    const err = await loadRulesDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuleErrors);
    const msgs = (err as RuleErrors).errors.map((e) => e.message);
    expect(msgs).toHaveLength(2);
    expect(msgs[0]).toMatch(/bad1\.rule\.yaml:8:10: unknown column `amont` in treasury\.payments — did you mean `amount`\?$/);
    expect(msgs[1]).toMatch(/bad2\.rule\.yaml:8:18: expression ends too early/);
    writeFileSync(join(dir, 'bad1.rule.yaml'), good.replace('id: test.kind', 'id: test.other'));
    writeFileSync(join(dir, 'sub', 'bad2.rule.yaml'), good.replace('id: test.kind', 'id: test.third'));
    const defs = await loadRulesDir(dir);
    expect(defs.map((d) => d.meta.id).sort()).toEqual(['test.kind', 'test.other', 'test.third']);
    expect(defs.every((d) => !d.meta.source.builtin)).toBe(true);
  });
});

describe('envelope details', () => {
  const rule = HEAD(`params:
  high_from: { type: money, default: 1000 }
reads: [treasury.payments]
scope: agency_code
severity_if:
  high: amount >= $high_from
aggregate:
  from: treasury.payments
  group_by: [agency_code, fiscal_year]
  compute: { n: count(), amount: sum(amount), first_day: min(pay_date) }
let:
  label: "'单位' || agency_code"
title_var_check: 1
entity: { type: agency, id: agency_code, name: label }
fiscal_year: fiscal_year
period: { year: fiscal_year }
measure: { name: total, value: amount, threshold: $high_from }
amount: amount
`).replace('title_var_check: 1\n', '');

  it('severity per finding, typed vars, scope restricts partitions', async () => {
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', agency_code: 'A01', amount: '600.00', pay_date: '2025-03-01' },
      { payment_id: 'P2', agency_code: 'A01', amount: '600.00', pay_date: '2025-03-02' },
      { payment_id: 'P3', agency_code: 'A02', amount: '10.50', pay_date: '2025-03-02' },
    ]);
    const def = parseRuleText(rule, 'rules/t.rule.yaml');
    const c = compileRule(def);
    expect(c.scope).toEqual({ table: 'treasury.payments', column: 'agency_code' });
    const all = await store.all<Record<string, unknown>>(c.sql, bindValues(c, '2025-12-31', null) as never);
    expect(all.map((r) => [r.entity_id, r.entity_name, r.severity, r.period_start, r.period_end, r.measure_value, r.threshold, r.amount]).sort()).toEqual([
      ['A01', '单位A01', 'high', '2025-01-01', '2025-12-31', '1200.00', '1000.00', '1200.00'],
      ['A02', '单位A02', null, '2025-01-01', '2025-12-31', '10.50', '1000.00', '10.50'],
    ]);
    expect(JSON.parse(String(all.find((r) => r.entity_id === 'A01')!.vars))).toEqual({ n: 2 });
    const scoped = await store.all<Record<string, unknown>>(c.sql, bindValues(c, '2025-12-31', ['A02']) as never);
    expect(scoped.map((r) => r.entity_id)).toEqual(['A02']);
  });

  it('lists the rows of a large group as a query instead of keys', async () => {
    const rows = Array.from({ length: 501 }, (_, i) => ({ payment_id: `P${String(i).padStart(4, '0')}`, amount: '1.00', pay_date: '2025-04-01' }));
    await load('treasury.payments', PAY, rows);
    const c = compileRule(parseRuleText(rule, 'rules/t.rule.yaml'));
    const [r] = await store.all<Record<string, unknown>>(c.sql, bindValues(c, '2025-12-31', null) as never);
    expect(JSON.parse(String(r.evidence))).toEqual([]);
    expect(r.evidence_query).toBe("SELECT * FROM treasury.payments WHERE agency_code = 'A01' AND fiscal_year = 2025 AND pay_date <= DATE '2025-12-31'");
    const listed = await store.all(String(r.evidence_query));
    expect(listed).toHaveLength(501);
  });
});

describe('cluster', () => {
  const CLUSTER = (having = 'n >= 2', extra = '') => HEAD(`reads: [treasury.payments]
params:
  ref: { type: string, default: "" }
cluster:
  from: treasury.payments as p
  where: amount > 0
  partition_by: [agency_code, payee_account, amount]
  date: pay_date
  gap: 30 days
  compute:
    n: count()
    docs: "count_distinct(coalesce('r:' || field($ref), 'p:' || payment_id))"
  having: ${having}
${extra}entity: { type: payment, id: first.payment_id, name: last.payment_id }
period: { start: cluster_start, end: cluster_end }
measure: { name: docs, value: docs, threshold: 2 }
`);

  it('chains rows whose consecutive dates are within the gap; one finding per chain', async () => {
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', amount: '500.00', pay_date: '2025-01-01' },
      { payment_id: 'P2', amount: '500.00', pay_date: '2025-01-31' }, // +30
      { payment_id: 'P3', amount: '500.00', pay_date: '2025-03-02' }, // +30: still the same chain, 60 days in all
      { payment_id: 'P4', amount: '500.00', pay_date: '2025-04-02' }, // +31: alone
      { payment_id: 'P5', amount: '500.00', pay_date: '2025-06-01' },
      { payment_id: 'P0', amount: '500.00', pay_date: '2025-06-01' }, // same day: ordered by key
      { payment_id: 'P6', amount: '700.00', pay_date: '2025-06-01' }, // another amount
    ]);
    const rows = await run(CLUSTER());
    expect(rows.map((r) => [r.entity_id, r.entity_name, r.period_start, r.period_end, r.evidence, r.measure_value]).sort()).toEqual([
      ['P0', 'P5', '2025-06-01', '2025-06-01', ['P0', 'P5'], '2'],
      ['P1', 'P3', '2025-01-01', '2025-03-02', ['P1', 'P2', 'P3'], '3'],
    ]);
  });

  it('field() reads a column or an extra key named by a bound parameter, never pasted into the SQL', async () => {
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', amount: '500.00', pay_date: '2025-01-01', purpose: 'INV-1' },
      { payment_id: 'P2', amount: '500.00', pay_date: '2025-01-02', purpose: 'INV-1' },
    ]);
    await store.run(`UPDATE treasury.payments SET extra = '{"inv": "X", "a''b": "Y"}'::JSON`);
    const docs = async (ref: string) => (await run(CLUSTER('n >= 2 and docs >= 2'), '2025-12-31', { ref })).map((r) => r.measure_value);
    expect(await docs('')).toEqual(['2']);
    expect(await docs('purpose')).toEqual([]); // one document: same column value
    expect(await docs('inv')).toEqual([]); // one document: same extra value
    expect(await docs("a'b")).toEqual([]);
    expect(await docs('nope')).toEqual(['2']);
    // A hostile name is only a name: it matches no column and no key.
    expect(await docs("purpose' OR 1=1 --")).toEqual(['2']);
    expect(await docs('$.inv')).toEqual(['2']);
    const c = compileRule(parseRuleText(CLUSTER(), 'rules/t.rule.yaml'), { params: { ref: 'purpose' } });
    expect(c.sql).not.toContain("'purpose' AS");
    expect(c.sql).toContain('$p_ref');
  });

  it('lists a cluster of more than 500 rows as a query', async () => {
    const rows = Array.from({ length: 501 }, (_, i) => ({ payment_id: `P${String(i).padStart(4, '0')}`, amount: '1.00', pay_date: `2025-0${1 + Math.floor(i / 100)}-1${i % 10}` }));
    await load('treasury.payments', PAY, rows);
    const [r] = await run(CLUSTER());
    expect(r!.evidence).toEqual([]);
    expect(r!.evidence_query).toBe("SELECT * FROM treasury.payments WHERE agency_code = 'A01' AND payee_account = 'ACC1' AND amount = 1.00 AND pay_date BETWEEN DATE '2025-01-10' AND DATE '2025-06-10'");
    expect(await store.all(String(r!.evidence_query))).toHaveLength(501);
  });
});

describe('requires', () => {
  it('skips rows missing a required optional column and counts them', async () => {
    await load('debt.positions', { debt_limit: '10.00', debt_balance: '12.00' }, [
      { region_code: '660000', fiscal_year: 2024 },
      { region_code: '370811', fiscal_year: 2024, fiscal_capacity: '10.00' },
    ]);
    const text = HEAD(`reads: [debt.positions]
match:
  from: debt.positions as d
  requires: [fiscal_capacity]
  where: debt_balance > fiscal_capacity or fiscal_capacity is null
let:
  n: debt_balance
entity: { type: region, id: region_code }
measure: { name: n, value: n }
`);
    expect((await run(text)).map((r) => r.entity_id)).toEqual(['370811']);
    const c = compileRule(parseRuleText(text, 'rules/t.rule.yaml'));
    expect(c.inputs).toEqual([{
      table: 'debt.positions', requires: ['fiscal_capacity'], sql: expect.stringContaining('count(*) AS "rows"'),
      parameters: [{ name: 'as_of', type: 'date' }],
    }]);
    const [counts] = await store.all(c.inputs![0]!.sql, { as_of: '2025-12-31' });
    expect(counts).toEqual({ rows: '2', not_judged: '1', missing_fiscal_capacity: '1' });
    // Not yet visible at the as-of date: not counted either.
    const [early] = await store.all(c.inputs![0]!.sql, { as_of: '2023-12-31' });
    expect(early).toEqual({ rows: '0', not_judged: '0', missing_fiscal_capacity: '0' });
  });
});

describe('group keys that can be NULL', () => {
  // project_code is optional in treasury.payments: a payment without a project is its own
  // group, and it must meet the budget side's NULL group too. agency_code is required, so it is
  // matched with plain `=` (hashable on PostgreSQL); project_code keeps IS NOT DISTINCT FROM.
  const rule = HEAD(`reads: [treasury.payments, treasury.budget_indicators]
compare:
  left:
    from: treasury.payments
    group_by: [agency_code, project_code]
    compute: { n: count(), spent: sum(amount) }
  right:
    from: treasury.budget_indicators
    group_by: [agency_code, project_code]
    compute: { budget: sum(amount) }
  join: left
  having: spent > coalesce(budget, 0)
entity:
  type: agency
  id: agency_code || '|' || coalesce(project_code, '-')
let:
  limit: coalesce(budget, 0)
measure: { name: spent, value: spent, threshold: limit }
`);

  it('matches a NULL group with its NULL twin, and evidence lists that group’s rows', async () => {
    const c = compileRule(parseRuleText(rule, 'rules/t.rule.yaml'));
    expect(c.sql).toContain('__l."agency_code" = __r."agency_code"');
    expect(c.sql).toContain('__l."project_code" IS NOT DISTINCT FROM __r."project_code"');
    await load('treasury.payments', PAY, [
      { payment_id: 'P1', project_code: null, amount: '300.00', pay_date: '2025-03-01' },
      { payment_id: 'P2', project_code: null, amount: '300.00', pay_date: '2025-03-02' },
      { payment_id: 'P3', project_code: 'X1', amount: '50.00', pay_date: '2025-03-02' },
    ]);
    await load('treasury.budget_indicators', {
      fiscal_year: 2025, region_code: '370811', agency_code: 'A01', func_code: '2050201', econ_code: '30201',
      fund_source: 'general', approved_date: '2025-01-10', kind: 'initial',
    }, [
      { indicator_id: 'I1', project_code: null, amount: '500.00' },
      { indicator_id: 'I2', project_code: 'X1', amount: '100.00' },
    ]);
    const rows = await run(rule);
    expect(rows.map((r) => [r.entity_id, r.measure_value, r.threshold, r.evidence])).toEqual([
      ['A01|-', '600.00', '500.00', ['P1', 'P2', 'I1']],
    ]);
  });
});
