/**
 * Rule files that are wrong must say where and why: file:line:col and a
 * message an analyst can act on.
 */
import { describe, expect, it } from 'vitest';
import { RuleError, RuleErrors, compileRule, parseRuleText } from '../../../rules/language/index.ts';

/** A small valid rule; tests replace one line to break it. */
const BASE = `id: test.large
version: 1
status: test
severity: low
title:
  zh: "大额：{payee_name} {amount}元"
  en: "Large: {payee_name} {amount}"
params:
  min_amount: { type: money, default: 100000 }
reads: [treasury.payments]
match:
  from: treasury.payments as p
  where: p.amount >= $min_amount
let:
  payee_name: p.payee_name
  amount: p.amount
entity: { type: payment, id: p.payment_id, name: p.payee_name }
agency_code: p.agency_code
period: { start: p.pay_date, end: p.pay_date }
measure: { name: amount, value: p.amount, threshold: $min_amount }
amount: p.amount
`;

/** The first diagnostic (file order) of a broken rule; all of a file's mistakes come together as RuleErrors. */
function fails(text: string): RuleError {
  try {
    parseRuleText(text, 'rules/x.rule.yaml');
  } catch (e) {
    if (e instanceof RuleErrors) return e.errors[0]!;
    expect(e).toBeInstanceOf(RuleError);
    return e as RuleError;
  }
  throw new Error('expected a RuleError');
}

const swap = (from: string, to: string) => {
  expect(BASE).toContain(from);
  return BASE.replace(from, to);
};

