/** `fiscus ingest --dry-run` writes nothing; `fiscus mapping suggest` drafts a profile that loads the file once its TODOs are filled. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { runCli } from '../helpers/cli.ts';
import { PAYMENT_HEADER, payment, tempDir, toCsv } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('fiscus ingest --dry-run', () => {
  it('shows encoding, layout, mapped rows and rejects, and never creates the database file', async () => {
    const dir = tempDir();
    const db = join(dir, 'never.duckdb');
    const file = join(dir, 'treasury.payments.csv');
    const rows = [payment('D1'), payment('D2', { amount: 'abc' }), payment('D3', { pay_date: '2025-03-03T10:00:00' }), ...Array.from({ length: 40 }, (_, i) => payment(`OK${i}`))];
    writeFileSync(file, `本月支付明细,,,\n${toCsv(PAYMENT_HEADER, rows)},,,,,,,,,,,,,,,,\n`);
    const r = await runCli(['--db', db, 'ingest', file, '--dry-run', '--table', 'treasury.payments']);
    expect(r.code, r.stderr).toBe(1); // the title line is not a header: every row is missing columns → rolled back
    expect(existsSync(db)).toBe(false);

    writeFileSync(join(dir, 'skip.yaml'), 'skip_rows: 1\n');
    const ok = await runCli(['--db', db, 'ingest', file, '--dry-run', '--mapping', join(dir, 'skip.yaml'), '--rows', '3']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(db)).toBe(false);
    expect(ok.stdout).toMatch(/dry run, nothing written/);
    expect(ok.stdout).toMatch(/format:\s+csv, encoding utf-8/);
    expect(ok.stdout).toMatch(/layout:\s+header on row 2 \(1 row above skipped\); 1 blank or totals row skipped/);
    expect(ok.stdout).toMatch(/rows:\s+43 read, 41 accepted, 2 rejected, 1 skipped/);
    expect(ok.stdout).toMatch(/first 3 rows:/);
    expect(ok.stdout).toMatch(/│ D1 /);
    expect(ok.stdout).toMatch(/amount: "abc" is not a number/);
    expect(ok.stdout).toMatch(/is a timestamp, not a date/);
    expect(ok.stderr).toMatch(/dry run: would commit/);

    const json = await runCli(['--db', db, 'ingest', file, '--dry-run', '--mapping', join(dir, 'skip.yaml'), '--format', 'json', '--rows', '2']);
    const [rep] = JSON.parse(json.stdout);
    expect(rep).toMatchObject({ dry_run: true, status: 'committed', accepted: 41, rejected: 2, skipped: 1 });
    expect(rep.batch_id).toBeUndefined();
    expect(rep.preview.rows.map((x: { payment_id: string }) => x.payment_id)).toEqual(['D1', 'OK0']);
    expect(rep.preview.rejects.map((x: { line: number; column: string }) => [x.line, x.column])).toEqual([[4, 'amount'], [5, 'pay_date']]);
    expect(existsSync(db)).toBe(false);
  });

  it('leaves an existing database byte-for-byte unchanged, and checks codes against its reference tables', async () => {
    const dir = tempDir();
    const db = join(dir, 'live.duckdb');
    expect((await runCli(['--db', db, 'ingest', join(ROOT, 'fixtures/sample')])).code).toBe(0);
    const before = { sha: sha(db), mtime: statSync(db).mtimeMs, size: statSync(db).size };
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, [payment('N1', { region_code: '370812', agency_code: 'B0201' }), payment('N2', { region_code: '370999', agency_code: 'ZZ01' })]));
    const r = await runCli(['--db', db, 'ingest', file, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/warning: 1 row with 1 region_code value unknown to ref\.regions: 370999/);
    expect(r.stdout).toMatch(/warning: 1 row with 1 agency_code value unknown to ref\.agencies: ZZ01/);
    expect(r.stdout).not.toMatch(/ref\.regions is empty/);
    expect({ sha: sha(db), mtime: statSync(db).mtimeMs, size: statSync(db).size }).toEqual(before);
    const store = await openStore(db, { readOnly: true });
    try {
      expect(await store.one("SELECT count(*)::INT AS n FROM treasury.payments WHERE payment_id IN ('N1', 'N2')")).toEqual({ n: 0 });
      expect(await store.one('SELECT count(*)::INT AS n FROM fiscus.batches WHERE source = $s', { s: file })).toEqual({ n: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('fiscus mapping suggest', () => {
  it('drafts a valid profile for a workbook; with its TODOs filled it loads the file', async () => {
    const dir = tempDir();
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Export');
    ws.addRow(['国库集中支付明细（单位：元）']);
    ws.addRow(['支付凭证号', '预算单位编码', '功能科目编码', '经济科目编码', '资金性质', '收款人全称', '收款人账号', '收款人类型', '支付金额', '支付日期', '支付方式', '用途', '直达资金']);
    ws.addRow(['S1', 'B0201', '2100101', '30201', '一般公共预算', '某公司', '001', '单位', 1234.5, new Date(Date.UTC(2025, 2, 3)), '直接支付', '办公', '否']);
    ws.addRow(['S2', 'B0201', '2100101', '30201', '一般公共预算', '张伟', '002', '个人', 99, '2025年3月4日', '授权支付', '报销', '是']);
    const file = join(dir, 'export.xlsx');
    await wb.xlsx.writeFile(file);
    const r = await runCli(['mapping', 'suggest', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^table: treasury\.payments$/m);
    expect(r.stdout).toMatch(/^header: 2/m);
    expect(r.stdout).toMatch(/region_code: "TODO"/);
    expect(r.stdout).toMatch(/fiscal_year: "TODO"/);
    const profile = join(dir, 'export.yaml');
    writeFileSync(profile, r.stdout.replace('region_code: "TODO"', 'region_code: "370812"').replace('fiscal_year: "TODO"', 'fiscal_year: "2025"'));
    const db = join(dir, 'x.duckdb');
    const load = await runCli(['--db', db, 'ingest', file, '--mapping', profile, '--format', 'json']);
    expect(load.code, load.stderr).toBe(0);
    expect(JSON.parse(load.stdout)[0]).toMatchObject({ status: 'committed', accepted: 2, control_sums: { amount: '1333.50' } });

    const out = await runCli(['mapping', 'suggest', file, '--out', profile]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/exists; not overwriting/);
    const none = await runCli(['mapping', 'suggest', join(dir, 'missing.csv')]);
    expect(none.code).toBe(2);
  });
});
