import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../engine/db.ts';
import { runCli } from '../../helpers/cli.ts';
import { addAgency, addPayments } from './helpers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'fiscus-rules-cli-'));
const db = join(dir, 'f.duckdb');
const rulesDir = join(dir, 'local');
const brokenDir = join(dir, 'broken');
const clashDir = join(dir, 'clash');
const config = join(dir, 'fiscus.config.yaml');

const packRule = readFileSync(join(ROOT, 'rules/pack/treasury/individual_large.rule.yaml'), 'utf8');

beforeAll(async () => {
  const store = await openStore(db);
  await addAgency(store, 'A01', '市教育局');
  await addPayments(store, 'b1', [
    { id: 'P1', agency: 'A01', amount: '50000.00', date: '2025-06-16', payee: '张三' },
    { id: 'P2', agency: 'A01', amount: '128000.00', date: '2025-11-08', payee: '李四', account: '6217000010005678' },
  ]);
  await store.run(`UPDATE treasury.payments SET payee_type = 'individual', econ_code = '30226'`);
  await store.close();

  mkdirSync(rulesDir);
  writeFileSync(join(rulesDir, 'big_individual.rule.yaml'), packRule.replace('id: treasury.individual_large', 'id: local.big_individual').replace('default: 50000', 'default: 100000'));
  writeFileSync(
    join(rulesDir, 'big_individual.test.yaml'),
    `rule: local.big_individual
cases:
  - name: only the payment above 100,000
    as_of: 2025-12-31
    defaults:
      treasury.payments: { fiscal_year: 2025, region_code: "370811", agency_code: A01, func_code: "2050201", econ_code: "30226", fund_source: general, payee_type: individual, payee_account: "1", pay_method: direct, purpose: 劳务费, direct_fund: false }
    given:
      treasury.payments:
        - { payment_id: P1, payee_name: 张三, amount: "50000.00", pay_date: 2025-06-16 }
        - { payment_id: P2, payee_name: 李四, amount: "128000.00", pay_date: 2025-07-08 }
    expect:
      - { entity_id: P2, period: [2025-07-08, 2025-07-08], amount: "128000.00" }
`,
  );
  mkdirSync(brokenDir);
  writeFileSync(join(brokenDir, 'bad.rule.yaml'), packRule.replace('id: treasury.individual_large', 'id: local.bad').replace('p.amount >= $min_amount', 'p.amount >= $no_such_param'));
  mkdirSync(clashDir);
  writeFileSync(join(clashDir, 'dup.rule.yaml'), packRule);
  writeFileSync(config, `rules:\n  treasury.individual_large: { severity: high, params: { min_amount: "60000" } }\nallow: []\n`);
});

