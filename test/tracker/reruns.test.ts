/** Re-runs of the rules feed the loop: through the rule runner's own merge (rules/run/store-flags.ts). */
import { afterAll, beforeAll, expect, test } from 'vitest';
import fs from 'node:fs';
import { openStore, type Store } from '../../engine/db.ts';
import { mergeRuleFlags } from '../../rules/run/store-flags.ts';
import type { FlagFinding } from '../../flags/row.ts';
import { flagHistory, listTracked, performAction, verifyLog, type Actor } from '../../tracker/index.ts';
import { tempDb } from './helpers.ts';

const sup: Actor = { name: '王秘书', role: 'supervisor' };
const RULE = 'treasury.individual_large';
let store: Store;
let dir: string;

function staged(id: string): FlagFinding {
  return {
    flag_id: id, rule_id: RULE, rule_version: 1, severity: 'medium', title: `大额个人支付 ${id}`, title_en: `Large individual payment ${id}`,
    entity_type: 'payment', entity_id: id, entity_name: null, region_code: '370811', agency_code: 'A01', fiscal_year: 2026,
    period_start: '2026-03-02', period_end: '2026-03-02', measure_name: 'amount', measure_value: '80000.00', measure_threshold: '50000.00',
    amount: '80000.00', evidence: JSON.stringify([{ table: 'treasury.payments', key: id }]), evidence_query: null,
  };
}

async function run(n: number, ids: string[]): Promise<void> {
  await store.transaction(() =>
    mergeRuleFlags(store, { ruleId: RULE, runId: `run-${n}`, now: `2026-04-0${n}T02:00:00Z`, flags: ids.map(staged), suppressedIds: [] }),
  );
}

beforeAll(async () => {
  const t = tempDb();
  dir = t.dir;
  store = await openStore(t.db);
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('new flags enter as discovered; a flag no longer reproduced waits for the committee and is never closed silently', async () => {
  await run(1, ['P1', 'P2']);
  expect((await listTracked(store)).map((f) => [f.flag_id, f.status])).toEqual([['P1', 'discovered'], ['P2', 'discovered']]);
  await performAction(store, 'P1', { action: 'confirm' }, sup);
  await performAction(store, 'P1', { action: 'assign', due: '2030-06-28' }, sup);
  await performAction(store, 'P1', { action: 'start-rectification', category: 'immediate' }, sup);

  // Run 2: P1 is gone (data corrected?), P3 is new.
  await run(2, ['P2', 'P3']);
  const after2 = await listTracked(store);
  expect(after2.map((f) => [f.flag_id, f.status, f.reproduced, f.needs_decision])).toEqual([
    ['P1', 'rectifying', false, true],
    ['P2', 'discovered', true, false],
    ['P3', 'discovered', true, false],
  ]);
  expect((await listTracked(store, { needsDecision: true })).map((f) => f.flag_id)).toEqual(['P1']);
  await performAction(store, 'P1', { action: 'keep', note: '整改未验收，继续跟踪' }, sup);
  expect((await listTracked(store, { needsDecision: true })).map((f) => f.flag_id)).toEqual([]);

  // Run 3 raises P1 again: reproduced, state untouched. Run 4 loses it again: the committee is asked again.
  await run(3, ['P1', 'P2', 'P3']);
  expect((await flagHistory(store, 'P1')).flag).toMatchObject({ status: 'rectifying', reproduced: true, needs_decision: false });
  await run(4, ['P2', 'P3']);
  expect((await flagHistory(store, 'P1')).flag).toMatchObject({ status: 'rectifying', reproduced: false, needs_decision: true });
  await performAction(store, 'P1', { action: 'dismiss', note: '源数据已更正，不再构成问题' }, sup);

  const h = await flagHistory(store, 'P1');
  expect(h.events.map((e) => e.type)).toEqual([
    'flag.discovered', 'flag.confirmed', 'flag.assigned', 'flag.rectification_started',
    'flag.not_reproduced', 'flag.kept', 'flag.reproduced', 'flag.not_reproduced', 'flag.dismissed',
  ]);
  expect((await verifyLog(store)).ok).toBe(true);
});
