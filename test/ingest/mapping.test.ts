import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { UsageError } from '../../engine/errors.ts';
import { ingestPath, loadMappingProfile, parseMappingProfile } from '../../ingest/index.ts';
import { runCli } from '../helpers/cli.ts';
import { encodeGbk, freshStore, sumYuan } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/mappings');

describe('mapping profiles', () => {
  let store: Store;
  let dir: string;
  let dbPath: string;

  beforeEach(async () => {
    ({ store, dir, dbPath } = await freshStore());
  });
  afterEach(async () => {
    await store.close();
  });

  it('loads the bureau export (GBK, Chinese headers, title lines, 万元, DD/MM/YYYY) through its profile', async () => {
    await store.close();
    const res = await runCli([
      '--db', dbPath, 'ingest', join(FIXTURES, 'bureau-export.csv'),
      '--mapping', join(FIXTURES, 'bureau-export.yaml'), '--format', 'json',
    ]);
    expect(res.stderr).not.toMatch(/failed|rolled back/);
    expect(res.code).toBe(0);
    const [r] = JSON.parse(res.stdout);
    // 万元 × 10000, exact: 0.5678 → 5678.00; 0.000001 → 0.01; 2.345678 → 23456.78
    const yuan = ['5678.00', '3500.00', '0.01', '23456.78', '-500.00'];
    expect(r).toMatchObject({
      table: 'treasury.payments',
      status: 'committed',
      encoding: 'gb18030',
      rows_read: 5,
      accepted: 5,
      rejected: 0,
      control_sums: { count: '5', amount: sumYuan(yuan) },
    });
    expect(r.mapping).toMatch(/bureau-export\.yaml \(sha256 [0-9a-f]{12}\)/);
    store = await openStore(dbPath);
    const rows = await store.all(
      `SELECT payment_id, region_code, agency_code, fund_source, CAST(amount AS VARCHAR) AS amount,
              CAST(pay_date AS VARCHAR) AS pay_date, pay_method, payee_type, direct_fund, extra
       FROM treasury.payments ORDER BY payment_id`,
    );
    expect(rows.map((x) => x.amount)).toEqual(yuan);
    expect(rows.map((x) => x.pay_date)).toEqual(['2025-03-05', '2025-03-06', '2025-02-28', '2025-03-31', '2025-04-01']);
    expect(rows.map((x) => x.fund_source)).toEqual(['general', 'general', 'general', 'gov_fund', 'general']);
    expect(rows.map((x) => x.pay_method)).toEqual(['direct', 'authorized', 'authorized', 'direct', 'direct']);
    expect(rows.map((x) => x.payee_type)).toEqual(['org', 'org', 'individual', 'org', 'org']);
    expect(rows.every((x) => x.region_code === '370812')).toBe(true);
    expect(rows[0].agency_code).toBe('B0201');
    expect(JSON.parse(rows[0].extra as string)).toEqual({ 预算单位名称: '兖州区卫生健康局', 经办人: '王芳' });
  });

  it('the README example fits the sample: its region and agency are in the sample reference tables', async () => {
    await ingestPath(store, join(FIXTURES, '../sample'));
    const [r] = await ingestPath(store, join(FIXTURES, 'bureau-export.csv'), { mapping: loadMappingProfile(join(FIXTURES, 'bureau-export.yaml')) });
    expect(r).toMatchObject({ status: 'committed', accepted: 5, warnings: [] });
    expect(r.message).not.toMatch(/unknown/);
  });

  it('takes 万元 from a header suffix such as 支付金额(万元) without a profile', async () => {
    const header = '支付凭证号,预算年度,区划代码,单位代码,功能分类科目,经济分类科目,资金性质,收款人名称,收款人账号,收款人类型,支付金额（万元）,支付日期,支付方式,摘要,是否直达资金';
    const body = [
      'A1,2025,370882,0101,2050101,30201,一般公共预算,某公司,001,单位,1.5,2025年3月1日,直接支付,办公,否',
      'A2,2025,370882,0101,2050101,30201,一般公共预算,某公司,001,单位,0.0000001,2025年3月2日,直接支付,办公,否',
      ...Array.from({ length: 30 }, (_, i) => `B${i},2025,370882,0101,2050101,30201,政府性基金,某公司,001,单位,2,2025-03-03,授权支付,办公,是`),
    ];
    const file = join(dir, 'treasury.payments.wan.csv');
    writeFileSync(file, encodeGbk(`${header}\n${body.join('\n')}\n`));
    const [r] = await ingestPath(store, file);
    expect(r).toMatchObject({ status: 'committed', encoding: 'gb18030', accepted: 31, rejected: 1 });
    expect(r.message).toMatch(/amount: 万元 from header/);
    expect(await store.one("SELECT CAST(amount AS VARCHAR) AS a FROM treasury.payments WHERE payment_id = 'A1'")).toEqual({ a: '15000.00' });
    const q = await store.one<{ reason: string }>('SELECT reason FROM fiscus.quarantine WHERE batch_id = $b', { b: r.batch_id });
    expect(q?.reason).toMatch(/^amount: 0\.0000001 has more than 6 decimal places \(in 万元\)/);
  });

  it('reads JSON profiles and decimal commas', async () => {
    const profilePath = join(dir, 'eu.json');
    writeFileSync(profilePath, JSON.stringify({ table: 'debt.positions', decimal: ',', thousands: '.', columns: { Region: 'region_code' } }));
    const file = join(dir, 'positions.csv');
    writeFileSync(
      file,
      'Region;fiscal_year;debt_limit;debt_balance;fiscal_capacity;interest_paid;general_expenditure;new_debt\n' +
        '370882;2025;"1.234.567,89";1000,5;2000;10;3000;0\n',
    );
    const [r] = await ingestPath(store, file, { mapping: loadMappingProfile(profilePath) });
    expect(r).toMatchObject({ table: 'debt.positions', status: 'committed', accepted: 1 });
    expect(await store.one('SELECT CAST(debt_limit AS VARCHAR) AS l, CAST(debt_balance AS VARCHAR) AS b FROM debt.positions')).toEqual({
      l: '1234567.89',
      b: '1000.50',
    });
  });

  it('explains a profile that does not fit the table, and a profile that is not valid', async () => {
    const profile = parseMappingProfile('columns:\n  金额: amout\nunit: { pay_date: 万元 }\n', 'typo.yaml');
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, 'payment_id\nP1\n');
    const [r] = await ingestPath(store, file, { mapping: profile });
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/"金额" maps to amout, which is not a column of treasury\.payments/);
    expect(r.message).toMatch(/unit: pay_date is not a money column/);
    expect(() => parseMappingProfile('columnz: {}\n', 'bad.yaml')).toThrow(UsageError);
    expect(() => parseMappingProfile("unit: 半元\n", "bad.yaml")).toThrow(/unit/);
  });

  it('keeps codes written without quotes in YAML as strings (failsafe schema)', () => {
    const p = parseMappingProfile('constants:\n  region_code: 0101\nskip_rows: 3\n', 'p.yaml');
    expect(p.constants.region_code).toBe('0101');
    expect(p.skipRows).toBe(3);
  });
});
