/**
 * Issue 11: real exports in with a mapping profile and no script. Each need
 * gets a small file written here (or a committed fixture) and a real load
 * into a real DuckDB file; figures are checked to the fen.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { UsageError } from '../../engine/errors.ts';
import { ingestPath, parseMappingProfile } from '../../ingest/index.ts';
import { PAYMENT_HEADER, freshStore, freshStoreForEachTest, payment, toCsv } from './helpers.ts';

type Q = { line: number; column_name: string | null; raw_value: string | null; reason: string };
const quarantine = (store: Store, b: string) =>
  store.all<Q>('SELECT CAST(line AS INTEGER) AS line, column_name, raw_value, reason FROM fiscus.quarantine WHERE batch_id = $b ORDER BY line', { b });
const profile = (yaml: string, name = 'p.yaml') => parseMappingProfile(yaml, name);

/** A payments export the way a UK council writes it (needs most of the profile). */
const COUNCIL_PROFILE = `
table: treasury.payments
columns:
  Date: pay_date
  Reference: payment_id
  Supplier: [payee_name, payee_account]
  Amount: amount
  Department: agency_code
  Expense Type: purpose
constants:
  region_code: "370882"
  func_code: "2010101"
  econ_code: "30299"
  fund_source: general
  payee_type: org
  pay_method: direct
  direct_fund: "false"
fiscal_year: { from: pay_date, start_month: 4 }
date_format: ["%d-%b-%y", "%d/%m/%Y", excel]
`;

