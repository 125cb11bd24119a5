import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { PAYMENT_HEADER, encodeGbk, freshStore, payment, sumYuan, tempDir, toCsv, type Row } from './helpers.ts';

const DUMP = `SELECT * EXCLUDE (_batch_id, _ingested_at) FROM treasury.payments ORDER BY payment_id`;

function twinRows(): Row[] {
  const names = ['济宁市兖州区教育局', '张伟', '山东鲁信科技股份有限公司', '兖州区第一人民医院'];
  return Array.from({ length: 40 }, (_, i) =>
    payment(`P${String(i).padStart(4, '0')}`, {
      agency_code: `0${100 + (i % 5)}`,
      payee_name: names[i % 4],
      payee_type: i % 4 === 1 ? 'individual' : 'org',
      amount: `${(i * 1234567) % 9999999}.${String(i % 100).padStart(2, '0')}`,
      pay_date: `2025-0${1 + (i % 9)}-1${i % 10}`,
      purpose: i % 7 === 0 ? '会议费,培训费' : `摘要第${i}笔`,
      direct_fund: i % 3 === 0 ? 'true' : 'false',
      project_code: i % 2 ? `XM${i}` : '',
      fund_source: ['general', 'gov_fund', 'soe_capital', 'social_insurance'][i % 4],
    }),
  );
}

describe('formats and encodings load identically', () => {
  let dir: string;
  let rows: Row[];
  let reference: unknown[];

  async function loadAlone(file: string, opts: Parameters<typeof ingestPath>[2] = {}) {
    const { store } = await freshStore();
    try {
      const [r] = await ingestPath(store, file, { table: 'treasury.payments', ...opts });
      return { r, dump: await store.all(DUMP) };
    } finally {
      await store.close();
    }
  }

  beforeAll(async () => {
    dir = tempDir();
    rows = twinRows();
    writeFileSync(join(dir, 'utf8.csv'), toCsv(PAYMENT_HEADER, rows));
    const { r, dump } = await loadAlone(join(dir, 'utf8.csv'));
    expect(r.status).toBe('committed');
    expect(r.control_sums.amount).toBe(sumYuan(rows.map((x) => x.amount)));
    reference = dump;
  });

  it('GB18030/GBK CSV is detected and transcoded', async () => {
    const file = join(dir, 'gbk.csv');
    writeFileSync(file, encodeGbk(toCsv(PAYMENT_HEADER, rows, '\r\n')));
    const { r, dump } = await loadAlone(file);
    expect(r).toMatchObject({ status: 'committed', encoding: 'gb18030', accepted: rows.length, rejected: 0 });
    expect(dump).toEqual(reference);
  });

  it('UTF-8 with a BOM', async () => {
    const file = join(dir, 'bom.csv');
    writeFileSync(file, `\uFEFF${toCsv(PAYMENT_HEADER, rows)}`);
    const { r, dump } = await loadAlone(file);
    expect(r).toMatchObject({ status: 'committed', encoding: 'utf-8-bom', accepted: rows.length });
    expect(dump).toEqual(reference);
  });

  it('JSON Lines (numbers, booleans and strings mixed)', async () => {
    const file = join(dir, 'twin.jsonl');
    const lines = rows.map((x, i) => {
      const o: Record<string, unknown> = { ...x };
      o.fiscal_year = 2025;
      o.direct_fund = x.direct_fund === 'true';
      if (i % 2) o.amount = Number(x.amount); // exact up to 15 significant digits
      if (x.project_code === '') delete o.project_code;
      return JSON.stringify(o);
    });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { r, dump } = await loadAlone(file);
    expect(r).toMatchObject({ status: 'committed', format: 'jsonl', accepted: rows.length, rejected: 0 });
    expect(dump).toEqual(reference);
  });

  it('Parquet written by DuckDB itself, with typed columns', async () => {
    const file = join(dir, 'twin.parquet');
    const { store } = await freshStore();
    try {
      await store.run(`COPY (SELECT * FROM read_csv('${join(dir, 'utf8.csv')}', header = true, columns = {
        'payment_id': 'VARCHAR', 'fiscal_year': 'INTEGER', 'region_code': 'VARCHAR', 'agency_code': 'VARCHAR',
        'indicator_id': 'VARCHAR', 'func_code': 'VARCHAR', 'econ_code': 'VARCHAR', 'fund_source': 'VARCHAR',
        'project_code': 'VARCHAR', 'payee_name': 'VARCHAR', 'payee_account': 'VARCHAR', 'payee_type': 'VARCHAR',
        'amount': 'DECIMAL(18,2)', 'pay_date': 'DATE', 'pay_method': 'VARCHAR', 'purpose': 'VARCHAR', 'direct_fund': 'BOOLEAN'}))
        TO '${file}' (FORMAT parquet)`);
    } finally {
      await store.close();
    }
    const { r, dump } = await loadAlone(file);
    expect(r).toMatchObject({ status: 'committed', format: 'parquet', encoding: null, accepted: rows.length });
    expect(dump).toEqual(reference);
  });

  it('a twin loaded on top of the original changes nothing', async () => {
    const { store } = await freshStore();
    try {
      await ingestPath(store, join(dir, 'utf8.csv'), { table: 'treasury.payments' });
      const [r] = await ingestPath(store, join(dir, 'gbk.csv'), { table: 'treasury.payments' });
      expect(r).toMatchObject({ status: 'committed', unchanged: rows.length, corrected: 0, inserted: 0 });
      expect(await store.one('SELECT count(*) AS n FROM fiscus.row_history')).toEqual({ n: '0' });
    } finally {
      await store.close();
    }
  });
});

