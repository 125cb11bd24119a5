import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanRecordLines, splitRecord } from '../../ingest/csv-text.ts';
import { planFiles, tableFromName } from '../../ingest/discover.ts';
import { detectEncoding, prepareBytes } from '../../ingest/encoding.ts';
import { contentDispositionFilename } from '../../ingest/http.ts';
import { ingestPath } from '../../ingest/index.ts';
import { PAYMENT_HEADER, encodeGbk, freshStore, payment, tempDir, toCsv } from './helpers.ts';

const name = (p: string) => {
  const g = tableFromName(p);
  return 'table' in g ? g.table.name : g.error;
};

describe('which table a file is', () => {
  it('reads schema.table names, with anything after a dot', () => {
    expect(name('/x/treasury.payments.csv')).toBe('treasury.payments');
    expect(name('/x/treasury.payments.2025-03.csv')).toBe('treasury.payments');
    expect(name('/x/treasury.budget_indicators.parquet')).toBe('treasury.budget_indicators');
    expect(name('/x/ref.calendar.jsonl')).toBe('ref.calendar');
  });

  it('reads table names inside a schema folder', () => {
    expect(name('/x/treasury/payments_2025.csv')).toBe('treasury.payments');
    expect(name('/x/treasury/budget_indicators-q1.csv')).toBe('treasury.budget_indicators');
    expect(name('/x/assets/soe_financials.ndjson')).toBe('assets.soe_financials');
  });

  it('refuses to guess otherwise, naming the known tables and a likely one', () => {
    expect(name('/x/payments_2025.csv')).toMatch(/Did you mean treasury\.payments\?.*Known tables: ref\.regions/);
    expect(name('/x/export.csv')).toMatch(/cannot tell the table of \/x\/export\.csv.*Known tables:/);
    expect(name('/x/treasury/paymentsfoo.csv')).toMatch(/cannot tell/);
  });

  it('orders a folder: reference tables first, indicators before payments, then by path', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'treasury'));
    mkdirSync(join(dir, '.hidden'));
    for (const f of ['treasury/payments_2.csv', 'treasury/payments_1.csv', 'treasury/budget_indicators.csv', 'ref.agencies.csv', 'ref.regions.jsonl', 'notes.md', '.hidden/ref.regions.csv', 'unknown.csv']) {
      writeFileSync(join(dir, f), 'x\n');
    }
    const plan = await planFiles([dir]);
    expect(plan.map((p) => p.path.slice(dir.length + 1))).toEqual([
      'ref.regions.jsonl',
      'ref.agencies.csv',
      'treasury/budget_indicators.csv',
      'treasury/payments_1.csv',
      'treasury/payments_2.csv',
      'unknown.csv',
    ]);
    expect('error' in plan.at(-1)!.guess).toBe(true);
  });

  it('takes the file name from Content-Disposition', () => {
    expect(contentDispositionFilename('attachment; filename="treasury.payments.csv"')).toBe('treasury.payments.csv');
    expect(contentDispositionFilename("attachment; filename*=UTF-8''%E6%94%AF%E4%BB%98.csv")).toBe('支付.csv');
    expect(contentDispositionFilename('attachment; filename=debt.bonds.csv; size=10')).toBe('debt.bonds.csv');
    expect(contentDispositionFilename(null)).toBeUndefined();
  });
});

describe('CSV text', () => {
  it('splits quoted fields', () => {
    expect(splitRecord('a,"b,c","d ""e""",', ',')).toEqual(['a', 'b,c', 'd "e"', '']);
  });

  it('finds the physical line of every record: quoted newlines, blank lines, CRLF, skipped title lines', async () => {
    const dir = tempDir();
    const file = join(dir, 'x.csv');
    writeFileSync(file, 'title\r\nh1,h2\r\n1,a\r\n2,"b\r\nc"\r\n\r\n3,d\r\n4,"e"');
    const rec = await scanRecordLines(file, 1);
    expect(rec.headerLine).toBe(2);
    expect([...rec.lines]).toEqual([3, 4, 6, 7, 8]);
    expect([...rec.blank]).toEqual([0, 0, 1, 0, 0]);
  });
});

describe('encoding detection', () => {
  it('takes a head cut inside a UTF-8 character as UTF-8 only while more of the file follows', () => {
    const text = Buffer.from('payee_name\n济宁市某某有限公司\n', 'utf8');
    const cut = text.subarray(0, text.indexOf(Buffer.from('宁', 'utf8')) + 2); // two of 宁's three bytes
    expect(detectEncoding(cut, false)).toBe('utf-8');
    expect(detectEncoding(cut, true)).not.toBe('utf-8');
    expect(detectEncoding(text, true)).toBe('utf-8');
    // A lead byte followed by ASCII, at the end or inside, is no UTF-8 however the file goes on.
    expect(detectEncoding(Buffer.concat([text, Buffer.from([0xe5, 0x41])]), false)).not.toBe('utf-8');
    expect(detectEncoding(Buffer.concat([Buffer.from([0xe5, 0x41]), text]), false)).not.toBe('utf-8');
    // A view into a larger buffer is read from its own offset.
    const pool = Buffer.concat([Buffer.from([0xff, 0xfe, 0xe5]), text]);
    expect(detectEncoding(new Uint8Array(pool.buffer, pool.byteOffset + 3, text.length), true)).toBe('utf-8');
  });

  it('falls back to GB18030 when GBK bytes only appear after the first megabyte', async () => {
    const rows = Array.from({ length: 9000 }, (_, i) => payment(`P${i}`, { payee_name: 'ACME Ltd', purpose: 'office' }));
    rows.push(payment('P-last', { payee_name: '济宁市某某有限公司', purpose: '办公用品' }));
    const text = toCsv(PAYMENT_HEADER, rows);
    expect(text.length).toBeGreaterThan(1 << 20);
    const dir = tempDir();
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, encodeGbk(text));
    const prepared = await prepareBytes(file, { text: true, utf8Path: join(dir, 'u.csv') });
    expect(prepared.encoding).toBe('gb18030');
    const { store } = await freshStore();
    try {
      const [r] = await ingestPath(store, file);
      expect(r).toMatchObject({ status: 'committed', encoding: 'gb18030', accepted: rows.length });
      expect(await store.one("SELECT payee_name FROM treasury.payments WHERE payment_id = 'P-last'")).toEqual({ payee_name: '济宁市某某有限公司' });
    } finally {
      await store.close();
    }
  });

  it('reads tab-separated files and quoted headers', async () => {
    const { store, dir } = await freshStore();
    try {
      const t = PAYMENT_HEADER.map((h) => `"${h}"`).join('\t');
      const row = PAYMENT_HEADER.map((h) => payment('T1')[h]).join('\t');
      writeFileSync(join(dir, 'treasury.payments.tsv'), `${t}\n${row}\n`);
      const [r] = await ingestPath(store, join(dir, 'treasury.payments.tsv'));
      expect(r).toMatchObject({ status: 'committed', inserted: 1 });
    } finally {
      await store.close();
    }
  });
});