describe('mapping profiles for real exports', () => {
  let store: Store;
  let dir: string;
  freshStoreForEachTest((s) => ({ store, dir } = s));

  it('converts any power-of-ten unit exactly, including a 万元 value of 1万亿元 (past DECIMAL(18,6) × 10000)', async () => {
    const head = 'region_code,fiscal_year,debt_limit,debt_balance\n';
    const file = join(dir, 'debt.positions.csv');
    writeFileSync(file, `${head}110000,2024,100000000,99999999.999999\n120000,2024,0.000001,1\n`);
    const [r] = await ingestPath(store, file, { mapping: profile('unit: 万元\n') });
    expect(r).toMatchObject({ status: 'committed', accepted: 2, rejected: 0 });
    expect(await store.all('SELECT CAST(debt_limit AS VARCHAR) AS l, CAST(debt_balance AS VARCHAR) AS b FROM debt.positions ORDER BY region_code')).toEqual([
      { l: '1000000000000.00', b: '999999999999.99' },
      { l: '0.01', b: '10000.00' },
    ]);
    expect(r.control_sums.debt_limit).toBe('1000000000000.01');

    for (const [unit, value, yuan] of [['亿元', '1.23456789', '123456789.00'], ['1e8', '10000', '1000000000000.00'], ['千元', '12.345', '12345.00'], ['100000000', '0.0000000001', '0.01']] as const) {
      const { store: s } = await freshStore();
      try {
        writeFileSync(file, `${head}110000,2024,${value},0\n`);
        const [x] = await ingestPath(s, file, { mapping: profile(`unit: { debt_limit: "${unit}" }\n`) });
        expect(x.status, `${unit}: ${x.message}`).toBe('committed');
        expect(await s.one('SELECT CAST(debt_limit AS VARCHAR) AS l FROM debt.positions')).toEqual({ l: yuan });
      } finally {
        await s.close();
      }
    }
    // Beyond DECIMAL(18,2) (10^16 元) a value is rejected with a reason; the file is not failed.
    writeFileSync(file, `${head}110000,2024,1000000000000,0\n${Array.from({ length: 30 }, (_, i) => `${130000 + i},2024,1,1`).join('\n')}\n`);
    const { store: s2 } = await freshStore();
    try {
      const [x] = await ingestPath(s2, file, { mapping: profile('unit: 万元\n') });
      expect(x).toMatchObject({ status: 'committed', rejected: 1, accepted: 30 });
      const [q] = await quarantine(s2, x.batch_id);
      expect(q).toMatchObject({ line: 2, column_name: 'debt_limit', raw_value: '1000000000000' });
      expect(q.reason).toMatch(/too large/);
    } finally {
      await s2.close();
    }
    expect(() => profile('unit: 半元\n', 'units.yaml')).toThrow(/units\.yaml:1:7: unit "半元" is not a power of ten/);
  });

  it('reads lines that end in a bare CR, and skips comma-only and totals rows, counted and not rejected', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => payment(`CR${i}`));
    const lines = toCsv(PAYMENT_HEADER, rows).trimEnd().split('\n');
    const commas = ','.repeat(PAYMENT_HEADER.length - 1);
    lines.splice(5, 0, commas, commas);
    lines.push(commas, `合计,,,,,,,,,,,,20000.00,,,,`);
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, `${lines.join('\r')}\r`);
    const [r] = await ingestPath(store, file);
    expect(r.message).not.toMatch(/Found headers/);
    expect(r).toMatchObject({ status: 'committed', accepted: 20, rejected: 0, skipped: 4, rows_read: 20 });
    expect(r.message).toMatch(/bare CR/);
    expect(r.message).toMatch(/4 blank or totals rows skipped/);
    expect(await store.one('SELECT count(*)::INT AS n FROM fiscus.quarantine')).toEqual({ n: 0 });

    // A bad row among them still gets its physical line.
    lines[3] = lines[3].replace('1000.00', 'abc');
    writeFileSync(file, `${lines.join('\r')}\r`);
    const { store: s2 } = await freshStore();
    try {
      const [x] = await ingestPath(s2, file, { maxReject: 1 });
      expect(x).toMatchObject({ status: 'committed', rejected: 1, skipped: 4 });
      expect((await quarantine(s2, x.batch_id))[0]).toMatchObject({ line: 4, column_name: 'amount', raw_value: 'abc' });
    } finally {
      await s2.close();
    }
  });

  it('decodes CP850 (where £ is byte 0x9C, œ in Windows-1252) when the profile says so, and detects Windows-1252 itself', async () => {
    const text = 'Date,Reference,Supplier,Amount,Department,Expense Type\n' +
      '05-Apr-17,R1,Café Crème Ltd,£129.61,001001,Catering\n' +
      '06/04/2017,R2,Smith & Söhne,"£1,250.00",001001,Repairs\n' +
      '07/04/2017,R3,Müller GmbH,129.61-,001002,Refund\n' +
      '42833,R4,Bäckerei,(£5.00),001002,Refund\n';
    const cp850 = join(dir, 'cp850.csv');
    writeFileSync(cp850, iconv.encode(text, 'cp850'));
    expect(iconv.encode('£', 'cp850')[0]).toBe(0x9c);
    const [r] = await ingestPath(store, cp850, { mapping: profile(`${COUNCIL_PROFILE}encoding: cp850\n`) });
    expect(r, r.message).toMatchObject({ status: 'committed', encoding: 'cp850', accepted: 4, rejected: 0 });
    const got = await store.all(
      `SELECT payment_id, payee_name, payee_account, CAST(amount AS VARCHAR) AS amount, CAST(pay_date AS VARCHAR) AS d, fiscal_year
       FROM treasury.payments ORDER BY payment_id`,
    );
    expect(got).toEqual([
      { payment_id: 'R1', payee_name: 'Café Crème Ltd', payee_account: 'Café Crème Ltd', amount: '129.61', d: '2017-04-05', fiscal_year: 2017 },
      { payment_id: 'R2', payee_name: 'Smith & Söhne', payee_account: 'Smith & Söhne', amount: '1250.00', d: '2017-04-06', fiscal_year: 2017 },
      { payment_id: 'R3', payee_name: 'Müller GmbH', payee_account: 'Müller GmbH', amount: '-129.61', d: '2017-04-07', fiscal_year: 2017 },
      { payment_id: 'R4', payee_name: 'Bäckerei', payee_account: 'Bäckerei', amount: '-5.00', d: '2017-04-08', fiscal_year: 2017 },
    ]);

    const w1252 = join(dir, 'w1252.csv');
    writeFileSync(w1252, iconv.encode(text.replace(/,R(\d)/g, ',W$1'), 'win1252'));
    const [w] = await ingestPath(store, w1252, { mapping: profile(COUNCIL_PROFILE) });
    expect(w, w.message).toMatchObject({ status: 'committed', encoding: 'windows-1252', accepted: 4 });
    expect(await store.one("SELECT payee_name FROM treasury.payments WHERE payment_id = 'W1'")).toEqual({ payee_name: 'Café Crème Ltd' });

    // Told the wrong encoding, the message says how to name the right one.
    const [bad] = await ingestPath(store, cp850, { mapping: profile(`${COUNCIL_PROFILE}encoding: gb18030\n`) });
    expect(bad.status).toBe('failed');
    expect(bad.message).toMatch(/is not valid GB18030 text \(nor UTF-8\): name its encoding with `encoding:` in the mapping profile/);
    // A wrong encoding that decodes anyway garbles the headers: the refusal says to check it.
    const [garbled] = await ingestPath(store, cp850, { mapping: profile(`${COUNCIL_PROFILE}encoding: utf-16be\n`) });
    expect(garbled.message).toMatch(/read as utf-16be: if the headers above look garbled/);
    expect(bad.message).not.toMatch(/set `encoding` in a mapping profile\./);
    expect(() => profile('encoding: cp8500\n', 'enc.yaml')).toThrow(/enc\.yaml:1:11: encoding "cp8500" is not one fiscus can decode — did you mean `cp850`\?/);
  });

  it('reads UTF-16LE without a profile', async () => {
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(toCsv(PAYMENT_HEADER, [payment('U1', { payee_name: '张伟' })]), 'utf16le')]));
    const [r] = await ingestPath(store, file);
    expect(r).toMatchObject({ status: 'committed', encoding: 'utf-16le', accepted: 1 });
    expect(await store.one('SELECT payee_name FROM treasury.payments')).toEqual({ payee_name: '张伟' });
  });

  it('finds the header on the last row, by name, or by row number; unnamed filler columns are ignored', async () => {
    const body = ['R1,05/04/2017,ACME Ltd,10.00,001001,Stationery,,', 'R2,06/04/2017,ACME Ltd,20.00,001001,Stationery,,'];
    const header = 'Reference,Date,Supplier,Amount,Department,Expense Type,,';
    const file = join(dir, 'last.csv');
    writeFileSync(file, `${body.join('\n')}\n${header}\n`);
    const [r] = await ingestPath(store, file, { mapping: profile(`${COUNCIL_PROFILE}header: { row: last }\n`) });
    expect(r, r.message).toMatchObject({ status: 'committed', accepted: 2, rejected: 0 });
    expect(r.message).toMatch(/header on the last row, row 3/);
    expect(r.message).toMatch(/2 unnamed empty columns ignored/);
    expect(await store.all('SELECT payment_id, CAST(amount AS VARCHAR) AS a, extra FROM treasury.payments ORDER BY 1')).toEqual([
      { payment_id: 'R1', a: '10.00', extra: null },
      { payment_id: 'R2', a: '20.00', extra: null },
    ]);

    const late = join(dir, 'late.csv');
    writeFileSync(late, `Payments over £500,,,,,,,\nApril 2017,,,,,,,\n${header}\n${body.map((b) => b.replace('R', 'L')).join('\n')}\n`);
    for (const h of ['header: { contains: [Reference, Amount] }', 'header: 3']) {
      const { store: s } = await freshStore();
      try {
        const [x] = await ingestPath(s, late, { mapping: profile(`${COUNCIL_PROFILE}${h}\n`) });
        expect(x, `${h}: ${x.message}`).toMatchObject({ status: 'committed', accepted: 2 });
        expect(x.message).toMatch(/header on row 3/);
      } finally {
        await s.close();
      }
    }
  });

  it('loads an Excel workbook (generated here with exceljs): sheet by name or index, dates, serials, numbers as Excel shows them', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('Notes').addRow(['nothing here']);
    const ws = wb.addWorksheet('Payments');
    ws.addRow(['Payments to suppliers, April 2017']);
    ws.addRow(['Reference', 'Date', 'Supplier', 'Amount', 'Department', 'Expense Type']);
    ws.addRow(['X1', new Date(Date.UTC(2017, 3, 5)), 'ACME Ltd', 0.1 + 0.2, '001001', 'Stationery']);
    ws.addRow(['X2', 42831, 'ACME Ltd', 1234.5, '001001', 'Stationery']);
    ws.addRow(['X3', '05-Apr-17', { richText: [{ text: 'Bäck' }, { text: 'erei' }] }, { formula: 'D4*2', result: 2469 }, '001002', 'Food']);
    ws.addRow([]);
    ws.addRow(['Total', null, null, 3703.8, null, null]);
    const file = join(dir, 'payments.xlsx');
    await wb.xlsx.writeFile(file);
    for (const sheet of ['Payments', '2']) {
      const { store: s } = await freshStore();
      try {
        const [r] = await ingestPath(s, file, { mapping: profile(`${COUNCIL_PROFILE}sheet: ${sheet}\nheader: 2\n`) });
        expect(r, r.message).toMatchObject({ status: 'committed', format: 'xlsx', accepted: 3, rejected: 0, skipped: 2 });
        expect(await s.all(`SELECT payment_id, payee_name, CAST(amount AS VARCHAR) AS a, CAST(pay_date AS VARCHAR) AS d FROM treasury.payments ORDER BY 1`)).toEqual([
          { payment_id: 'X1', payee_name: 'ACME Ltd', a: '0.30', d: '2017-04-05' },
          { payment_id: 'X2', payee_name: 'ACME Ltd', a: '1234.50', d: '2017-04-06' },
          { payment_id: 'X3', payee_name: 'Bäckerei', a: '2469.00', d: '2017-04-05' },
        ]);
      } finally {
        await s.close();
      }
    }
    const [none] = await ingestPath(store, file, { mapping: profile(`${COUNCIL_PROFILE}sheet: Paymnts\n`) });
    expect(none.status).toBe('failed');
    expect(none.message).toMatch(/no sheet "Paymnts"; the workbook has 1 "Notes", 2 "Payments"/);
  });

  it('loads a nested JSON document in 亿元: record path, sums of columns, lookups by name, padding, exact figures', async () => {
    const doc = {
      meta: { unit: '亿元', source: 'provincial debt panel' },
      data: {
        items: [
          { province: '北京', code: '11', year: 2020, limit_general: '3000.5', limit_special: '2000.25', balance: '4000.123456' },
          { province: '上海', code: '31', year: 2020, limit_general: 10000, limit_special: 0, balance: '9999.99999999' },
          { province: '合计', code: '', year: 2020, limit_general: 13000.5, limit_special: 2000.25, balance: '' },
        ],
      },
    };
    const file = join(dir, 'panel.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const yaml = `
table: debt.positions
records: $.data.items
unit: 亿元
columns: { province: region_code, year: fiscal_year, balance: debt_balance }
sum: { debt_limit: [limit_general, limit_special] }
lookups: { region_code: { 北京: "11", 上海: "31" } }
pad: { region_code: { width: 6, fill: "0", side: right } }
`;
    expect(() => profile(`${yaml}colums: {}\n`, 'panel.yaml')).toThrow(/panel\.yaml:9:1: unknown key `colums` — did you mean `columns`\?/);
    const p = profile(yaml, 'panel.yaml');
    expect(p.units['*']).toBe(8);
    const [r] = await ingestPath(store, file, { mapping: p });
    expect(r, r.message).toMatchObject({ status: 'committed', format: 'json', accepted: 2, rejected: 0, skipped: 1 });
    expect(await store.all('SELECT region_code, fiscal_year, CAST(debt_limit AS VARCHAR) AS l, CAST(debt_balance AS VARCHAR) AS b FROM debt.positions ORDER BY 1')).toEqual([
      { region_code: '110000', fiscal_year: 2020, l: '500075000000.00', b: '400012345600.00' },
      { region_code: '310000', fiscal_year: 2020, l: '1000000000000.00', b: '999999999999.00' },
    ]);
    expect(r.control_sums.debt_limit).toBe('1500075000000.00');

    const [wrong] = await ingestPath(store, file, { mapping: parseMappingProfile('table: debt.positions\nrecords: $.items\n', 'w.yaml') });
    expect(wrong.status).toBe('failed');
    expect(wrong.message).toMatch(/\$\.items is not in the document, not an array of records.*top-level keys: meta, data/);
  });

  it('rejects a region code that is not 6 digits unless the profile pads it, and warns about codes unknown to the reference tables', async () => {
    const regions = join(dir, 'ref.regions.csv');
    writeFileSync(regions, 'region_code,region_name,parent_code,level\n370800,济宁市,370000,city\n370882,兖州区,370800,county\n');
    const agencies = join(dir, 'ref.agencies.csv');
    writeFileSync(agencies, 'agency_code,agency_name,dept_code,region_code\n0101,教育局,0101,370882\n');
    for (const f of [regions, agencies]) expect((await ingestPath(store, f))[0].status).toBe('committed');
    const file = join(dir, 'treasury.payments.csv');
    const rows = [
      payment('G1', { region_code: '31' }),
      payment('G2', { region_code: '370999', agency_code: '0999' }),
      payment('G3', { region_code: '370999', agency_code: '0998' }),
      ...Array.from({ length: 40 }, (_, i) => payment(`OK${i}`)),
    ];
    writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
    const [r] = await ingestPath(store, file);
    expect(r).toMatchObject({ status: 'committed', rejected: 1, accepted: 42 });
    const [q] = await quarantine(store, r.batch_id);
    expect(q).toMatchObject({ line: 2, column_name: 'region_code', raw_value: '31' });
    expect(q.reason).toMatch(/not a 6-digit GB\/T 2260 region code/);
    expect(r.warnings).toEqual([
      expect.stringMatching(/^warning: 2 rows with 1 region_code value unknown to ref\.regions: 370999 — /),
      expect.stringMatching(/^warning: 2 rows with 2 agency_code values unknown to ref\.agencies: 0998, 0999 — /),
    ]);
    expect(r.message).toMatch(/unknown to ref\.agencies: 0998, 0999/);
    const b = await store.one<{ message: string }>('SELECT message FROM fiscus.batches WHERE batch_id = $b', { b: r.batch_id });
    expect(b?.message).toMatch(/unknown to ref\.regions: 370999/);

    const { store: s2 } = await freshStore();
    try {
      const [x] = await ingestPath(s2, file, { mapping: profile('pad: { region_code: { width: 6, side: right } }\n') });
      expect(x.rejected).toBe(0);
      expect(await s2.one("SELECT region_code FROM treasury.payments WHERE payment_id = 'G1'")).toEqual({ region_code: '310000' });
      expect(x.warnings?.[0]).toMatch(/ref\.regions is empty: load it first/);
    } finally {
      await s2.close();
    }
  });

  it('builds a stable synthetic key from chosen columns (identical lines keep their own keys), and derives with rule-language expressions', async () => {
    const text = 'Date,Ref,Supplier,Net,VAT,Department,Expense Type\n' +
      '05/04/2017,INV1,ACME Ltd,100.00,20.00,001001,Stationery\n' +
      '05/04/2017,INV1,ACME Ltd,100.00,20.00,001001,Stationery\n' +
      '05/04/2017,INV1,ACME Ltd,50.00,10.00,001001,Stationery\n' +
      '06/04/2017,INV2,Bäckerei,"1,000.00",,001002,Food\n';
    const file = join(dir, 'keyed.csv');
    writeFileSync(file, text);
    const yaml = COUNCIL_PROFILE.replace('  Reference: payment_id\n', '').replace('  Amount: amount\n', '') +
      'key: { payment_id: [Date, Ref, Supplier, Net] }\nderive: { amount: "Net + coalesce(VAT, 0)", purpose: "col(\'Expense Type\') || \' \' || Ref" }\n';
    const [r] = await ingestPath(store, file, { mapping: profile(yaml) });
    expect(r, r.message).toMatchObject({ status: 'committed', accepted: 4, rejected: 0 });
    const first = await store.all<{ payment_id: string; amount: string; purpose: string }>(
      'SELECT payment_id, CAST(amount AS VARCHAR) AS amount, purpose FROM treasury.payments ORDER BY purpose, amount, payment_id',
    );
    expect(first.map((x) => [x.amount, x.purpose])).toEqual([
      ['1000.00', 'Food INV2'],
      ['120.00', 'Stationery INV1'],
      ['120.00', 'Stationery INV1'],
      ['60.00', 'Stationery INV1'],
    ]);
    expect(new Set(first.map((x) => x.payment_id)).size).toBe(4);
    expect(first.map((x) => x.payment_id).filter((k) => k.endsWith('-2'))).toHaveLength(1);
    // The same file again: same keys, nothing changes.
    const { store: s2 } = await freshStore();
    try {
      await ingestPath(s2, file, { mapping: profile(yaml) });
      const again = await s2.all<{ payment_id: string }>('SELECT payment_id FROM treasury.payments ORDER BY 1');
      expect(again.map((x) => x.payment_id)).toEqual(first.map((x) => x.payment_id).sort());
    } finally {
      await s2.close();
    }
    expect(() => ingestPath(store, file, { mapping: profile(yaml.replace('Net + coalesce', 'Nett + coalesce')) }).then(([x]) => {
      throw new Error(x.message);
    })).rejects.toThrow(/derive "Nett \+ coalesce\(VAT, 0\)" \(at character 1\): `Nett` is not a header of the file — did you mean `Net`\?/);
  });

  it('falls back to another column when a value is empty', async () => {
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, [payment('F1', { payee_account: '' }), payment('F2', { payee_account: '6222' })]));
    const [r] = await ingestPath(store, file, { mapping: profile('fallback: { payee_account: [payee_name] }\n') });
    expect(r, r.message).toMatchObject({ status: 'committed', accepted: 2, rejected: 0 });
    expect(await store.all('SELECT payee_account FROM treasury.payments ORDER BY payment_id')).toEqual([{ payee_account: '济宁市某某有限公司' }, { payee_account: '6222' }]);
  });

  it('keeps profile text out of the SQL: quotes are data, file-reading functions are refused', async () => {
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, [payment('Q1'), payment('Q2', { purpose: "x'); DROP TABLE treasury.payments; --" })]));
    const evil = "'); DROP TABLE fiscus.batches; --";
    const yaml = `derive: { purpose: "purpose || '${evil.replaceAll("'", "''")}'" }\nlookups: { payee_name: { "${evil}": "z" } }\n`;
    const [r] = await ingestPath(store, file, { mapping: profile(yaml) });
    expect(r, r.message).toMatchObject({ status: 'committed', accepted: 2 });
    expect(await store.all('SELECT purpose FROM treasury.payments ORDER BY payment_id')).toEqual([
      { purpose: `办公用品${evil}` },
      { purpose: `x'); DROP TABLE treasury.payments; --${evil}` },
    ]);
    expect(await store.one('SELECT count(*)::INT AS n FROM fiscus.batches')).toEqual({ n: 1 });
    for (const e of ["read_text('/etc/passwd')", "getenv('HOME')", 'sum(amount)']) {
      const [x] = await ingestPath(store, file, { mapping: profile(`derive: { purpose: "${e}" }\n`) });
      expect(x.status).toBe('failed');
      expect(x.message).toMatch(/unknown function|aggregates belong to rules/);
    }
  });

  it('names the profile file, line and key of a mistake, with a did-you-mean', async () => {
    const yaml = 'table: treasury.payments\ncolumns:\n  金额: amout\n  日期: pay_date\nunit: { pay_date: 万元 }\n';
    const p = profile(yaml, 'typo.yaml');
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, 'payment_id\nP1\n');
    const [r] = await ingestPath(store, file, { mapping: p });
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/typo\.yaml:3:7: columns: "金额" maps to amout, which is not a column of treasury\.payments — did you mean `amount`\?/);
    expect(r.message).toMatch(/typo\.yaml:5:19: unit: pay_date is not a money column/);
    expect(() => profile('table: x\nskip_rows: many\n', 'n.yaml')).toThrow(UsageError);
    expect(() => profile('table: x\nskip_rows: many\n', 'n.yaml')).toThrow(/n\.yaml:2:12: skip_rows/);
    expect(() => profile('header: { rows: 2 }\n', 'h.yaml')).toThrow(/h\.yaml:1:11: unknown key `rows` in header — did you mean `row`\?/);
    expect(() => profile('date_format: "dd/mm/yyyy"\n', 'd.yaml')).toThrow(/d\.yaml:1:14: date_format "dd\/mm\/yyyy" has no strptime field/);
  });
});
