/**
 * The saved queries (api/saved-queries/) on both engines: each is rendered in the Store's SQL
 * and, on the same rows, gives the same columns and the same values on DuckDB and PostgreSQL
 * (money as exact strings, percentages as the same JSON numbers). PostgreSQL runs when the
 * vitest global setup started one (FISCUS_TEST_PG_URL), whatever FISCUS_TEST_ENGINE says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '../../engine/db.ts';
import { SAVED_QUERIES } from '../../api/saved-queries/index.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { getJson, seedAgencies, startServer, T } from './helpers.ts';

const engines = ['duckdb', ...(process.env.FISCUS_TEST_PG_URL ? ['postgres'] : [])] as const;
const dir = mkdtempSync(join(tmpdir(), 'fiscus-saved-'));

async function seed(store: Store): Promise<void> {
  await seedAgencies(store);
  const sys = `'b', '1', now()`;
  await store.run(`INSERT INTO ref.regions (region_code, region_name, level, parent_code, _batch_id, _row_hash, _ingested_at) VALUES
    ('370800', '济宁市', 'city', NULL, ${sys}), ('370811', '任城区', 'county', '370800', ${sys}), ('370812', '兖州区', 'county', '370800', ${sys})`);
  await store.run(`INSERT INTO treasury.budget_indicators (indicator_id, fiscal_year, region_code, agency_code, func_code, econ_code, fund_source,
      project_code, amount, approved_date, kind, base_indicator_id, _batch_id, _row_hash, _ingested_at) VALUES
    ('I1', 2025, '370811', 'A0101', '20502', '30201', 'general', NULL, 1000000.00, DATE '2025-01-20', 'initial', NULL, ${sys}),
    ('I2', 2025, '370811', 'A0102', '20502', '30201', 'general', NULL, 500000.00, DATE '2025-01-20', 'initial', NULL, ${sys}),
    ('I3', 2025, '370811', 'A0101', '21201', '31001', 'gov_fund', NULL, 300000.10, DATE '2025-02-01', 'initial', NULL, ${sys}),
    ('I4', 2025, '370812', 'B0201', '21001', '30201', 'general', NULL, 7.00, DATE '2025-02-01', 'initial', NULL, ${sys})`);
  await store.run(`INSERT INTO treasury.payments (payment_id, fiscal_year, region_code, agency_code, indicator_id, func_code, econ_code, fund_source,
      project_code, payee_name, payee_account, payee_type, amount, pay_date, pay_method, purpose, direct_fund, _batch_id, _row_hash, _ingested_at) VALUES
    ('P1', 2025, '370811', 'A0101', 'I1', '20502', '30201', 'general', NULL, '某公司', '6222', 'org', 100000.01, DATE '2025-01-25', 'direct', '办公用品', false, ${sys}),
    ('P2', 2025, '370811', 'A0101', 'I1', '20502', '30201', 'general', NULL, '某公司', '6222', 'org', 200000.02, DATE '2025-03-10', 'direct', '办公用品', false, ${sys}),
    ('P3', 2025, '370811', 'A0102', 'I2', '20502', '30201', 'general', NULL, '某公司', '6223', 'org', 50000.00, DATE '2025-06-15', 'direct', '设备', false, ${sys}),
    ('P4', 2025, '370811', 'A0101', 'I3', '21201', '31001', 'gov_fund', NULL, '某建筑', '6224', 'org', 100000.00, DATE '2025-04-01', 'direct', '工程', false, ${sys}),
    ('P5', 2025, '370812', 'B0201', 'I4', '21001', '30201', 'general', NULL, '某诊所', '6225', 'org', 2.34, DATE '2025-05-05', 'direct', '药品', false, ${sys}),
    ('P6', 2025, '370812', 'X9999', NULL, '21001', '30201', 'general', NULL, '某诊所', '6225', 'org', -1.00, DATE '2025-05-06', 'direct', '退款', false, ${sys})`);
  await store.run(`INSERT INTO debt.positions (region_code, fiscal_year, debt_limit, debt_balance, fiscal_capacity, interest_paid, general_expenditure, new_debt,
      _batch_id, _row_hash, _ingested_at) VALUES
    ('370811', 2025, 1000.00, 1100.00, 900.00, 50.00, 400.00, 100.00, ${sys}),
    ('370812', 2025, 3000.00, 1000.00, 0.00, 1.00, 3.00, 0.00, ${sys})`);
}

/** Every saved query with its defaults, and with the parameters that narrow it. */
const CASES: { name: string; params: Record<string, unknown> }[] = [
  { name: 'budget_execution', params: { fiscal_year: 2025, as_of: '2025-06-30' } },
  { name: 'budget_execution', params: { fiscal_year: 2025, as_of: '2025-03-31', region: '370811', fund_source: null } },
  { name: 'spending_by_month', params: { fiscal_year: 2025 } },
  { name: 'spending_by_month', params: { fiscal_year: 2025, agency: 'A0101', region: '370811', fund_source: 'general' } },
  { name: 'four_books', params: { fiscal_year: 2025 } },
  { name: 'four_books', params: { fiscal_year: 2025, as_of: '2025-02-28', region: '370811' } },
  { name: 'debt_indicators', params: { fiscal_year: 2025 } },
  { name: 'debt_indicators', params: { region: '370800' } },
];

