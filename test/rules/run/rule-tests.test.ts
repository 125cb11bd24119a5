import { describe, expect, it } from 'vitest';
import { formatCaseResults, parseRuleTestFile, runRuleTestFile, type ResolveRule } from '../../../rules/run/rule-tests.ts';
import { bigPaymentRule } from './helpers.ts';

const resolve: ResolveRule = async (id, params) => {
  if (id !== 'test.big_payment') throw new Error(`no rule ${id}`);
  const rule = bigPaymentRule();
  return { ...rule, params: { ...rule.params, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [`p_${k}`, v])) } };
};

const FILE = `rule: test.big_payment
cases:
  - name: two large payments
    as_of: 2025-12-31
    defaults:
      treasury.payments: { fiscal_year: 2025, region_code: "370811", agency_code: A01, func_code: "2050201", econ_code: "30201", fund_source: general, payee_name: 某某公司, payee_account: "6222020200112233", payee_type: org, pay_method: direct, purpose: 材料费, direct_fund: false }
    given:
      ref.agencies:
        - { agency_code: A01, agency_name: 市教育局, dept_code: A01, region_code: "370811" }
      treasury.payments:
        - { payment_id: P1, amount: "612000.00", pay_date: 2025-03-03 }
        - { payment_id: P2, amount: "1500000.00", pay_date: 2025-03-04 }
        - { payment_id: P3, amount: "99.00", pay_date: 2025-03-05 }
    expect:
      - entity_id: P1
        period: [2025-03-03, 2025-03-03]
        evidence: [P1]
        measure_value: "612000"
        amount: "612000.00"
        severity: medium
      - entity_id: P2
        period: [2025-03-04, 2025-03-04]
        severity: high
  - name: near miss with a higher threshold
    as_of: 2025-12-31
    params: { min: "2000000.00" }
    defaults:
      treasury.payments: { fiscal_year: 2025, region_code: "370811", agency_code: A01, func_code: "2050201", econ_code: "30201", fund_source: general, payee_name: 某某公司, payee_account: "6222020200112233", payee_type: org, pay_method: direct, purpose: 材料费, direct_fund: false }
    given:
      treasury.payments:
        - { payment_id: P1, amount: "1500000.00", pay_date: 2025-03-04 }
    expect: []
  - name: empty payments is skipped
    as_of: 2025-12-31
    given: {}
    expect: []
`;

const FAILING = `rule: test.big_payment
cases:
  - name: wrong expectations
    as_of: 2025-12-31
    defaults:
      treasury.payments: { fiscal_year: 2025, region_code: "370811", agency_code: A01, func_code: "2050201", econ_code: "30201", fund_source: general, payee_name: 某某公司, payee_account: "6222020200112233", payee_type: org, pay_method: direct, purpose: 材料费, direct_fund: false }
    given:
      treasury.payments:
        - { payment_id: P1, amount: "612000.00", pay_date: 2025-03-03 }
        - { payment_id: P2, amount: "300000.00", pay_date: 2025-03-04 }
    expect:
      - entity_id: P1
        period: [2025-03-03, 2025-03-03]
        evidence: [P1, P9]
        amount: "600000.00"
      - entity_id: P7
        period: null
`;

describe('rule test harness', () => {
  it('passes a correct file, with parameter overrides and a skipped near miss', async () => {
    const results = await runRuleTestFile('pass.test.yaml', FILE, resolve);
    expect(results.map((r) => [r.name, r.pass, r.problems])).toEqual([
      ['two large payments', true, []],
      ['near miss with a higher threshold', true, []],
      ['empty payments is skipped', true, []],
    ]);
    expect(results[2]!.note).toMatch(/treasury.payments is empty/);
    expect(formatCaseResults(results)).toMatch(/3 passed, 0 failed/);
  });

  it('reports missing, unexpected and mismatching flags readably', async () => {
    const [r] = await runRuleTestFile('fail.test.yaml', FAILING, resolve);
    expect(r!.pass).toBe(false);
    expect(r!.problems).toEqual([
      'P1 [2025-03-03, 2025-03-03]: evidence expected [P1, P9], got [P1]; missing P9',
      'P1 [2025-03-03, 2025-03-03]: amount expected 600000.00, got 612000.00',
      'missing flag (line 16): entity_id P7, period null',
      'unexpected flag: entity_id: P2, period: [2025-03-04, 2025-03-04], evidence: [P2], measure_value: 300000.00, amount: 300000.00, severity: medium',
    ]);
    expect(formatCaseResults([r!])).toMatch(/✗ test.big_payment › wrong expectations {2}\(fail.test.yaml:3/);
  });

  it('names the test file line for unknown tables, columns and bad values', () => {
    const badCol = FILE.replace('{ payment_id: P2, amount', '{ payment_id: P2, amout');
    expect(() => parseRuleTestFile('x.test.yaml', badCol)).toThrow(/^x\.test\.yaml:12: unknown column treasury\.payments\.amout/);
    const badTable = FILE.replace('      ref.agencies:', '      ref.agency:');
    expect(() => parseRuleTestFile('x.test.yaml', badTable)).toThrow(/^x\.test\.yaml:8: unknown table ref\.agency/);
    const badDate = FILE.replace('pay_date: 2025-03-05', 'pay_date: 2025/03/05');
    expect(() => parseRuleTestFile('x.test.yaml', badDate)).toThrow(/^x\.test\.yaml:13: treasury\.payments\.pay_date: not a date/);
    const missing = FILE.replace('payee_account: "6222020200112233", ', '');
    expect(() => parseRuleTestFile('x.test.yaml', missing)).toThrow(/lacks required column payee_account/);
  });
});
