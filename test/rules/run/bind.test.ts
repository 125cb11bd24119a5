/**
 * rules/run/bind.ts: a rule parameter is checked and typed once, the same for DuckDB's binding,
 * DuckDB's inlined literal and PostgreSQL's text input: money as exact cents, a bad value an
 * error naming the parameter.
 */
import { describe, expect, it } from 'vitest';
import { BindError, centsText, ruleParamTyped, ruleParamValue } from '../../../rules/run/bind.ts';
import type { CompiledRule, RuleParamDef } from '../../../rules/types.ts';

function rule(params: Record<string, unknown>, defs: Pick<RuleParamDef, 'name' | 'type'>[]): Pick<CompiledRule, 'params' | 'meta'> {
  return { params, meta: { params: defs } } as unknown as Pick<CompiledRule, 'params' | 'meta'>;
}

describe('a rule parameter', () => {
  it('is typed by its definition: money exact to the cent, from text with separators or a number', () => {
    const r = rule({ p_min: '1,234.5', p_low: 0.1, p_days: 180, p_share: 50, p_tags: ['a', "b'c"], p_none: null },
      [{ name: 'min', type: 'money' }, { name: 'low', type: 'money' }, { name: 'days', type: 'days' }, { name: 'share', type: 'percent' }, { name: 'tags', type: 'list' }, { name: 'none', type: 'string' }]);
    expect(ruleParamTyped('p_min', r)).toEqual({ type: 'decimal', cents: 123450n });
    expect(ruleParamTyped('p_low', r)).toEqual({ type: 'decimal', cents: 10n });
    expect(ruleParamTyped('p_days', r)).toEqual({ type: 'integer', value: 180 });
    expect(ruleParamTyped('p_share', r)).toEqual({ type: 'double', value: 50 });
    expect(ruleParamTyped('p_tags', r)).toEqual({ type: 'list', value: ['a', "b'c"] });
    expect(ruleParamTyped('p_none', r)).toEqual({ type: 'null' });
    expect(centsText(123450n)).toBe('1234.50');
    expect(centsText(-5n)).toBe('-0.05');
  });

  it('with a bad value is an error naming it, whichever engine asks', () => {
    const r = rule({ p_min: '12.345', p_days: 1.5, p_at: '2025-13-01' }, [{ name: 'min', type: 'money' }, { name: 'days', type: 'days' }, { name: 'at', type: 'date' }]);
    expect(() => ruleParamTyped('p_min', r)).toThrow(BindError);
    expect(() => ruleParamTyped('p_min', r)).toThrow(/\$p_min: not a money amount: 12\.345/);
    expect(() => ruleParamTyped('p_days', r)).toThrow(/\$p_days: not an integer: 1\.5/);
    expect(() => ruleParamTyped('p_at', r)).toThrow(/\$p_at/);
  });

  it('the run\'s own values: $as_of checked, $scope a list or none, a delta list as JSON text', () => {
    const r = rule({}, []);
    expect(ruleParamValue('as_of', r, { asOf: '2025-12-31' })).toEqual({ type: 'date', iso: '2025-12-31' });
    expect(() => ruleParamValue('as_of', r, { asOf: '2025-12-32x' })).toThrow(BindError);
    expect(ruleParamValue('scope', r, { asOf: '2025-12-31' })).toEqual({ type: 'list', value: null });
    expect(ruleParamValue('delta_batches', r, { asOf: '2025-12-31', deltaBatches: ['B1', 'B2'] })).toEqual({ type: 'varchar', value: '["B1","B2"]' });
    expect(() => ruleParamValue('delta_batches', r, { asOf: '2025-12-31' })).toThrow(/no new batches were given/);
    // The key lists of earlier versions are no parameters any more: the SQL reads the keys from the batches.
    expect(() => ruleParamValue('delta_0', r, { asOf: '2025-12-31' })).toThrow(/neither \$as_of, \$scope nor a parameter/);
    expect(() => ruleParamValue('p_missing', r, { asOf: '2025-12-31' })).toThrow(/neither \$as_of, \$scope nor a parameter/);
  });
});
