/** Shared test helpers for ingest: temp databases, feed files, exact money sums. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { FEEDS, type ColumnDef, type TableDef } from '../../engine/feeds.ts';
import { csvEscape } from '../../engine/format.ts';
import { testDbLocation } from '../helpers/postgres.ts';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fiscus-ingest-'));
}

/** A fresh database file in its own temp dir (not named fiscus.duckdb: see the report about catalog names). */
export async function freshStore(dir = tempDir()): Promise<{ store: Store; dir: string; dbPath: string }> {
  // A DuckDB file in `dir`, or a fresh PostgreSQL database under FISCUS_TEST_ENGINE=postgres.
  const dbPath = testDbLocation(join(dir, 'test.duckdb'));
  return { store: await openStore(dbPath), dir, dbPath };
}

/**
 * Give each test of the enclosing describe a fresh store (`use` receives it, e.g.
 * `(s) => ({ store, dir } = s)`), closed after the test.
 */
export function freshStoreForEachTest(use: (s: { store: Store; dir: string; dbPath: string }) => void): void {
  let current: Store | undefined;
  beforeEach(async () => {
    const s = await freshStore();
    current = s.store;
    use(s);
  });
  afterEach(async () => {
    await current?.close();
  });
}

export type Row = Record<string, string>;

export function toCsv(header: readonly string[], rows: readonly Row[], eol = '\n'): string {
  const lines = [header.map(csvEscape).join(',')];
  for (const r of rows) lines.push(header.map((h) => csvEscape(r[h] ?? '')).join(','));
  return lines.join(eol) + eol;
}

export function writeCsv(path: string, header: readonly string[], rows: readonly Row[]): string {
  writeFileSync(path, toCsv(header, rows));
  return path;
}

/** Exact sum of decimal strings in fen (BigInt), as a `123.45` string. */
export function sumYuan(values: readonly string[]): string {
  let fen = 0n;
  for (const v of values) {
    const clean = v.replaceAll(',', '').trim();
    const m = /^([+-]?)(\d+)(?:\.(\d{1,2}))?$/.exec(clean);
    if (!m) throw new Error(`test helper: not a plain amount: ${v}`);
    const f = BigInt(m[2]) * 100n + BigInt((m[3] ?? '').padEnd(2, '0'));
    fen += m[1] === '-' ? -f : f;
  }
  const neg = fen < 0n;
  const a = neg ? -fen : fen;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

/** Deterministic pseudo-random generator for test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function sampleValue(t: TableDef, c: ColumnDef, i: number, rnd: () => number): string {
  const day = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
  if (c.nullable && i % 4 === 3) return '';
  switch (c.type) {
    case 'code':
      // Region codes are 6-digit GB/T 2260 codes; unique where they are (part of) the key.
      if (['region_code', 'parent_code', 'from_region', 'to_region'].includes(c.name)) {
        return String(t.key.includes(c.name) ? 110000 + i : 370800 + (i % 7));
      }
      // Leading zeros on purpose; key columns get the row number so keys are unique.
      return t.key.includes(c.name) || c.name.endsWith('_id') ? `0${c.name.slice(0, 3).toUpperCase()}${String(i).padStart(5, '0')}` : `0${100 + (i % 7)}`;
    case 'text':
      return `${c.label}${i}`;
    case 'money': {
      const fen = Math.floor(rnd() * 10_000_000_000);
      const neg = c.signed && i % 5 === 4;
      return `${neg ? '-' : ''}${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
    }
    case 'rate':
      return (1 + (i % 400) / 100).toFixed(2);
    case 'date':
      return t.key.includes(c.name) ? day(i) : day(i % 700);
    case 'period':
      return `2025-${String((i % 12) + 1).padStart(2, '0')}`;
    case 'year':
      return String(2024 + (i % 2));
    case 'bool':
      return i % 3 === 0 ? 'true' : 'false';
    case 'enum':
      return c.values![i % c.values!.length];
  }
}

/** `n` valid canonical rows of a table. */
export function sampleRows(t: TableDef, n: number, seed = 7): Row[] {
  const rnd = rng(seed);
  return Array.from({ length: n }, (_, i) => Object.fromEntries(t.columns.map((c) => [c.name, sampleValue(t, c, i, rnd)])));
}

export function table(name: string): TableDef {
  const t = FEEDS.find((f) => f.name === name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

export const PAYMENT_HEADER = table('treasury.payments').columns.map((c) => c.name);

/** A valid treasury.payments row; override what the test is about. */
export function payment(id: string, over: Partial<Row> = {}): Row {
  return {
    payment_id: id,
    fiscal_year: '2025',
    region_code: '370882',
    agency_code: '0101',
    indicator_id: 'I2025001',
    func_code: '2050101',
    econ_code: '30201',
    fund_source: 'general',
    project_code: '',
    payee_name: '济宁市某某有限公司',
    payee_account: '6222000000000001',
    payee_type: 'org',
    amount: '1000.00',
    pay_date: '2025-03-03',
    pay_method: 'direct',
    purpose: '办公用品',
    direct_fund: 'false',
    ...over,
  };
}

let gbkTable: Map<string, number[]> | undefined;

/**
 * Encode text as GBK/GB18030 bytes. Node has no GBK encoder, so the table is
 * built from the decoder: every two-byte GBK sequence decoded once.
 */
export function encodeGbk(text: string): Buffer {
  if (!gbkTable) {
    gbkTable = new Map();
    const dec = new TextDecoder('gb18030');
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        if (trail === 0x7f) continue;
        const ch = dec.decode(new Uint8Array([lead, trail]));
        if (ch.length === 1 && ch !== '\ufffd' && !gbkTable.has(ch)) gbkTable.set(ch, [lead, trail]);
      }
    }
  }
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out.push(cp);
    else {
      const b = gbkTable.get(ch);
      if (!b) throw new Error(`test helper: ${ch} has no GBK encoding`);
      out.push(...b);
    }
  }
  return Buffer.from(out);
}
