/**
 * Every rule of the built-in pack parses, compiles and runs: against an empty
 * migrated database (all preconditions say why it is skipped) and with its
 * parameters bound, never inlined.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../engine/db.ts';
import { compileRule, loadBuiltinPack, type RuleDefinition } from '../../../rules/language/index.ts';
import { bindValues } from '../../../rules/run/bind.ts';
import { RESULT_COLUMNS } from '../../../rules/types.ts';

const CATALOGUE = [
  'treasury.execution_lag', 'treasury.over_budget', 'treasury.no_budget', 'treasury.year_end_rush',
  'treasury.three_public_rise', 'treasury.split_payment', 'treasury.duplicate_payment', 'treasury.individual_large',
  'treasury.nonworking_day', 'treasury.benford', 'treasury.amount_outlier', 'treasury.late_budget_approval',
  'debt.ratio', 'debt.over_limit', 'debt.interest_burden', 'debt.idle_proceeds', 'debt.spending_mismatch',
  'debt.service_overdue', 'transfer.late_issue', 'transfer.direct_fund_idle', 'asset.disposal_below_appraisal',
  'asset.no_approval', 'asset.idle', 'soe.leverage', 'soe.loss',
  // livelihood projects (issue 16, projects/README.md): beyond the DOMAIN.md catalogue
  'projects.spending_behind_progress', 'projects.milestone_unreported', 'projects.no_spending_midyear',
];

let store: Store;
let pack: RuleDefinition[];

beforeAll(async () => {
  store = await openStore(join(mkdtempSync(join(tmpdir(), 'fiscus-')), 'empty.duckdb'));
  pack = await loadBuiltinPack();
});
afterAll(async () => {
  await store.close();
});

describe('built-in pack', () => {
  it('has every rule of the DOMAIN.md catalogue (except the optional cash_card_items), each in its own file', () => {
    expect(pack.map((d) => d.meta.id).sort()).toEqual([...CATALOGUE].sort());
    for (const d of pack) {
      const [area, name] = d.meta.id.split('.');
      expect(d.file.replaceAll('\\', '/')).toMatch(new RegExp(`rules/pack/${area}/${name}\\.rule\\.yaml$`));
      expect(d.meta.source.builtin).toBe(true);
      expect(d.meta.title.zh).not.toMatch(/[{}]/);
      expect(d.meta.titleTemplate.zh).toMatch(/\{\w+\}/);
      expect(d.meta.titleTemplate.en).toMatch(/\{\w+\}/);
      // The console and reports name the measure in the reader's language.
      expect(d.meta.measureLabel?.zh, d.meta.id).toMatch(/\p{Script=Han}/u);
      expect(d.meta.measureLabel?.en, d.meta.id).toMatch(/^[A-Z]/);
    }
  });

  it('compiles every rule to SQL that runs on an empty database with the standard columns', async () => {
    for (const def of pack) {
      const c = compileRule(def);
      const reader = await store.withConnection((conn) => conn.runAndReadAll(c.sql, bindValues(c, '2025-12-31', null)));
      expect(reader.columnNames(), def.meta.id).toEqual([...RESULT_COLUMNS, ...(c.delta ? ['delta_key'] : [])]);
      expect(reader.currentRowCount, def.meta.id).toBe(0);
      if (c.delta) {
        // The delta variant runs too, after a batch, and returns the same columns.
        const d = await store.withConnection((conn) => conn.runAndReadAll(c.delta!.sql, bindValues(c, '2025-12-31', null, c.delta!.sql, ['B1'], ['2025-12-01', '2025-12-31'])));
        expect(d.columnNames(), `${def.meta.id} delta`).toEqual([...RESULT_COLUMNS, 'delta_key']);
      }
      // Every feed table read is empty, so at least one precondition fails and says which table.
      const reasons: string[] = [];
      for (const p of c.preconditions) {
        const r = await store.one<{ ok: boolean }>(p.sql, bindValues(c, '2025-12-31', null, p.sql) as never);
        expect(typeof r?.ok, def.meta.id).toBe('boolean');
        if (!r!.ok) reasons.push(p.reason);
      }
      expect(reasons.length, def.meta.id).toBeGreaterThan(0);
      expect(reasons.join('\n')).toMatch(/为空 \/ .* is empty/);
    }
  });

  it('binds parameters instead of inlining them', () => {
    for (const def of pack) {
      const c = compileRule(def);
      for (const p of def.meta.params) {
        expect(c.sql, `${def.meta.id} $p_${p.name}`).toContain(`$p_${p.name}`);
        expect(c.params[`p_${p.name}`]).toEqual(p.default);
      }
    }
    const split = compileRule(pack.find((d) => d.meta.id === 'treasury.split_payment')!, { params: { min_total: '123456.78' } });
    expect(split.params.p_min_total).toBe('123456.78');
    expect(split.sql).not.toContain('123456.78');
    expect(split.sql).not.toContain('200000');
  });

  it('declares a scope only where the primary table is partitioned by agency', () => {
    const scoped = pack.filter((d) => compileRule(d).scope).map((d) => d.meta.id);
    expect(scoped).toContain('treasury.split_payment');
    expect(scoped).not.toContain('treasury.amount_outlier'); // peer groups span agencies
    for (const d of pack) {
      const c = compileRule(d);
      if (c.scope) {
        expect(c.scope.column).toBe('agency_code');
        expect(c.sql).toContain('$scope');
      } else {
        expect(c.sql).not.toContain('$scope');
      }
    }
  });

  it('statistical rules report a skip reason naming the minimum', async () => {
    const benford = compileRule(pack.find((d) => d.meta.id === 'treasury.benford')!);
    expect(benford.preconditions.map((p) => p.reason)).toContain('没有支付笔数达到1000的单位年度 / no agency-year has ≥ 1000 positive payments');
    const outlier = compileRule(pack.find((d) => d.meta.id === 'treasury.amount_outlier')!, { params: { min_peers: 50 } });
    expect(outlier.preconditions.map((p) => p.reason)).toContain('没有经济分类的正数支付达到50笔 / no economic class has ≥ 50 positive payments');
  });

  it('overrides of severity and parameters are applied', () => {
    const ratio = pack.find((d) => d.meta.id === 'debt.ratio')!;
    const c = compileRule(ratio, { severity: 'high', params: { warn_pct: 90 } });
    expect(c.meta.severity).toBe('high');
    expect(c.params.p_warn_pct).toBe(90);
    expect(() => compileRule(ratio, { params: { warn_pct: 'ninety' } })).toThrow(/debt\.ratio: parameter `warn_pct` \(percent\): expected a number/);
  });
});
