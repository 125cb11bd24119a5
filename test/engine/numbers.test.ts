/**
 * The one number and money formatter (engine/numbers.ts): exact on decimal strings,
 * one rounding half away from zero, the same grouping in zh and en, and the same
 * text for a title, a report table and the CLI.
 */
import { describe, expect, it } from 'vitest';
import { count, decimal, fenToYuan, measure, money, pct, percentValue, toFen, wan, yi } from '../../engine/numbers.ts';
import { formatMoney, renderTemplate, fillParams } from '../../rules/run/template.ts';
import { toFen as trackerFen } from '../../tracker/money.ts';

describe('money', () => {
  it('groups thousands with two decimals, exactly, beyond what a double holds', () => {
    expect(money('1200000.00')).toBe('1,200,000.00');
    expect(money('860000')).toBe('860,000.00');
    expect(money('-1234.5')).toBe('-1,234.50');
    expect(money('0.00')).toBe('0.00');
    // 2^53 fen is 90,071,992,547,409.92 yuan: a float would print ...409.90 or ...410.00
    expect(money('9007199254740993.01')).toBe('9,007,199,254,740,993.01');
    expect(money(null)).toBe('—');
    expect(money('12,3a4')).toBe('—');
  });

  it('scales to 万元 and 亿元 rounding half away from zero, once', () => {
    expect(wan('153600000.00')).toBe('15,360.00');
    expect(wan('12345.00')).toBe('1.23');
    expect(wan('12350.00')).toBe('1.24');
    expect(wan('-12350.00')).toBe('-1.24');
    expect(wan('49.99')).toBe('0.00'); // no "-0.00" either way
    expect(wan('-49.99')).toBe('0.00');
    expect(yi('36000000000.00')).toBe('360.00');
    expect(wan(null)).toBe('0.00');
  });

  it('is the formatter rule titles use', () => {
    expect(formatMoney('1200000.00')).toBe(money('1200000.00'));
    expect(renderTemplate('成交{amount}元，原值{original_value}元', { amount: '860000.00', original_value: '1200000.00' })).toBe('成交860,000.00元，原值1,200,000.00元');
    // Codes keep their digits; a number of exactly two decimals (a DECIMAL(18,2)) is money.
    expect(renderTemplate('{econ_code} {n:count}笔 MAD {mad:4}', { econ_code: '30201', n: 1100, mad: '0.0154' })).toBe('30201 1,100笔 MAD 0.0154');
    expect(renderTemplate('{x}', { x: null })).toBe('—');
    expect(renderTemplate('{unknown}', {})).toBe('{unknown}');
  });

  it('fills parameters into descriptions (rules show)', () => {
    const text = fillParams('任意{window_days}日内、每笔低于{max_single}元，{categories}', [
      { name: 'window_days', type: 'days', value: 7 },
      { name: 'max_single', type: 'money', value: '200000' },
      { name: 'categories', type: 'list', value: ['building', 'land'] },
    ]);
    expect(text).toBe('任意7日内、每笔低于200,000.00元，building, land');
  });

  it('parses fen exactly; the tracker refuses a third decimal in an amount entered by hand', () => {
    expect(toFen('19000.005')).toBe(1900001n);
    expect(toFen('-0.005')).toBe(-1n);
    expect(fenToYuan(-150n)).toBe('-1.50');
    expect(trackerFen('19000.00')).toBe(1900000n);
    expect(() => trackerFen('19000.005')).toThrow(/not a money amount/);
    expect(() => trackerFen('1e5')).toThrow(/not a money amount/);
  });
});

describe('numbers, percent and measures', () => {
  it('rounds a decimal string once: 398.56874999 is 398.5687, 398.56875 is 398.5688', () => {
    expect(decimal('398.56874999', 4)).toBe('398.5687');
    expect(decimal('398.56875', 4)).toBe('398.5688');
    expect(decimal('-398.56875', 4)).toBe('-398.5688');
    expect(decimal(0.015449999, 4)).toBe('0.0154');
    expect(decimal(1e-7, 8)).toBe('0.00000010');
    expect(decimal('1234.5', 0)).toBe('1,235');
  });

  it('prints fractions as percent (the tracker rates) and percent values as they are (pct())', () => {
    expect(pct(0.5)).toBe('50.00%');
    expect(pct('0.12345')).toBe('12.35%');
    expect(pct(0.94531)).toBe('94.53%');
    expect(pct(null)).toBe('—');
    expect(pct(1, 1)).toBe('100.0%');
    expect(percentValue('76.2500000000')).toBe('76.25%');
  });

  it('groups counts', () => {
    expect(count(3934)).toBe('3,934');
    expect(count('1000000')).toBe('1,000,000');
    expect(count(null)).toBe('0');
  });

  it('prints a measure by its kind: money in the report unit, percent, ratio with 4 decimals, count', () => {
    expect(measure('153600000.00', 'money', { unit: 'wan' })).toBe('15,360.00');
    expect(measure('153600000.00', 'money', { unit: 'wan', lang: 'zh' })).toBe('15,360.00万元');
    expect(measure('120.0000', 'percent')).toBe('120.00%');
    expect(measure('0.0252', 'ratio')).toBe('0.0252');
    expect(measure('3', 'count')).toBe('3');
    expect(measure(null, 'money')).toBe('—');
  });
});
