/**
 * All diagnostics of a rule file at once: each with a code, a severity, file:line:col
 * and (where one is close) a did-you-mean — through the API and through `fiscus rules test`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleErrors, checkDefinition, loadBuiltinPack, parseRuleText } from '../../../rules/language/index.ts';
import { readDefinition } from '../../../rules/language/definition.ts';
import { YamlFile } from '../../../rules/language/yaml-doc.ts';
import { runCli } from '../../helpers/cli.ts';

/** Three mistakes: an unknown column and a misspelt enum value in one `where`, an aggregate in a row-level measure. */
const THREE = `id: local.three
version: 1
status: test
severity: low
title:
  zh: "大额：{payee_name}"
  en: "Large: {payee_name}"
params:
  min_amount: { type: money, default: 100000 }
reads: [treasury.payments]
match:
  from: treasury.payments as p
  where: p.amout >= $min_amount and p.payee_type = 'indivdual'
let:
  payee_name: p.payee_name
entity: { type: payment, id: p.payment_id, name: p.payee_name }
period: { start: p.pay_date, end: p.pay_date }
measure: { name: amount, value: sum(p.amount), threshold: $min_amount }
amount: p.amount
`;

describe('diagnostics', () => {
  it('reports every mistake of a file, in file order, with code, position and suggestion', () => {
    let err: unknown;
    try {
      parseRuleText(THREE, 'rules/three.rule.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleErrors);
    const ds = (err as RuleErrors).errors.map((e) => e.toJSON());
    expect(ds).toEqual([
      { code: 'unknown-column', severity: 'error', file: 'rules/three.rule.yaml', line: 13, column: 12, suggestion: 'amount', message: expect.stringContaining('unknown column `amout`') },
      { code: 'not-enum-value', severity: 'error', file: 'rules/three.rule.yaml', line: 13, column: 52, suggestion: 'individual', message: expect.stringContaining("'indivdual' is not a value") },
      { code: 'aggregate-misuse', severity: 'error', file: 'rules/three.rule.yaml', line: 18, column: 33, message: expect.stringContaining('aggregate `sum` is not allowed in `match`') },
    ]);
  });

  it('warns about a let name nothing uses, without failing the rule', () => {
    const text = THREE.replace("p.amout >= $min_amount and p.payee_type = 'indivdual'", 'p.amount >= $min_amount')
      .replace('value: sum(p.amount)', 'value: p.amount').replace('  payee_name: p.payee_name\n', '  payee_name: p.payee_name\n  spare: p.purpose\n');
    const def = parseRuleText(text, 'rules/w.rule.yaml');
    expect(def.warnings?.map((w) => w.toJSON())).toEqual([
      { code: 'unused-let', severity: 'warning', file: 'rules/w.rule.yaml', line: 16, column: 10, message: '`let` name `spare` is never used' },
    ]);
  });

  it('the built-in pack checks without errors on both dialects', async () => {
    for (const def of await loadBuiltinPack()) {
      for (const dialect of ['duckdb', 'postgres'] as const) {
        const r = checkDefinition(readDefinition(new YamlFile(def.file, def.yaml.text), true), dialect);
        expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), `${def.meta.id} ${dialect}`).toEqual([]);
        expect(r.plan?.kind).toBe(def.kind);
      }
    }
  });

  it('fiscus rules test on a rule file with three mistakes reports all three', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiscus-three-'));
    writeFileSync(join(dir, 'three.rule.yaml'), THREE);
    writeFileSync(join(dir, 'three.test.yaml'), 'rule: local.three\ncases:\n  - name: any\n    as_of: 2025-12-31\n    given: {}\n    expect: []\n');
    const r = await runCli(['rules', 'test', 'local.three', '--rules-dir', dir]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/three\.rule\.yaml:13:12: unknown column `amout` in treasury\.payments — did you mean `amount`\?/);
    expect(out).toMatch(/three\.rule\.yaml:13:52: 'indivdual' is not a value of this column \(org, individual\) — did you mean `individual`\?/);
    expect(out).toMatch(/three\.rule\.yaml:18:33: aggregate `sum` is not allowed in `match`/);

    // fiscus rules check: the same three, as data, for a chosen engine; the pack itself is clean on both.
    const check = await runCli(['rules', 'check', '--rules-dir', dir, '--no-builtin', '--dialect', 'postgres', '--format', 'json']);
    expect(check.code).toBe(1);
    expect((JSON.parse(check.stdout) as { code: string; line: number }[]).map((d) => [d.code, d.line])).toEqual([
      ['unknown-column', 13], ['not-enum-value', 13], ['aggregate-misuse', 18],
    ]);
    for (const dialect of ['duckdb', 'postgres']) {
      const pack = await runCli(['rules', 'check', '--dialect', dialect]);
      expect(pack.code, pack.stdout + pack.stderr).toBe(0);
      expect(pack.stdout).toMatch(new RegExp(`^0 error\\(s\\), \\d+ warning\\(s\\) \\(${dialect}\\)`, 'm'));
    }
  });
});