describe('rule errors carry file:line:col', () => {
  it('accepts the base rule', () => {
    const def = parseRuleText(BASE, 'rules/x.rule.yaml');
    expect(def.meta.id).toBe('test.large');
    expect(def.meta.title).toEqual({ zh: '大额', en: 'Large' });
    expect(def.meta.reads).toEqual(['treasury.payments']);
    expect(def.meta.entityType).toBe('payment');
  });

  it('a measure may say what readers call it, in both languages', () => {
    const m = 'measure: { name: amount, value: p.amount, threshold: $min_amount }';
    expect(parseRuleText(BASE, 'rules/x.rule.yaml').meta.measureLabel).toBeUndefined();
    const labelled = parseRuleText(swap(m, 'measure: { name: amount, label: { zh: 支付金额(元), en: Amount paid }, value: p.amount, threshold: $min_amount }'), 'rules/x.rule.yaml');
    expect(labelled.meta.measureLabel).toEqual({ zh: '支付金额(元)', en: 'Amount paid' });
    expect(fails(swap(m, 'measure: { name: amount, label: { zh: 支付金额 }, value: p.amount }')).message).toMatch(/^rules\/x\.rule\.yaml:20:\d+: .*`measure\.label`.*en/);
    expect(fails(swap(m, 'measure: { name: amount, label: { zh: 金额, en: Amount, fr: Montant } }')).message).toMatch(/^rules\/x\.rule\.yaml:20:\d+: .*fr/);
  });

  it('unknown column with did-you-mean, at the column', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: p.amout >= $min_amount'));
    expect(e.message).toBe('rules/x.rule.yaml:13:12: unknown column `amout` in treasury.payments — did you mean `amount`?');
    expect([e.file, e.line, e.column]).toEqual(['rules/x.rule.yaml', 13, 12]);
  });

  it('unqualified unknown column also suggests', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: amout >= $min_amount'));
    expect(e.message).toBe('rules/x.rule.yaml:13:10: unknown column `amout` in treasury.payments — did you mean `amount`?');
  });

  it('bad syntax points at the unexpected token', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: p.amount >= >= $min_amount'));
    expect(e.line).toBe(13);
    expect(e.column).toBe(22);
    expect(e.reason).toContain('expected a value');
  });

  it('unterminated string', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', `  where: "p.payee_name = 'abc"`));
    expect(e.line).toBe(13);
    expect(e.column).toBe(26);
    expect(e.reason).toBe('unterminated string literal');
  });

  it('unknown function with suggestion', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: p.amount >= $min_amount and yeer(p.pay_date) = 2025'));
    expect(e.reason).toBe('unknown function `yeer` — did you mean `year`?');
    expect([e.line, e.column]).toEqual([13, 38]);
  });

  it('type error: sum of text', () => {
    const text = BASE.replace('match:\n  from: treasury.payments as p\n  where: p.amount >= $min_amount\n', `aggregate:
  from: treasury.payments as p
  group_by: [agency_code]
  compute:
    total: sum(payee_name)
`);
    const e = fails(text);
    expect(e.reason).toBe('`sum` expects a number, got text');
    expect([e.line, e.column]).toEqual([15, 16]);
  });

  it('type error: comparing a date with a number', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: p.pay_date > 5'));
    expect(e.reason).toBe('cannot compare a date with an integer');
    expect([e.line, e.column]).toEqual([13, 23]);
  });

  it('enum values are checked', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', "  where: p.payee_type = 'indivdual'"));
    expect(e.reason).toContain("'indivdual' is not a value of this column (org, individual) — did you mean `individual`?");
  });

  it('aggregate outside compute', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: sum(p.amount) > 5'));
    expect(e.reason).toContain('aggregate `sum` is not allowed');
  });

  it('reads must list every table used', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: p.amount >= $min_amount and exists(i in treasury.budget_indicators where i.indicator_id = p.indicator_id)'));
    expect(e.reason).toBe('treasury.budget_indicators is used but not listed in `reads:`');
    expect([e.line, e.column]).toEqual([13, 50]);
  });

  it('reads must not list unused tables', () => {
    const e = fails(swap('reads: [treasury.payments]', 'reads: [treasury.payments, debt.bonds]'));
    expect(e.reason).toBe('`reads` lists debt.bonds but the rule does not use it');
    expect([e.line, e.column]).toEqual([10, 28]);
  });

  it('unknown table with suggestion', () => {
    const e = fails(swap('  from: treasury.payments as p', '  from: treasury.payment as p'));
    expect(e.reason).toBe('unknown table `treasury.payment` — did you mean `treasury.payments`?');
    expect(e.line).toBe(12);
  });

  it('suggestions come from engine/did-you-mean.ts: a table named without its feed prefix is found by its last part', () => {
    const e = fails(swap('reads: [treasury.payments]', 'reads: [payments]'));
    expect(e.reason).toBe('`reads`: unknown table `payments` — did you mean `treasury.payments`?');
    expect(e.suggestion).toBe('treasury.payments');
  });

  it('unknown parameter', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: p.amount >= $min_amout'));
    expect(e.reason).toContain('unknown parameter `$min_amout` — did you mean `min_amount`?');
  });

  it('unknown title placeholder points into the title', () => {
    const e = fails(swap('  zh: "大额：{payee_name} {amount}元"', '  zh: "大额：{payee} {amount}元"'));
    expect(e.reason).toContain('unknown column `payee`');
    expect(e.line).toBe(6);
    expect(e.column).toBe(12);
  });

  it('unknown envelope field', () => {
    const e = fails(swap('severity: low', 'severity: low\nseverty: high'));
    expect(e.reason).toContain('unknown field `severty` in a rule — did you mean `severity`?');
    expect([e.line, e.column]).toEqual([5, 1]);
  });

  it('YAML syntax errors have positions', () => {
    const e = fails(swap('  min_amount: { type: money, default: 100000 }', '  min_amount: { type: money, default: 100000'));
    expect(e.message).toMatch(/^rules\/x\.rule\.yaml:\d+:\d+: YAML: /);
  });

  it('block scalars map positions line by line', () => {
    const e = fails(swap('  where: p.amount >= $min_amount', '  where: |\n    p.amount >= $min_amount\n    and p.payee_nme is not null'));
    expect(e.reason).toContain('unknown column `payee_nme` in treasury.payments — did you mean `payee_name`?');
    expect([e.line, e.column]).toEqual([15, 11]);
  });

  it('a bad parameter default is reported at the parameter', () => {
    const e = fails(swap('default: 100000 }', 'default: 12.345 }'));
    expect(e.line).toBe(9);
    expect(e.reason).toContain('at most 2 decimals');
  });

  it('dates are real calendar dates, in literals and in date parameters (engine/dates.ts)', () => {
    const ok = parseRuleText(swap('  where: p.amount >= $min_amount', '  where: p.pay_date >= 2024-02-29'), 'rules/x.rule.yaml');
    expect(ok.meta.id).toBe('test.large');
    for (const bad of ['2026-02-30', '2026-13-01']) {
      const e = fails(swap('  where: p.amount >= $min_amount', `  where: p.pay_date >= ${bad}`));
      expect(e.reason).toBe(`${bad} is not a date (write YYYY-MM-DD)`);
      expect([e.line, e.column]).toEqual([13, 24]);
    }
    const withDate = (d: string) =>
      swap('  min_amount: { type: money, default: 100000 }', `  min_amount: { type: money, default: 100000 }\n  since: { type: date, default: "${d}" }`)
        .replace('  where: p.amount >= $min_amount', '  where: p.amount >= $min_amount and p.pay_date >= $since');
    expect(parseRuleText(withDate('2026-02-28'), 'rules/x.rule.yaml').meta.params.find((p) => p.name === 'since')?.default).toBe('2026-02-28');
    const e = fails(withDate('2026-02-30'));
    expect(e.line).toBe(10);
    expect(e.reason).toContain('a date YYYY-MM-DD');
  });

  it('parameter overrides are type-checked and name the rule and parameter', () => {
    const def = parseRuleText(BASE, 'rules/x.rule.yaml');
    expect(() => compileRule(def, { params: { min_amount: 'lots' } })).toThrow(/test\.large: parameter `min_amount` \(money\)/);
    expect(() => compileRule(def, { params: { min_amont: '5' } })).toThrow(/test\.large: unknown parameter `min_amont` — did you mean `min_amount`\?/);
    expect(compileRule(def, { params: { min_amount: '5000.50' } }).params).toEqual({ p_min_amount: '5000.50' });
  });
});

