/**
 * `first_digit(x)` (and benford's digit counts) as each dialect writes it: a ladder of
 * comparisons with powers of ten, no text. Held to the digit of the number's decimal text
 * at every power-of-ten boundary a BIGINT has, for DECIMAL(18,2) money, integers and doubles,
 * on DuckDB and on PostgreSQL 15 when the run has one.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbDialect, postgresDialect } from '../../../rules/language/index.ts';
import { freshDatabase } from '../../helpers/postgres.ts';

/** 0.5, 1, 9.99, then 10^k − 1, 10^k and 2·10^k + 0.01 for every k a BIGINT holds. */
function boundaries(maxExp: number, cents: boolean): string[] {
  const out = cents ? ['0.00', '0.50', '0.99', '1.00', '9.99'] : ['0', '1', '9'];
  for (let k = 1; k <= maxExp; k++) {
    const p = 10n ** BigInt(k);
    out.push(`${p - 1n}`, `${p}`, `${2n * p + 7n}`, `${9n * p + (p - 1n)}`);
    if (cents) out.push(`${p - 1n}.99`, `${p}.01`);
  }
  return out;
}

/** The leading digit of the integer part of |x| as decimal text shows it (null below 1). */
function expected(x: string): number | null {
  const int = x.replace(/^-/, '').split('.')[0]!.replace(/^0+/, '');
  return int === '' ? null : Number(int[0]);
}

const MONEY = boundaries(15, true); // DECIMAL(18,2): up to 9999999999999999.99
const INTEGERS = boundaries(18, false).filter((x) => BigInt(x) <= 9223372036854775807n); // BIGINT: up to 9.2 * 10^18
const signed = (xs: string[]) => [...xs, ...xs.filter((x) => !/^0/.test(x)).map((x) => `-${x}`)];

/** `digits(values, type)`: the engine's first_digit of each value cast to the type, in order. */
async function expectLeadingDigits(
  digits: (values: string[], type: string) => Promise<(number | null)[]>,
  types: { money: string; integer: string; double: string },
): Promise<void> {
  expect(await digits(signed(MONEY), types.money)).toEqual(signed(MONEY).map(expected));
  expect(await digits(signed(INTEGERS), types.integer)).toEqual(signed(INTEGERS).map(expected));
  // A double near 10^15 is 1/8 apart: 999999999999999.99 is 10^15 there. Below 10^14 the boundaries stay apart.
  const doubles = MONEY.filter((x) => x.split('.')[0]!.length <= 14);
  expect(await digits(doubles, types.double)).toEqual(doubles.map(expected));
}

describe('first_digit on DuckDB', () => {
  let db: DuckDBInstance;
  beforeAll(async () => {
    db = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => db.closeSync());

  const digits = async (values: string[], type: string): Promise<(number | null)[]> => {
    const conn = await db.connect();
    try {
      const rows = (await conn.runAndReadAll(
        `SELECT ${duckdbDialect.firstDigit('x', type === 'BIGINT')} AS d FROM (SELECT CAST(v AS ${type}) AS x, i FROM unnest([${values.map((v) => `'${v}'`).join(', ')}]) WITH ORDINALITY AS t(v, i)) ORDER BY i`,
      )).getRowObjectsJson();
      return rows.map((r) => (r.d === null ? null : Number(r.d)));
    } finally {
      conn.closeSync();
    }
  };

  it('gives the leading digit of money, integers and doubles at every power of ten', async () => {
    await expectLeadingDigits(digits, { money: 'DECIMAL(18,2)', integer: 'BIGINT', double: 'DOUBLE' });
  });

  it('is an INTEGER, and NULL for NULL', async () => {
    const conn = await db.connect();
    const r = (await conn.runAndReadAll(`SELECT typeof(${duckdbDialect.firstDigit('CAST(12.5 AS DECIMAL(18,2))', false)}) AS t, ${duckdbDialect.firstDigit('CAST(NULL AS DECIMAL(18,2))', false)} AS n`)).getRowObjectsJson()[0]!;
    conn.closeSync();
    expect(r).toEqual({ t: 'INTEGER', n: null });
  });
});

const PG_URL = process.env.FISCUS_TEST_PG_URL;

describe.skipIf(!PG_URL)('first_digit on PostgreSQL 15', () => {
  let db: pg.Client;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: await freshDatabase('digits') });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
  });

  const digits = async (values: string[], type: string): Promise<(number | null)[]> => {
    const r = await db.query<{ d: number | null }>(
      `SELECT ${postgresDialect.firstDigit('x', type === 'bigint')} AS d FROM (SELECT CAST(v AS ${type}) AS x, i FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i)) s ORDER BY i`,
      [values],
    );
    return r.rows.map((x) => x.d);
  };

  it('gives the leading digit of money, integers and doubles at every power of ten', async () => {
    await expectLeadingDigits(digits, { money: 'numeric(18,2)', integer: 'bigint', double: 'double precision' });
  });

  it('is an integer', async () => {
    const r = await db.query(`SELECT pg_typeof(${postgresDialect.firstDigit('12.5::numeric(18,2)', false)})::text AS t`);
    expect(r.rows[0]).toEqual({ t: 'integer' });
  });
});
