/**
 * `rules run` warns when a rule flags more than a configurable share of its input rows
 * (default 2%), naming the rule, the share and the config key; and the duplicate-payment
 * rule's reference field, read from an `extra` JSON field named in the deployment config.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../engine/db.ts';
import { compileRule, loadRuleFile } from '../../../rules/language/index.ts';
import { ConfigError, parseConfig, ruleOverrides, type FiscusConfig } from '../../../rules/run/config.ts';
import { shareWarning } from '../../../rules/run/input-counts.ts';
import { runRules } from '../../../rules/run/runner.ts';
import { runCli } from '../../helpers/cli.ts';
import { testDbLocation } from '../../helpers/postgres.ts';
import { addAgency, tempStore } from './helpers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const RULE = join(ROOT, 'rules/pack/treasury/duplicate_payment.rule.yaml');

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** `n` payments of A01 to one account, each amount unique; then `pairs` repeats of the first amounts 7 days later. */
async function seed(s: Store, n: number, pairs: number): Promise<void> {
  await addAgency(s, 'A01', '市教育局');
  const rows: string[] = [];
  const day = (offset: number) => new Date(Date.UTC(2025, 0, offset)).toISOString().slice(0, 10);
  for (let i = 0; i < n; i++) rows.push(`('P${i}', '${1000 + i}.00', DATE '${day(6 + (i % 300))}')`);
  for (let i = 0; i < pairs; i++) rows.push(`('D${i}', '${1000 + i}.00', DATE '${day(13 + (i % 300))}')`);
  await s.run(`INSERT INTO treasury.payments
    SELECT id, 2025, '370811', 'A01', NULL, '2050201', '30201', 'general', NULL, '某某公司', '6222000011112222', 'org',
      CAST(amount AS DECIMAL(18,2)), d, 'direct', '材料费', false, NULL, 'b1', ${s.dialect.rowHash('id')}, now()
    FROM (VALUES ${rows.join(', ')}) v(id, amount, d)`);
}

/** The pack's duplicate-payment rule with the config's parameters, compiled for the Store's engine. */
async function dup(config: FiscusConfig, s: Store) {
  const def = await loadRuleFile(RULE, { builtin: true });
  const o = ruleOverrides(config, def.meta.id);
  return compileRule(def, { params: o.params, dialect: s.engine });
}

const cfg = (text: string) => parseConfig(text, 'fiscus.config.yaml');