describe('value forms', () => {
  let store: Store;
  let dir: string;
  const header = [...PAYMENT_HEADER, '备注', 'batch_no'];

  beforeAll(async () => {
    ({ store, dir } = await freshStore());
    const rows: Row[] = [
      payment('V01', { amount: '1,234.50', pay_date: '2025-03-01', direct_fund: '是', agency_code: '00123', 备注: '第一笔', batch_no: '007' }),
      payment('V02', { amount: '"1,234.50"', pay_date: '20250302', direct_fund: '否' }),
      payment('V03', { amount: '1234.5', pay_date: '2025/03/03', direct_fund: 'Y' }),
      payment('V04', { amount: '¥1,000,000', pay_date: '2025年3月4日', direct_fund: 'n' }),
      payment('V05', { amount: '-12.30', pay_date: '2025-3-5', direct_fund: '1', fund_source: '一般公共预算' }),
      payment('V06', { amount: '(12.30)', direct_fund: '0', fund_source: 'General', payee_type: '个人' }),
      payment('V07', { amount: ' 7 ', agency_code: '\t0202', payee_account: '  0012345  ', direct_fund: 'TRUE', pay_method: '授权支付' }),
    ];
    writeFileSync(join(dir, 'treasury.payments.forms.csv'), toCsv(header, rows));
  });
  afterAll(async () => {
    await store.close();
  });

  it('parses every accepted spelling into the canonical value', async () => {
    const [r] = await ingestPath(store, join(dir, 'treasury.payments.forms.csv'));
    expect(r).toMatchObject({ table: 'treasury.payments', status: 'committed', accepted: 7, rejected: 0 });
    const got = await store.all(
      `SELECT payment_id, CAST(amount AS VARCHAR) AS amount, CAST(pay_date AS VARCHAR) AS pay_date, direct_fund,
              agency_code, payee_account, fund_source, payee_type, pay_method, extra
       FROM treasury.payments ORDER BY payment_id`,
    );
    expect(got.map((g) => [g.payment_id, g.amount, g.pay_date, g.direct_fund])).toEqual([
      ['V01', '1234.50', '2025-03-01', true],
      ['V02', '1234.50', '2025-03-02', false],
      ['V03', '1234.50', '2025-03-03', true],
      ['V04', '1000000.00', '2025-03-04', false],
      ['V05', '-12.30', '2025-03-05', true],
      ['V06', '-12.30', '2025-03-03', false],
      ['V07', '7.00', '2025-03-03', true],
    ]);
    expect(got[0].agency_code).toBe('00123');
    expect(got[6].agency_code).toBe('0202');
    expect(got[6].payee_account).toBe('0012345');
    expect(got[4].fund_source).toBe('general');
    expect(got[5].fund_source).toBe('general');
    expect(got[5].payee_type).toBe('individual');
    expect(got[6].pay_method).toBe('authorized');
    // Unknown columns are kept, as raw strings, never dropped.
    expect(JSON.parse(got[0].extra as string)).toEqual({ 备注: '第一笔', batch_no: '007' });
    expect(r.control_sums.amount).toBe(sumYuan(['1234.50', '1234.50', '1234.50', '1000000', '-12.30', '-12.30', '7']));
  });
});
