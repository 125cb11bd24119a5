/**
 * debt.positions without budget figures (FEEDS.md: a production-and-construction corps,
 * a new district): the row loads, debt.over_limit judges it on the limit and the balance,
 * and the ratio rules say in the run summary how many rows they could not judge.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../engine/db.ts';
import { MIGRATIONS } from '../../../engine/migrations.ts';
import { runCli } from '../../helpers/cli.ts';
import { testDbLocation } from '../../helpers/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiscus-debt-optional-'));
const data = join(dir, 'panel');
mkdirSync(data);
writeFileSync(
  join(data, 'ref.regions.csv'),
  'region_code,region_name,parent_code,level\n660000,新疆生产建设兵团,,province\n370811,任城区,,county\n',
);
// The corps: only limit and balance, over its limit five years running. 370811: complete rows, under every line.
writeFileSync(
  join(data, 'debt.positions.csv'),
  [
    'region_code,fiscal_year,debt_limit,debt_balance,fiscal_capacity,interest_paid,general_expenditure,new_debt',
    ...[2020, 2021, 2022, 2023, 2024].map((y, i) => `660000,${y},${100_000_000_000 + i * 1e10}.00,${101_000_000_000 + i * 1e10}.00,,,,`),
    '370811,2024,38000000000.00,36000000000.00,40000000000.00,900000000.00,11000000000.00,4200000000.00',
  ].join('\n') + '\n',
);

describe('debt positions with only the limit and the balance', () => {
  const db = testDbLocation(join(dir, 'f.duckdb'));

  it('load, are judged by debt.over_limit, and are counted as not judged by the ratio rules', async () => {
    const ing = await runCli(['--db', db, 'ingest', data]);
    expect(ing.stderr + ing.stdout, 'ingest').not.toMatch(/rolled back|required/);
    expect(ing.code).toBe(0);

    const run = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-06-30', '--rule', 'debt.over_limit', 'debt.ratio', 'debt.interest_burden', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const s = JSON.parse(run.stdout) as { rules: { rule_id: string; outcome: string; flags_raised: number; reason: string | null; input_rows: number; not_judged: unknown[] }[] };
    const by = new Map(s.rules.map((r) => [r.rule_id, r]));
    expect(by.get('debt.over_limit')).toMatchObject({ outcome: 'evaluated', flags_raised: 5, input_rows: 6, not_judged: [] });
    expect(by.get('debt.ratio')).toMatchObject({
      outcome: 'evaluated', flags_raised: 0, input_rows: 6,
      not_judged: [{ table: 'debt.positions', rows: 5, columns: [{ column: 'fiscal_capacity', rows: 5 }] }],
    });
    expect(by.get('debt.ratio')!.reason).toContain('5 rows not judged: fiscal_capacity missing');
    expect(by.get('debt.ratio')!.reason).toContain('5 行未判断：缺少 fiscal_capacity');
    expect(by.get('debt.interest_burden')!.reason).toContain('5 rows not judged: interest_paid missing (5), general_expenditure missing (5)');

    const flags = await runCli(['--db', db, 'flags', '--rule', 'debt.over_limit', '--format', 'jsonl']);
    const got = flags.stdout.trim().split('\n').map((l) => JSON.parse(l) as { entity: { id: string }; fiscal_year: number; amount: string; evidence: unknown[] });
    expect(got.map((f) => [f.entity.id, f.fiscal_year, f.amount]).sort()).toEqual(
      [2020, 2021, 2022, 2023, 2024].map((y) => ['660000', y, '1000000000.00']),
    );
    expect(got[0]!.evidence).toEqual([{ table: 'debt.positions', key: expect.stringMatching(/^660000\|20\d\d$/) }]);
  });

  it('the table summary says it too, on a re-run whose inputs did not change', async () => {
    const run = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-06-30', '--rule', 'debt.ratio']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/unchanged since run/);
    expect(run.stdout).toContain('5 rows not judged: fiscal_capacity missing');
  });

  it('a rows with a balance but a missing limit is still refused: the limit is required', async () => {
    writeFileSync(join(dir, 'debt.positions.csv'), 'region_code,fiscal_year,debt_limit,debt_balance\n660000,2025,,5.00\n');
    const ing = await runCli(['--db', db, 'ingest', join(dir, 'debt.positions.csv')]);
    expect(ing.stdout + ing.stderr).toMatch(/debt_limit/);
  });
});

describe('migration 4', () => {
  it('drops NOT NULL from the budget figures of a table created before it', async () => {
    const store = await openStore(testDbLocation(join(mkdtempSync(join(tmpdir(), 'fiscus-debt-mig-')), 'old.duckdb')));
    try {
      // The version-3 shape: the budget figures NOT NULL.
      for (const c of ['fiscal_capacity', 'interest_paid', 'general_expenditure', 'new_debt']) {
        await store.run(`ALTER TABLE debt.positions ALTER COLUMN ${c} SET NOT NULL`);
      }
      const insert = `INSERT INTO debt.positions (region_code, fiscal_year, debt_limit, debt_balance, _batch_id, _row_hash, _ingested_at)
        VALUES ('660000', 2024, 10.00, 11.00, 'b1', '1', now())`;
      // Each engine's own wording of a NOT NULL violation.
      await expect(store.run(insert)).rejects.toThrow(store.engine === 'postgres' ? /"fiscal_capacity" .*violates not-null constraint/ : /NOT NULL/);
      const m4 = MIGRATIONS.find((m) => m.version === 4)!;
      expect(m4.description).toMatch(/debt\.positions/);
      await store.transaction(() => m4.up(store));
      await store.run(insert);
      const cols = await store.all<{ column_name: string; is_nullable: string }>(
        `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'debt' AND table_name = 'positions'`,
      );
      const nullable = Object.fromEntries(cols.map((c) => [c.column_name, c.is_nullable]));
      expect(nullable).toMatchObject({ debt_limit: 'NO', debt_balance: 'NO', fiscal_capacity: 'YES', interest_paid: 'YES', general_expenditure: 'YES', new_debt: 'YES' });
      // Applied again (a database created after it, where the columns are already nullable): a no-op.
      await store.transaction(() => m4.up(store));
    } finally {
      await store.close();
    }
  });
});