describe('the flag-share warning', () => {
  it('fires above 2% of the input rows by default, naming the rule, the share and the key', async () => {
    store = await tempStore('fiscus-share-');
    await seed(store, 150, 4); // 154 payments, 4 clusters: 2.60%
    const config = cfg('');
    const s = await runRules(store, [await dup(config, store)], { asOf: '2025-12-31', config });
    expect(s.rules[0]).toMatchObject({ outcome: 'evaluated', flags_raised: 4, input_rows: 154 });
    expect(s.warnings).toHaveLength(1);
    const w = s.warnings[0]!;
    expect(w).toMatchObject({ rule_id: 'treasury.duplicate_payment', flags: 4, input_rows: 154, share_pct: 2.6, limit_pct: 2, config_key: 'rules.treasury.duplicate_payment.warn_flag_share_pct' });
    expect(w.message).toContain('rule treasury.duplicate_payment flagged 4 of its 154 input rows (2.6%), more than 2%');
    expect(w.message).toContain('rules.treasury.duplicate_payment.warn_flag_share_pct');
    expect(w.message).toContain('run.warn_flag_share_pct');
    expect(w.message).toMatch(/^规则 treasury\.duplicate_payment 预警 4 条/);
  });

  it('stays quiet at exactly the limit, and when the rule or the run raises the limit', async () => {
    store = await tempStore('fiscus-share-');
    await seed(store, 98, 2); // 100 payments, 2 clusters: exactly 2%
    const none = cfg('');
    const at = await runRules(store, [await dup(none, store)], { asOf: '2025-12-31', config: none, dryRun: true });
    expect(at.rules[0]!.flags_raised).toBe(2);
    expect(at.warnings).toEqual([]);
    const tight = cfg('run:\n  warn_flag_share_pct: 1.5\n');
    expect((await runRules(store, [await dup(tight, store)], { asOf: '2025-12-31', config: tight, dryRun: true })).warnings.map((w) => w.limit_pct)).toEqual([1.5]);
    const perRule = cfg('run:\n  warn_flag_share_pct: 1.5\nrules:\n  treasury.duplicate_payment:\n    warn_flag_share_pct: 5\n');
    expect((await runRules(store, [await dup(perRule, store)], { asOf: '2025-12-31', config: perRule, dryRun: true })).warnings).toEqual([]);
  });

  it('does not judge inputs smaller than run.warn_min_input_rows (default 100)', () => {
    const c = cfg('');
    expect(shareWarning('x.y', 50, 99, c)).toBeNull();
    expect(shareWarning('x.y', 50, 100, c)?.share_pct).toBe(50);
    expect(shareWarning('x.y', 3, 10, cfg('run:\n  warn_min_input_rows: 10\n'))?.share_pct).toBe(30);
    expect(shareWarning('x.y', 0, 0, cfg('run:\n  warn_min_input_rows: 0\n'))).toBeNull();
    expect(shareWarning('x.y', 1, null, c)).toBeNull();
  });

  it('refuses bad settings with the file, line and key', () => {
    expect(() => cfg('run:\n  warn_flag_share_pct: 0\n')).toThrow(/fiscus\.config\.yaml:2: run\.warn_flag_share_pct: must be a percentage above 0/);
    expect(() => cfg('run:\n  warn_flag_share_pct: 101\n')).toThrow(/run\.warn_flag_share_pct: must be a percentage ≤ 100/);
    expect(() => cfg('rules:\n  treasury.duplicate_payment:\n    warn_flag_share_pct: "two"\n')).toThrow(ConfigError);
    expect(() => cfg('run:\n  warn_min_input_rows: 1.5\n')).toThrow(/warn_min_input_rows: must be a whole number/);
    expect(() => cfg('run:\n  warn_share: 2\n')).toThrow(/run/);
  });

  it('rules run prints it on stderr, and in the JSON summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiscus-share-cli-'));
    const db = testDbLocation(join(dir, 'f.duckdb'));
    const s = await openStore(db);
    await seed(s, 150, 4);
    await s.close();
    const run = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-12-31', '--rule', 'treasury.duplicate_payment']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('fiscus: warning: 规则 treasury.duplicate_payment 预警 4 条，占其输入 154 行的 2.6%');
    expect(run.stderr).toContain('rules.treasury.duplicate_payment.warn_flag_share_pct');
    const config = join(dir, 'fiscus.config.yaml');
    writeFileSync(config, 'rules:\n  treasury.duplicate_payment:\n    warn_flag_share_pct: 3\n');
    const quiet = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-12-31', '--rule', 'treasury.duplicate_payment', '--config', config, '--format', 'json']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(JSON.parse(quiet.stdout).warnings).toEqual([]);
  });
});

