import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { readFlagEvents, verifyEventChain } from '../../../engine/flag-events.ts';
import { listFlags } from '../../../flags/list.ts';
import { flagId } from '../../../rules/run/result-rows.ts';
import { runRules } from '../../../rules/run/runner.ts';
import { parseConfig } from '../../../rules/run/config.ts';
import { addAgency, addPayments, bigPaymentRule, correctPayment, tempStore } from './helpers.ts';

let store: Store;
afterEach(async () => {
  await store?.close();
});

async function flagsOf(s: Store) {
  return (await listFlags(s, {}, { sort: 'rule' })).items;
}

describe('runRules', () => {
  it('raises new flags with stable ids, titles, severity, events; a re-run creates no duplicates', async () => {
    store = await tempStore();
    await addAgency(store, 'A01', '市教育局');
    await addPayments(store, 'b1', [
      { id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-03', payee: '某某公司' },
      { id: 'P2', agency: 'A01', amount: '1500000.00', date: '2025-03-04' },
      { id: 'P3', agency: 'A01', amount: '99.00', date: '2025-03-05' },
    ]);
    const rule = bigPaymentRule(store.engine);
    const s1 = await runRules(store, [rule], { asOf: '2025-12-31', actor: 'tester' });
    expect(s1.rules[0]).toMatchObject({ outcome: 'evaluated', mode: 'full', flags_raised: 2, flags_new: 2, flags_existing: 0 });
    const flags = await flagsOf(store);
    expect(flags.map((f) => f.entity.id)).toEqual(['P1', 'P2']);
    const p1 = flags[0]!;
    expect(p1.flag_id).toBe(flagId('test.big_payment', 'payment', 'P1', '2025-03-03', '2025-03-03'));
    expect(p1.title).toBe('大额支付：市教育局 向 某某公司（账户6222000011112222）支付 612,000.00 元');
    expect(p1.title_en).toBe('Large payment: 市教育局 paid 612,000.00 yuan to 某某公司 (account 6222000011112222)');
    expect(p1).toMatchObject({
      severity: 'medium', status: 'discovered', reproduced: true, amount: '612000.00', agency_code: 'A01', fiscal_year: 2025,
      period: { start: '2025-03-03', end: '2025-03-03' }, measure: { name: 'amount', value: '612000.00', threshold: '100000.00' },
      evidence: [{ table: 'treasury.payments', key: 'P1' }], entity: { type: 'payment', id: 'P1', name: '市教育局' },
    });
    expect(p1.first_seen_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
    expect(flags[1]!.severity).toBe('high'); // the row's own severity wins
    const ev = await readFlagEvents(store);
    expect(ev.map((e) => [e.event_type, e.to_status, e.actor, e.role])).toEqual([
      ['flag.discovered', 'discovered', 'rules', 'system'],
      ['flag.discovered', 'discovered', 'rules', 'system'],
    ]);

    // Same data, different as-of → full evaluation; same ids, no new rows or events.
    const s2 = await runRules(store, [rule], { asOf: '2026-01-31' });
    expect(s2.rules[0]).toMatchObject({ outcome: 'evaluated', flags_raised: 2, flags_new: 0, flags_existing: 2, flags_not_reproduced: 0 });
    const again = await flagsOf(store);
    expect(again.map((f) => f.flag_id)).toEqual(flags.map((f) => f.flag_id));
    expect(again[0]!.first_seen_at).toBe(p1.first_seen_at);
    expect((await readFlagEvents(store)).length).toBe(2);
    const runs = await store.all('SELECT run_id, actor FROM fiscus.rule_runs ORDER BY started_at');
    expect(runs).toHaveLength(2);
    expect(runs[0]!.actor).toBe('tester');
    const res = await store.all('SELECT outcome, flags_new, flags_existing FROM fiscus.rule_run_results ORDER BY run_id');
    expect(res.map((r) => [r.outcome, r.flags_new, r.flags_existing])).toEqual(expect.arrayContaining([['evaluated', 2, 0], ['evaluated', 0, 2]]));
  });

  it('marks a flag not reproduced after a correction, never deletes it, keeps its status, and reproduces it again', async () => {
    store = await tempStore();
    await addPayments(store, 'b1', [
      { id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-03' },
      { id: 'P2', agency: 'A02', amount: '300000.00', date: '2025-03-04' },
    ]);
    const rule = bigPaymentRule(store.engine);
    await runRules(store, [rule], { asOf: '2025-12-31' });
    // The tracker moves P1 on; the runner must never touch that.
    await store.run(`UPDATE fiscus.flags SET status = 'assigned' WHERE entity_id = 'P1'`);
    await correctPayment(store, 'b2', 'P1', '6120.00');
    const s2 = await runRules(store, [rule], { asOf: '2025-12-31', full: true });
    expect(s2.rules[0]).toMatchObject({ flags_raised: 1, flags_new: 0, flags_existing: 1, flags_not_reproduced: 1 });
    let flags = await flagsOf(store);
    expect(flags.map((f) => [f.entity.id, f.reproduced, f.status])).toEqual([['P1', false, 'assigned'], ['P2', true, 'discovered']]);

    // Running again does not repeat the not-reproduced event.
    const s3 = await runRules(store, [rule], { asOf: '2025-12-31', full: true });
    expect(s3.rules[0]!.flags_not_reproduced).toBe(0);

    await correctPayment(store, 'b3', 'P1', '612000.00');
    const s4 = await runRules(store, [rule], { asOf: '2025-12-31' });
    expect(s4.rules[0]).toMatchObject({ flags_new: 0, flags_reproduced: 1, flags_not_reproduced: 0 });
    flags = await flagsOf(store);
    expect(flags.map((f) => [f.entity.id, f.reproduced, f.status])).toEqual([['P1', true, 'assigned'], ['P2', true, 'discovered']]);
    const p1Events = await readFlagEvents(store, { flagId: flags[0]!.flag_id });
    expect(p1Events.map((e) => e.event_type)).toEqual(['flag.discovered', 'flag.not_reproduced', 'flag.reproduced']);
    expect(p1Events[1]!.to_status).toBeNull();
    expect((await verifyEventChain(store)).ok).toBe(true);
  });

  it('skips with a reason on an empty table and isolates a failing rule', async () => {
    store = await tempStore();
    const ok = bigPaymentRule(store.engine);
    const broken = bigPaymentRule(store.engine, { sql: 'SELECT * FROM treasury.no_such_table', parameters: [] }, { id: 'test.broken' });
    const s1 = await runRules(store, [broken, ok], { asOf: '2025-12-31' });
    // With no payments both are skipped on their precondition, before any SQL runs.
    expect(s1.rules.map((r) => [r.rule_id, r.outcome])).toEqual([['test.broken', 'skipped'], ['test.big_payment', 'skipped']]);
    expect(s1.rules[1]!.reason).toBe('treasury.payments 为空 / treasury.payments is empty');

    await addPayments(store, 'b1', [{ id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-03' }]);
    const s2 = await runRules(store, [broken, ok], { asOf: '2025-12-31' });
    expect(s2.rules[0]).toMatchObject({ rule_id: 'test.broken', outcome: 'error' });
    expect(s2.rules[0]!.reason).toMatch(/no_such_table/);
    expect(s2.rules[1]).toMatchObject({ rule_id: 'test.big_payment', outcome: 'evaluated', flags_new: 1 });
    expect(s2.totals).toMatchObject({ errors: 1, evaluated: 1, flags_new: 1 });
    const rr = await store.all(`SELECT rule_id, outcome, reason FROM fiscus.rule_run_results WHERE run_id = $r ORDER BY rule_id`, { r: s2.run_id });
    expect(rr.map((r) => r.outcome)).toEqual(['evaluated', 'error']);

    // A result of the wrong shape is an error too, not a crash.
    const shapeless = bigPaymentRule(store.engine, { sql: 'SELECT 1 AS x', parameters: [] }, { id: 'test.shapeless' });
    const s3 = await runRules(store, [shapeless], { asOf: '2025-12-31' });
    expect(s3.rules[0]!.outcome).toBe('error');
    expect(s3.rules[0]!.reason).toMatch(/lacks column\(s\) entity_type/);
  });

  it('applies the allow-list and severity overrides from the deployment config', async () => {
    store = await tempStore();
    await addPayments(store, 'b1', [
      { id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-03', account: '111' },
      { id: 'P2', agency: 'A02', amount: '300000.00', date: '2025-03-04', account: '222' },
      { id: 'P3', agency: 'A03', amount: '200000.00', date: '2025-03-04', account: '333' },
    ]);
    const config = parseConfig(
      `rules:
  test.big_payment: { severity: low }
allow:
  - { rule: test.big_payment, agency: A01, reason: 经核实为合同分期款, until: 2026-06-30 }
  - { payee_account: "222", reason: 工资代发账户, until: 2026-01-01 }
  - { agency: A03, reason: 已过期, until: 2025-01-01 }
`,
      'inline.yaml',
    );
    const s = await runRules(store, [bigPaymentRule(store.engine)], { asOf: '2025-12-31', config });
    expect(s.rules[0]).toMatchObject({ flags_raised: 1, suppressed: 2 });
    expect(s.rules[0]!.suppressed_reasons).toEqual([
      { reason: '经核实为合同分期款', count: 1 },
      { reason: '工资代发账户', count: 1 },
    ]);
    const flags = await flagsOf(store);
    expect(flags.map((f) => [f.entity.id, f.severity])).toEqual([['P3', 'low']]);

    // A later as-of: the payee entry has expired, so P2 is now raised.
    const s2 = await runRules(store, [bigPaymentRule(store.engine)], { asOf: '2026-02-01', config });
    expect(s2.rules[0]).toMatchObject({ flags_raised: 2, flags_new: 1, suppressed: 1 });

    const off = parseConfig('rules: { test.big_payment: { enabled: false } }', 'off.yaml');
    const s3 = await runRules(store, [bigPaymentRule(store.engine)], { asOf: '2026-02-01', config: off });
    expect(s3.rules[0]).toMatchObject({ outcome: 'skipped', reason: '配置中已停用 / disabled in config' });
  });

  it('a dry run (backtest) counts flags and writes nothing', async () => {
    store = await tempStore();
    await addPayments(store, 'b1', [
      { id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-03' },
      { id: 'P2', agency: 'A01', amount: '1500000.00', date: '2025-09-04' },
    ]);
    const s = await runRules(store, [bigPaymentRule(store.engine)], { asOf: '2025-06-30', dryRun: true });
    expect(s.rules[0]).toMatchObject({ outcome: 'evaluated', flags_raised: 1, by_severity: { high: 0, medium: 1, low: 0 } });
    const counts = await store.one(`SELECT (SELECT count(*) FROM fiscus.flags) AS f, (SELECT count(*) FROM fiscus.rule_runs) AS r,
      (SELECT count(*) FROM fiscus.flag_events) AS e, (SELECT count(*) FROM fiscus.rule_fingerprints) AS fp`);
    expect(counts).toEqual({ f: '0', r: '0', e: '0', fp: '0' });
  });
});

describe('preconditions implied by findings', () => {
  // "At least 3 payments" stands for a statistical rule's minimum group size.
  const atLeast3 = { sql: 'SELECT count(*) >= 3 AS ok FROM treasury.payments', reason: '支付不足3笔 / fewer than 3 payments', impliedByFindings: true };

  it('are checked only when the rule found nothing: skipped with the reason, or evaluated with no flags', async () => {
    store = await tempStore();
    await addAgency(store, 'A01', '市教育局');
    await addPayments(store, 'b1', [
      { id: 'P1', agency: 'A01', amount: '99.00', date: '2025-03-03' },
      { id: 'P2', agency: 'A01', amount: '98.00', date: '2025-03-04' },
    ]);
    const rule = bigPaymentRule(store.engine, { preconditions: [...bigPaymentRule(store.engine).preconditions, atLeast3] });
    const few = await runRules(store, [rule], { asOf: '2025-12-31' });
    expect(few.rules[0]).toMatchObject({ outcome: 'skipped', reason: '支付不足3笔 / fewer than 3 payments', flags_raised: 0 });
    await addPayments(store, 'b2', [{ id: 'P3', agency: 'A01', amount: '97.00', date: '2025-03-05' }]);
    const enough = await runRules(store, [rule], { asOf: '2025-12-31', full: true });
    expect(enough.rules[0]).toMatchObject({ outcome: 'evaluated', flags_raised: 0 });
  });

  it('a finding implies them, so they are not run (a deliberately false one does not skip the rule)', async () => {
    store = await tempStore();
    await addAgency(store, 'A01', '市教育局');
    await addPayments(store, 'b1', [{ id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-03' }]);
    const never = { sql: 'SELECT false AS ok', reason: 'never', impliedByFindings: true };
    const rule = bigPaymentRule(store.engine, { preconditions: [...bigPaymentRule(store.engine).preconditions, never] });
    const s = await runRules(store, [rule], { asOf: '2025-12-31' });
    expect(s.rules[0]).toMatchObject({ outcome: 'evaluated', flags_raised: 1 });
  });

  it('gates that are not implied still stop a rule before it runs', async () => {
    store = await tempStore();
    const s = await runRules(store, [bigPaymentRule(store.engine)], { asOf: '2025-12-31' });
    expect(s.rules[0]).toMatchObject({ outcome: 'skipped', reason: 'treasury.payments 为空 / treasury.payments is empty' });
  });
});