type Result = { status: number; body: any };
const results: Record<string, Result[]> = {};
const listed: Record<string, { name: string; sql: string }[]> = {};
const servers: { app: FastifyInstance; store: Store }[] = [];

beforeAll(async () => {
  for (const engine of engines) {
    const store = await openStore(engine === 'postgres' ? await freshDatabase('saved') : join(dir, 'saved.duckdb'));
    await seed(store);
    const { app, url } = await startServer(store);
    servers.push({ app, store });
    listed[engine] = (await getJson(`${url}/v1/queries`, T.analyst)).body.items;
    results[engine] = [];
    for (const c of CASES) {
      const r = await getJson(`${url}/v1/queries/${c.name}`, T.analyst, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ params: c.params }),
      });
      results[engine]!.push({ status: r.status, body: r.body });
    }
  }
});

afterAll(async () => {
  for (const s of servers) {
    await s.app.close();
    await s.store.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.each(engines)('saved queries on %s', (engine) => {
  const rows = (i: number) => {
    const r = results[engine]![i]!;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.rows as Record<string, any>[];
  };

  it('lists every saved query with its SQL in this engine\'s dialect', () => {
    expect(listed[engine]!.map((q) => q.name)).toEqual(SAVED_QUERIES.map((q) => q.name));
    for (const q of listed[engine]!) {
      if (engine === 'postgres') expect(q.sql).not.toMatch(/strftime|::DOUBLE\b|AS DOUBLE\)/);
      else expect(q.sql).not.toMatch(/to_char|DOUBLE PRECISION/);
    }
  });

  it('budget execution against time progress', () => {
    const a1 = rows(0).find((x) => x.agency_code === 'A0101')!;
    expect(a1).toMatchObject({ agency_name: '市第一中学', budget: '1000000.00', spent: '300000.03', remaining: '699999.97', payments: '2' });
    expect(a1.execution_pct).toBe(30);
    expect(a1.time_progress_pct).toBe(49.59); // 181 of 365 days
    expect(a1.gap_pp).toBe(-19.59);
    // A payment with no budget line: no percentage, sorted last.
    expect(rows(0).at(-1)).toMatchObject({ agency_code: 'X9999', budget: '0.00', spent: '-1.00', execution_pct: null, gap_pp: null });
    const b = rows(0).find((x) => x.agency_code === 'B0201')!;
    expect(b.execution_pct).toBe(33.43); // 2.34 / 7.00
    // Narrowed to one region, every fund source, as of Q1 (furthest behind first).
    expect(rows(1).map((x) => [x.agency_code, x.budget, x.spent, x.gap_pp])).toEqual([
      ['A0102', '500000.00', '0.00', -24.66],
      ['A0101', '1300000.10', '300000.03', -1.58],
    ]);
  });

  it('spending by month with the running total', () => {
    expect(rows(2).map((x) => [x.month, x.payments, x.amount, x.cumulative])).toEqual([
      ['2025-01', '1', '100000.01', '100000.01'],
      ['2025-03', '1', '200000.02', '300000.03'],
      ['2025-04', '1', '100000.00', '400000.03'],
      ['2025-05', '2', '1.34', '400001.37'],
      ['2025-06', '1', '50000.00', '450001.37'],
    ]);
    expect(rows(3).map((x) => [x.month, x.amount, x.cumulative])).toEqual([
      ['2025-01', '100000.01', '100000.01'],
      ['2025-03', '200000.02', '300000.03'],
    ]);
  });

  it('the four books', () => {
    expect(rows(4).map((x) => [x.fund_source, x.budget, x.spent, x.execution_pct])).toEqual([
      ['general', '1500007.00', '350001.37', 23.33],
      ['gov_fund', '300000.10', '100000.00', 33.33],
      ['soe_capital', '0.00', '0.00', null],
      ['social_insurance', '0.00', '0.00', null],
    ]);
    expect(rows(5).map((x) => [x.fund_source, x.budget, x.spent])).toEqual([
      ['general', '1500000.00', '100000.01'],
      ['gov_fund', '300000.10', '0.00'],
      ['soe_capital', '0.00', '0.00'],
      ['social_insurance', '0.00', '0.00'],
    ]);
  });

  it('debt indicators, for a year and for a region with its children', () => {
    expect(rows(6)[0]).toMatchObject({ region_code: '370811', debt_ratio_pct: 122.22, limit_usage_pct: 110, interest_burden_pct: 12.5, over_limit: true });
    expect(rows(6)[1]).toMatchObject({ region_code: '370812', debt_ratio_pct: null, limit_usage_pct: 33.33, interest_burden_pct: 33.33, over_limit: false });
    expect(rows(7).map((x) => x.region_code)).toEqual(['370811', '370812']);
  });
});

describe.skipIf(engines.length < 2)('saved queries on both engines', () => {
  it('give the same columns and the same rows', () => {
    for (let i = 0; i < CASES.length; i++) {
      const [d, p] = [results.duckdb![i]!.body, results.postgres![i]!.body];
      expect(p.columns.map((c: { name: string }) => c.name), CASES[i]!.name).toEqual(d.columns.map((c: { name: string }) => c.name));
      expect(p.rows, `${CASES[i]!.name} ${JSON.stringify(CASES[i]!.params)}`).toEqual(d.rows);
    }
  });
});