describe('treasury.duplicate_payment reference field', () => {
  it('reads an extra JSON field named in the config: lines of one invoice are one document', async () => {
    store = await tempStore('fiscus-dupref-');
    await addAgency(store, 'A01', '市教育局');
    const rows: [string, string, string | null][] = [
      // invoice INV-7: three lines of 500.00 on one day → one document; alone, no finding
      ['L1', '2025-04-01', '{"invoice_no": "INV-7"}'],
      ['L2', '2025-04-01', '{"invoice_no": "INV-7"}'],
      ['L3', '2025-04-01', '{"invoice_no": "INV-7"}'],
      // a month later, invoice INV-9 (two lines) 12 and 20 days after INV-7's… and one line without a reference
      ['M1', '2025-06-02', '{"invoice_no": "INV-9"}'],
      ['M2', '2025-06-14', '{"invoice_no": "INV-9"}'],
      ['M3', '2025-06-22', null],
    ];
    for (const [id, d, x] of rows) {
      await store.run(
        `INSERT INTO treasury.payments VALUES ($id, 2025, '370811', 'A01', NULL, '2050201', '30201', 'general', NULL, '某某公司',
          '6222000011112222', 'org', 500.00, $d::DATE, 'direct', '材料费', false, $x::JSON, 'b1', ${store.dialect.rowHash('$id')}, now())`,
        { id, d, x },
      );
    }
    const withRef = cfg('rules:\n  treasury.duplicate_payment:\n    params:\n      reference_field: invoice_no\n');
    const a = await runRules(store, [await dup(withRef, store)], { asOf: '2025-12-31', config: withRef, dryRun: true, collect: true });
    const flags = a.rules[0]!.flags!;
    expect(flags.map((f) => [f.entity_id, f.period_start, f.period_end, f.measure_value, f.amount])).toEqual([['M1', '2025-06-02', '2025-06-22', '2', '500.00']]);
    expect(JSON.parse(flags[0]!.evidence).map((e: { key: string }) => e.key)).toEqual(['M1', 'M2', 'M3']);
    expect(flags[0]!.title).toBe('重复支付：市教育局 于2025-06-02至2025-06-22向 某某公司（账户6222000011112222）2次支付相同金额500.00元');

    // Without the reference field, the invoice lines are duplicates of each other.
    const plain = cfg('');
    const b = await runRules(store, [await dup(plain, store)], { asOf: '2025-12-31', config: plain, dryRun: true, collect: true });
    expect(b.rules[0]!.flags!.map((f) => [f.entity_id, f.measure_value, f.amount]).sort()).toEqual([['L1', '3', '1000.00'], ['M1', '3', '1000.00']]);

    // The allow-list's payee_account reaches cluster flags (the account is a title value).
    const allowed = cfg('allow:\n  - rule: treasury.duplicate_payment\n    payee_account: "6222000011112222"\n    reason: 物业费按月缴纳\n    until: 2026-12-31\n');
    const z = await runRules(store, [await dup(allowed, store)], { asOf: '2025-12-31', config: allowed, dryRun: true, collect: true });
    expect(z.rules[0]).toMatchObject({ flags_raised: 0, suppressed: 2, suppressed_reasons: [{ reason: '物业费按月缴纳', count: 2 }] });

    // A field no row has: every payment is its own document (same as without).
    const missing = cfg('rules:\n  treasury.duplicate_payment:\n    params:\n      reference_field: "no such \\"field\\""\n');
    const c = await runRules(store, [await dup(missing, store)], { asOf: '2025-12-31', config: missing, dryRun: true, collect: true });
    expect(c.rules[0]!.flags!.map((f) => f.entity_id).sort()).toEqual(['L1', 'M1']);
  });
});

describe('a bureau export with an invoice column, end to end', () => {
  it('ingest keeps invoice_no in extra; the config names it; lines of one invoice are not flagged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiscus-dupref-cli-'));
    const db = testDbLocation(join(dir, 'f.duckdb'));
    const head = 'payment_id,fiscal_year,region_code,agency_code,indicator_id,func_code,econ_code,fund_source,project_code,payee_name,payee_account,payee_type,amount,pay_date,pay_method,purpose,direct_fund,invoice_no';
    const line = (id: string, date: string, inv: string) => `${id},2025,370811,A01,,2050201,30201,general,,某某物业公司,6222000011112222,org,1250.00,${date},direct,物业费,false,${inv}`;
    writeFileSync(join(dir, 'treasury.payments.csv'), [
      head,
      line('Q1', '2025-03-03', 'FP-001'), line('Q2', '2025-03-03', 'FP-001'), line('Q3', '2025-03-03', 'FP-001'), // one invoice, three lines
      line('Q4', '2025-05-06', 'FP-002'), line('Q5', '2025-05-20', 'FP-003'), // two invoices of the same amount 14 days apart
    ].join('\n') + '\n');
    const ing = await runCli(['--db', db, 'ingest', join(dir, 'treasury.payments.csv')]);
    expect(ing.code, ing.stderr).toBe(0);
    const config = join(dir, 'fiscus.config.yaml');
    writeFileSync(config, 'rules:\n  treasury.duplicate_payment:\n    params:\n      reference_field: invoice_no\n');
    const run = await runCli(['--db', db, 'rules', 'run', '--as-of', '2025-12-31', '--rule', 'treasury.duplicate_payment', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    const flags = await runCli(['--db', db, 'flags', '--rule', 'treasury.duplicate_payment', '--format', 'jsonl']);
    const got = flags.stdout.trim().split('\n').map((l) => JSON.parse(l) as { entity: { id: string }; evidence: { key: string }[]; measure: { value: string }; amount: string });
    expect(got.map((f) => [f.entity.id, f.evidence.map((e) => e.key), f.measure.value, f.amount])).toEqual([['Q4', ['Q4', 'Q5'], '2', '1250.00']]);
  });
});