describe('fiscus rules / fiscus flags', () => {
  it('lists the pack and analyst rules, shows and explains one', async () => {
    const list = await runCli(['--db', db, 'rules', 'list', '--rules-dir', rulesDir, '--format', 'json']);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { id: string; source: string }[];
    expect(rows.find((r) => r.id === 'treasury.individual_large')?.source).toBe('builtin');
    expect(rows.find((r) => r.id === 'local.big_individual')?.source).toMatch(/big_individual\.rule\.yaml$/);

    const show = await runCli(['--db', db, 'rules', 'show', 'treasury.individual_large', '--config', config, '--format', 'json']);
    expect(show.code).toBe(0);
    const s = JSON.parse(show.stdout);
    expect(s).toMatchObject({ id: 'treasury.individual_large', severity: 'medium', effective_severity: 'high' });
    expect(s.params.find((p: { name: string }) => p.name === 'min_amount')).toMatchObject({ effective: expect.stringMatching(/^60000(\.00)?$/), overridden: true });

    const explain = await runCli(['--db', db, 'rules', 'explain', 'treasury.individual_large', '--as-of', '2025-12-31']);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/\$as_of DATE = 2025-12-31/);
    expect(explain.stdout).toMatch(/\$p_min_amount DECIMAL\(18,2\) = 50000/);
    expect(explain.stdout).toMatch(/SELECT/);
    // The delta variant: evaluated only over the payments the new batches touched.
    expect(explain.stdout).toMatch(/-- delta variant, after batches that touch only treasury\.payments: only the key tuples of \(payment_id\) the new batches \(\$delta_batches\) touched/);
    expect(explain.stdout).toMatch(/_batch_id" IN \(SELECT unnest\(from_json\(CAST\(\$delta_batches AS VARCHAR\)/);
  });

  it('runs rules, prints the summary, and lists flags in the FLAGS.md shape', async () => {
    const run = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-12-31', '--rule', 'treasury.individual_large', 'local.big_individual', '--rules-dir', rulesDir, '--format', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.rules.map((r: { rule_id: string; flags_new: number }) => [r.rule_id, r.flags_new])).toEqual([
      ['treasury.individual_large', 2],
      ['local.big_individual', 1],
    ]);
    const table = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-12-31', '--rule', 'treasury.individual_large']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/unchanged since run run_/);

    const jsonl = await runCli(['--db', db, 'flags', '--rule', 'treasury.individual_large', '--format', 'jsonl']);
    expect(jsonl.code).toBe(0);
    const flags = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(flags).toHaveLength(2);
    expect(Object.keys(flags[1])).toEqual([
      'flag_id', 'rule_id', 'rule_version', 'severity', 'title', 'title_en', 'entity', 'region_code', 'agency_code',
      'fiscal_year', 'period', 'measure', 'amount', 'evidence', 'evidence_query', 'first_seen_at', 'status',
    ]);
    expect(flags[1]).toMatchObject({
      rule_id: 'treasury.individual_large', severity: 'medium', entity: { type: 'payment', id: 'P2', name: '李四' },
      agency_code: 'A01', region_code: '370811', fiscal_year: 2025, period: { start: '2025-11-08', end: '2025-11-08' },
      measure: { name: 'amount', value: '128000.00', threshold: '50000.00' }, amount: '128000.00',
      evidence: [{ table: 'treasury.payments', key: 'P2' }], status: 'discovered',
    });
    expect(flags[1].title).toContain('128,000.00');
    expect(flags[1].first_seen_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);

    const filtered = await runCli(['--db', db, 'flags', '--agency', 'A01', '--severity', 'high', '--format', 'json']);
    expect(JSON.parse(filtered.stdout)).toEqual([]);
    const csv = await runCli(['--db', db, 'flags', '--reproduced', 'true', '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toMatch(/^flag_id,rule_id,severity,status,reproduced/);
    expect(csv.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('backtests without writing', async () => {
    const before = await runCli(['--db', db, 'query', 'SELECT count(*) AS n FROM fiscus.rule_runs', '--format', 'json']);
    const bt = await runCli(['--db', db, 'rules', 'backtest', 'treasury.individual_large', '--from', '2025-01-01', '--to', '2025-12-31', '--every', 'quarter', '--format', 'json']);
    expect(bt.code).toBe(0);
    expect(JSON.parse(bt.stdout).map((r: { as_of: string; flags: number; medium: number }) => [r.as_of, r.flags, r.medium])).toEqual([
      ['2025-03-31', 0, 0], ['2025-06-30', 1, 1], ['2025-09-30', 1, 1], ['2025-12-31', 2, 2],
    ]);
    const after = await runCli(['--db', db, 'query', 'SELECT count(*) AS n FROM fiscus.rule_runs', '--format', 'json']);
    expect(after.stdout).toBe(before.stdout);
  });

  it('runs analyst rule tests and fails clearly on broken or clashing rule files', async () => {
    const t = await runCli(['--db', db, 'rules', 'test', 'local.big_individual', '--rules-dir', rulesDir]);
    expect(t.stdout).toMatch(/✓ local.big_individual › only the payment above 100,000/);
    expect(t.code).toBe(0);

    const broken = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-12-31', '--rules-dir', brokenDir]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/bad\.rule\.yaml:\d+:\d+: /);

    const clash = await runCli(['--db', db, 'rules', 'list', '--rules-dir', clashDir]);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toMatch(/treasury\.individual_large is defined twice/);

    const unknown = await runCli(['--db', db, 'rules', 'show', 'treasury.no_such']);
    expect(unknown.code).toBe(2);
    const badDate = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-02-30']);
    expect(badDate.code).toBe(2);
  });
});
