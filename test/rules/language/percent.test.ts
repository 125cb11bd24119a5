/**
 * The dialects' percent() (the rule language's pct()): a × 100 / b truncated toward zero at 10
 * decimals, NULL when b is 0, on the test engine's real database. DuckDB scales integers and
 * money to their own decimals rather than to 8 (a faster cast, the same quotient); each case is
 * checked against the quotient worked out exactly here with BigInt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { dialectOf } from '../../../rules/language/dialects/index.ts';
import { tempStore } from '../run/helpers.ts';

/** A decimal text as an integer of `scale` decimals (the text has at most that many). */
function scaledInt(text: string, scale: number): bigint {
  const neg = text.startsWith('-');
  const [i, f = ''] = text.replace('-', '').split('.');
  const v = BigInt(i! + f.padEnd(scale, '0'));
  return neg ? -v : v;
}

/** a × 100 / b truncated at 10 decimals, as DuckDB and PostgreSQL print a DECIMAL(38,10); null when b is 0. */
function expected(a: string, b: string): string | null {
  const A = scaledInt(a, 8);
  const B = scaledInt(b, 8);
  if (B === 0n) return null;
  const q = (A * 10n ** 12n) / B; // BigInt division truncates toward zero
  const neg = q < 0n;
  const digits = (neg ? -q : q).toString().padStart(11, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -10)}.${digits.slice(-10)}`;
}

const CASES: { what: string; a: string; b: string; types: [string, string]; scales: [number, number] }[] = [
  { what: 'money of money', a: '1234.56', b: '789.01', types: ['DECIMAL(18,2)', 'DECIMAL(18,2)'], scales: [2, 2] },
  { what: 'a negative numerator', a: '-1234.56', b: '789.01', types: ['DECIMAL(18,2)', 'DECIMAL(18,2)'], scales: [2, 2] },
  { what: 'a negative fen divisor', a: '1234.56', b: '-0.01', types: ['DECIMAL(18,2)', 'DECIMAL(18,2)'], scales: [2, 2] },
  { what: 'sums near the largest money', a: '9999999999999999.99', b: '3.00', types: ['DECIMAL(38,2)', 'DECIMAL(38,2)'], scales: [2, 2] },
  { what: 'zero of money', a: '0.00', b: '5.00', types: ['DECIMAL(18,2)', 'DECIMAL(18,2)'], scales: [2, 2] },
  { what: 'money of zero', a: '5.00', b: '0.00', types: ['DECIMAL(18,2)', 'DECIMAL(18,2)'], scales: [2, 2] },
  { what: 'days of a year', a: '59', b: '365', types: ['INTEGER', 'INTEGER'], scales: [0, 0] },
  { what: 'negative integers', a: '-7', b: '3', types: ['BIGINT', 'BIGINT'], scales: [0, 0] },
  { what: 'an integer of zero', a: '7', b: '0', types: ['INTEGER', 'INTEGER'], scales: [0, 0] },
  { what: 'money of an integer', a: '100.50', b: '3', types: ['DECIMAL(18,2)', 'INTEGER'], scales: [2, 0] },
  { what: 'an integer of money', a: '3', b: '0.07', types: ['INTEGER', 'DECIMAL(18,2)'], scales: [0, 2] },
  { what: 'a number of money', a: '0.12345678', b: '1.00', types: ['DOUBLE', 'DECIMAL(18,2)'], scales: [8, 2] },
];

describe('percent()', () => {
  let store: Store;
  beforeAll(async () => {
    store = await tempStore('fiscus-percent-');
  });
  afterAll(async () => {
    await store.close();
  });

  it('is a × 100 / b truncated at 10 decimals for integers, money and numbers, NULL for a zero divisor', async () => {
    const d = dialectOf(store.engine);
    const sqlType = (t: string) => (t === 'DOUBLE' ? d.typeName('number') : t);
    for (const c of CASES) {
      const a = `CAST(${d.stringLiteral(c.a)} AS ${sqlType(c.types[0])})`;
      const b = `CAST(${d.stringLiteral(c.b)} AS ${sqlType(c.types[1])})`;
      const row = await store.one<{ p: string | null }>(`SELECT CAST(${d.percent(a, b, c.scales)} AS VARCHAR) AS p`);
      expect(row?.p ?? null, c.what).toBe(expected(c.a, c.b));
    }
  });
});
