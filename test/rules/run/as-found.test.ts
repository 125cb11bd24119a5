/**
 * As-found publishing (the folder watcher's runs): quick rules run first and their findings are
 * written while slower rules still run, without changing what a run leaves behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { readFlagEvents, verifyEventChain } from '../../../engine/flag-events.ts';
import { listFlags } from '../../../flags/list.ts';
import { quickestFirst, runRules, slowestFirst } from '../../../rules/run/runner.ts';
import { addAgency, addPayments, BIG_PAYMENT_RULE, bigPaymentRule, compileTestRule, tempStore } from './helpers.ts';

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function seeded(): Promise<Store> {
  const store = await tempStore('fiscus-asfound-');
  stores.push(store);
  await addAgency(store, 'A01', '市教育局');
  await addPayments(store, 'b1', [
    { id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-03' },
    { id: 'P2', agency: 'A01', amount: '1500000.00', date: '2025-03-04' },
    { id: 'P3', agency: 'A01', amount: '99.00', date: '2025-03-05' },
  ]);
  return store;
}

/** A second rule: the same text under another id, flagging from a higher threshold. */
const millionRule = (engine: Store['engine']) =>
  compileTestRule(BIG_PAYMENT_RULE.replace('id: test.big_payment', 'id: test.million_payment').replace('default: "100000.00"', 'default: "1000000.00"'), engine);

const view = async (s: Store) =>
  (await listFlags(s, {}, { sort: 'rule' })).items.map((f) => [f.rule_id, f.entity.id, f.reproduced, f.amount, f.status]);

describe('runRules publish: as-found', () => {
  it('leaves the flags, events and results an at-end run leaves; the summary lists the rules as given', async () => {
    const [a, b] = [await seeded(), await seeded()];
    const rules = (s: Store) => [bigPaymentRule(s.engine), millionRule(s.engine)];
    const atEnd = await runRules(a, rules(a), { asOf: '2025-12-31' });
    const asFound = await runRules(b, rules(b), { asOf: '2025-12-31', publish: 'as-found' });
    const counts = (x: typeof atEnd) => x.rules.map((r) => [r.rule_id, r.outcome, r.flags_raised, r.flags_new]);
    expect(counts(asFound)).toEqual(counts(atEnd));
    expect(counts(asFound)).toEqual([['test.big_payment', 'evaluated', 2, 2], ['test.million_payment', 'evaluated', 1, 1]]);
    expect(await view(b)).toEqual(await view(a));
    expect((await readFlagEvents(b)).length).toBe(3);
    expect((await verifyEventChain(b)).ok).toBe(true);
    const run = await b.one<{ finished: boolean; results: number | string }>(
      `SELECT finished_at IS NOT NULL AS finished, (SELECT count(*) FROM fiscus.rule_run_results WHERE run_id = $id) AS results
         FROM fiscus.rule_runs WHERE run_id = $id`,
      { id: asFound.run_id },
    );
    expect(run).toEqual({ finished: true, results: expect.anything() });
    expect(Number(run!.results)).toBe(2);
  });

  it('findings are committed, and reach write listeners (the feed), before the run is finished', async () => {
    const store = await seeded();
    const seen: { flags: number; finished: boolean | null }[] = [];
    const pending: Promise<void>[] = [];
    const off = store.onWrite(() => {
      pending.push(
        store
          .one<{ flags: number | string; finished: boolean | null }>(
            'SELECT (SELECT count(*) FROM fiscus.flags) AS flags, (SELECT bool_and(finished_at IS NOT NULL) FROM fiscus.rule_runs) AS finished',
          )
          .then((r) => void seen.push({ flags: Number(r!.flags), finished: r!.finished })),
      );
    });
    await runRules(store, [bigPaymentRule(store.engine), millionRule(store.engine)], { asOf: '2025-12-31', publish: 'as-found' });
    await Promise.all(pending);
    off();
    // The run's row comes first (no flags yet), then findings while it is still unfinished, then the results.
    expect(seen[0]).toEqual({ flags: 0, finished: false });
    expect(seen.some((x) => x.flags > 0 && x.finished === false)).toBe(true);
    expect(seen.at(-1)).toEqual({ flags: 3, finished: true });
  });

  it('a rule whose findings cannot be stored fails alone; the others land', async () => {
    const store = await seeded();
    // Its SQL runs, but its amount is no amount: storing it (amount::DECIMAL(18,2)) fails.
    const compiled = compileTestRule(BIG_PAYMENT_RULE.replace('id: test.big_payment', 'id: test.overflow'), store.engine);
    const moneyColumn = 'CAST("p"."amount" AS DECIMAL(18,2)) AS "amount"';
    expect(compiled.sql).toContain(moneyColumn);
    const overflow = { ...compiled, sql: compiled.sql.replace(moneyColumn, `'not money' AS "amount"`) };
    const s = await runRules(store, [bigPaymentRule(store.engine), overflow, millionRule(store.engine)], { asOf: '2025-12-31', publish: 'as-found' });
    expect(s.rules.map((r) => [r.rule_id, r.outcome])).toEqual([
      ['test.big_payment', 'evaluated'], ['test.overflow', 'error'], ['test.million_payment', 'evaluated'],
    ]);
    expect(s.rules[1]!.reason).toMatch(/^写入失败 \/ storing its findings failed/);
    expect((await view(store)).map((f) => f[0])).toEqual(['test.big_payment', 'test.big_payment', 'test.million_payment']);
    expect((await verifyEventChain(store)).ok).toBe(true);
  });

  /** A store where big_payment last took 900 ms and million_payment 5 ms, and a rule never evaluated. */
  async function timed() {
    const store = await seeded();
    const big = bigPaymentRule(store.engine);
    const million = millionRule(store.engine);
    const run = await runRules(store, [big, million], { asOf: '2025-12-31' });
    await store.run(`UPDATE fiscus.rule_run_results SET millis = CASE rule_id WHEN 'test.big_payment' THEN 900 ELSE 5 END WHERE run_id = $id`, { id: run.run_id });
    const fresh = compileTestRule(BIG_PAYMENT_RULE.replace('id: test.big_payment', 'id: test.fresh'), store.engine);
    return { store, big, million, fresh };
  }

  it('orders rules by their last evaluation time, quickest first; a rule never evaluated goes last', async () => {
    const { store, big, million, fresh } = await timed();
    expect((await quickestFirst(store, [fresh, big, million])).map((r) => r.meta.id)).toEqual(['test.million_payment', 'test.big_payment', 'test.fresh']);
  });

  it('an at-end run starts the slowest first: rules never evaluated by the rows ingest committed to what they read, then by last time', async () => {
    const { store, big, million, fresh } = await timed();
    for (const [id, table, n] of [['B1', 'treasury.payments', 3], ['B2', 'debt.bonds', 1], ['B3', 'debt.bonds', 1]] as const) {
      await store.run(`INSERT INTO fiscus.batches (batch_id, table_name, source, source_kind, status, inserted, started_at) VALUES ($id, $t, 'x.csv', 'file', 'committed', $n, now())`, { id, t: table, n });
    }
    const small = { ...fresh, meta: { ...fresh.meta, id: 'test.bonds', reads: ['debt.bonds'] } };
    expect((await slowestFirst(store, [small, million, fresh, big])).map((r) => r.meta.id)).toEqual(['test.fresh', 'test.bonds', 'test.big_payment', 'test.million_payment']);
  });
});