describe('title placeholders', () => {
  it('accept runner format hints and standard columns', () => {
    const def = parseRuleText(BASE.replace('  zh: "大额：{payee_name} {amount}元"', '  zh: "大额：{payee_name} {amount:money}元 {entity_id} {period_start}"'), 'rules/x.rule.yaml');
    expect(def.meta.titleTemplate.zh).toContain('{amount:money}');
  });
  it('a missing rules folder is a clear error', async () => {
    const { loadRulesDir } = await import('../../../rules/language/index.ts');
    await expect(loadRulesDir('/nonexistent/rules')).rejects.toThrow(/cannot read the rules folder .*: no such folder/);
  });
});

describe('cluster, requires and field errors', () => {
  const CL = (over: Record<string, string> = {}) => {
    const lines: Record<string, string> = {
      where: '  where: p.amount > 0',
      requires: '',
      gap: '  gap: 30 days',
      compute: '    n: count()',
      ...over,
    };
    return `id: test.cl
version: 1
severity: low
title: { zh: "测试 {n}", en: "test {n}" }
reads: [treasury.payments]
cluster:
  from: treasury.payments as p
${lines.where}
${lines.requires}
  partition_by: [agency_code, amount]
  date: pay_date
${lines.gap}
  compute:
${lines.compute}
  having: n >= 2
entity: { type: payment, id: first.payment_id }
period: { start: cluster_start, end: cluster_end }
measure: { name: n, value: n }
`;
  };
  const compiles = (t: string) => compileRule(parseRuleText(t, 'rules/c.rule.yaml'));
  const err = (t: string): string => {
    try {
      compiles(t);
    } catch (e) {
      expect(e).toBeInstanceOf(RuleError);
      return (e as Error).message;
    }
    throw new Error('expected a RuleError');
  };

  it('compiles the base cluster rule', () => {
    expect(compiles(CL()).sql).toContain('fiscus_cl');
  });
  it('gap must be days', () => {
    expect(err(CL({ gap: '  gap: 30' }))).toMatch(/^rules\/c\.rule\.yaml:12:\d+: `gap` is a number of calendar days/);
  });
  it('computes must aggregate', () => {
    expect(err(CL({ compute: '    n: amount' }))).toMatch(/:14:\d+: `n` must aggregate the cluster's rows/);
  });
  it('requires names optional columns of the source table', () => {
    expect(err(CL({ requires: '  requires: [amount]' }))).toMatch(/:9:\d+: `requires`: treasury\.payments\.amount is never missing/);
    expect(err(CL({ requires: '  requires: [project_cod]' }))).toMatch(/unknown column `project_cod` in treasury\.payments — did you mean `project_code`\?/);
    expect(compiles(CL({ requires: '  requires: [project_code]' })).inputs![0]!.requires).toEqual(['project_code']);
  });
  it('field takes one text argument', () => {
    expect(err(CL({ where: '  where: field(1) is null' }))).toMatch(/`field` expects the name as text, got an integer/);
    expect(err(CL({ where: "  where: field('a', 'b') is null" }))).toMatch(/`field` takes one argument/);
  });
  it('first./last. are only for the cluster row', () => {
    expect(err(CL({ where: '  where: first.amount > 0' }))).toMatch(/unknown table alias `first`/);
  });
});
