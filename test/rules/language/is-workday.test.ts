/**
 * is_workday() in a rule (emit/functions.ts): the official calendar's holidays and adjusted
 * working days (调休) inside fiscus.calendar_days, Monday to Friday outside it, on the test
 * engine's real database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { compileRule, parseRuleText } from '../../../rules/language/index.ts';
import { addPayments, standingFlags, tempStore } from '../run/helpers.ts';

/** One flag per payment whose date is (`want` true) or is not a working day. */
function rule(engine: Store['engine'], want: boolean) {
  const text = `id: local.${want ? 'workday' : 'offday'}
version: 1
status: test
severity: low
title: { zh: "支付 {payment_id}", en: "Payment {payment_id}" }
reads: [treasury.payments]
match:
  from: treasury.payments as p
  where: ${want ? '' : 'not '}is_workday(p.pay_date)
let:
  payment_id: p.payment_id
entity: { type: payment, id: p.payment_id }
measure: { name: amount, value: p.amount }
`;
  return compileRule(parseRuleText(text, `rules/local/${want ? 'workday' : 'offday'}.rule.yaml`), { dialect: engine });
}

const DAYS: Record<string, string> = {
  P_HOLIDAY: '2025-10-01', // Wednesday, National Day
  P_ADJUSTED_SUN: '2025-09-28', // Sunday worked for the National Day holiday
  P_ADJUSTED_SAT: '2025-10-11', // Saturday worked for the National Day holiday
  P_WEEKEND: '2025-10-18', // an ordinary Saturday
  P_WEEKDAY: '2025-10-20', // an ordinary Monday
  P_LATER_SAT: '2045-01-07', // beyond the calendar: Saturday
  P_LATER_MON: '2045-01-09', // beyond the calendar: Monday
};

describe('is_workday', () => {
  let store: Store;
  beforeAll(async () => {
    store = await tempStore('fiscus-workday-');
    await addPayments(store, 'B1', Object.entries(DAYS).map(([id, date]) => ({ id, agency: 'A01', amount: '100.00', date })));
  });
  afterAll(async () => {
    await store.close();
  });

  const flagged = async (want: boolean): Promise<string[]> =>
    (await standingFlags<{ entity_id: string }>(store, rule(store.engine, want), '2045-12-31', 'entity_id')).map((x) => x.entity_id);

  it('takes holidays and adjusted working days from the calendar, Monday to Friday beyond it', async () => {
    expect(await flagged(false)).toEqual(['P_HOLIDAY', 'P_LATER_SAT', 'P_WEEKEND']);
    expect(await flagged(true)).toEqual(['P_ADJUSTED_SAT', 'P_ADJUSTED_SUN', 'P_LATER_MON', 'P_WEEKDAY']);
  });
});
