/**
 * `fiscus mapping suggest FILE [--table T]`: a first draft of a mapping
 * profile from a file's headers and sample values, for a person to check.
 *
 * It reads the first rows the way ingest would (encoding detection, bare CR,
 * Excel sheets, the record array of a JSON document), finds the header row
 * (the row whose cells name the most columns), guesses the table when not
 * given, maps each header (canonical names, the built-in Chinese aliases, and
 * common English export headers), and reads formats off the sample values:
 * date styles, units in headers, decimal commas. Required columns it cannot
 * find are left as TODO constants; the draft says what it is unsure of.
 */
import { readFile } from 'node:fs/promises';
import { FiscusError } from '../engine/errors.ts';
import { FEEDS, type TableDef } from '../engine/feeds.ts';
import { normalizeHeader, splitUnitSuffix, tableAliases } from './aliases.ts';
import { parseCsvRecords, sniffTextDelimiter } from './csv-text.ts';
import { decodeText, detectEncoding } from './encoding.ts';
import { readWorkbookRows } from './excel.ts';
import type { PhysicalRow } from './layout.ts';
import { formatOf } from './source.ts';

/** Common English export headers (UK council payment files and the like) → canonical columns. */
const ENGLISH: Record<string, string> = {
  date: 'pay_date', paymentdate: 'pay_date', transactiondate: 'pay_date', paiddate: 'pay_date', 'date paid': 'pay_date',
  amount: 'amount', value: 'amount', net: 'amount', netamount: 'amount', 'amount(£)': 'amount', total: 'amount',
  supplier: 'payee_name', suppliername: 'payee_name', payee: 'payee_name', payeename: 'payee_name', vendor: 'payee_name', beneficiary: 'payee_name',
  reference: 'payment_id', ref: 'payment_id', transactionnumber: 'payment_id', transactionid: 'payment_id', paymentid: 'payment_id', invoice: 'payment_id',
  department: 'agency_code', directorate: 'agency_code', servicearea: 'agency_code', agency: 'agency_code',
  expensetype: 'purpose', description: 'purpose', purpose: 'purpose', expensearea: 'purpose',
  year: 'fiscal_year', fiscalyear: 'fiscal_year', financialyear: 'fiscal_year',
  region: 'region_code', province: 'region_code', regioncode: 'region_code',
  accountnumber: 'payee_account', account: 'payee_account',
};

export interface Suggestion {
  table: string;
  yaml: string;
  headerRow: number;
  encoding?: string;
}

export async function suggestProfile(path: string, opts: { table?: string; sheet?: string | number; records?: string } = {}): Promise<Suggestion> {
  const format = formatOf(path);
  if (!format || format === 'parquet') {
    throw new FiscusError(`${path}: mapping suggest reads .csv, .xlsx, .json and .jsonl files`, { code: 'USAGE', exitCode: 2 });
  }
  let rows: PhysicalRow[];
  let encoding: string | undefined;
  let records: string | undefined;
  let delimiter: string | undefined;
  let bareCr = false;
  if (format === 'xlsx') {
    rows = (await readWorkbookRows(path, opts.sheet, path)).rows.slice(0, 500);
  } else {
    const bytes = await readFile(path);
    const head = bytes.subarray(0, 1 << 20);
    const detected = detectEncoding(head, bytes.length <= head.length);
    encoding = detected === 'utf-8' || detected === 'utf-8-bom' ? undefined : detected;
    const text = (encoding ? decodeTextLoose(head, encoding) : new TextDecoder('utf-8').decode(head)).replace(/^\uFEFF/, '');
    if (format === 'csv') {
      bareCr = !text.includes('\n') && text.includes('\r');
      delimiter = sniffTextDelimiter(text);
      rows = parseCsvRecords(text, delimiter).slice(0, 500);
    } else {
      const objs = format === 'json' ? jsonRecords(text, opts.records) : { path: undefined, list: text.split('\n').filter((l) => l.trim()).slice(0, 200).map((l) => JSON.parse(l) as Record<string, unknown>) };
      records = objs.path;
      const keys = [...new Set(objs.list.flatMap((o) => Object.keys(o)))];
      rows = [{ line: 1, cells: keys }, ...objs.list.slice(0, 200).map((o, i) => ({ line: i + 2, cells: keys.map((k) => (o[k] === null || o[k] === undefined ? '' : typeof o[k] === 'object' ? JSON.stringify(o[k]) : String(o[k]))) }))];
    }
  }
  const nonBlank = rows.filter((r) => r.cells.some((c) => c.trim() !== ''));
  if (nonBlank.length === 0) throw new FiscusError(`${path} has no rows to look at`, { code: 'INGEST_EMPTY' });

  const tables = opts.table ? FEEDS.filter((t) => t.name === opts.table) : FEEDS;
  if (opts.table && tables.length === 0) throw new FiscusError(`unknown table "${opts.table}". Known tables: ${FEEDS.map((t) => t.name).join(', ')}`, { code: 'USAGE', exitCode: 2 });

  // The header row: the row (among the first 30 and the last) naming the most columns of a table.
  const candidates = [...nonBlank.slice(0, 30), ...(nonBlank.length > 30 ? [nonBlank.at(-1)!] : [])];
  let best: { row: PhysicalRow; t: TableDef; score: number } | undefined;
  for (const row of candidates) {
    for (const t of tables) {
      const score = row.cells.filter((c) => targetOf(t, c) !== undefined).length * 10 + row.cells.filter((c) => c.trim() && !/^[-+\d.,£$€¥ ()]+$/.test(c)).length;
      if (!best || score > best.score) best = { row, t, score };
    }
  }
  if (!best || best.score < 10) {
    throw new FiscusError(
      `${path}: no row looks like a header of ${opts.table ?? 'any feed table'}; pass --table and write the profile's columns by hand (ingest/MAPPING.md)`,
      { code: 'USAGE', exitCode: 2 },
    );
  }
  const t = best.t;
  const header = best.row;
  const headerIdx = rows.indexOf(header);
  const isLast = header === nonBlank.at(-1) && headerIdx > 0;
  const data = isLast ? rows.slice(0, headerIdx) : rows.slice(headerIdx + 1);
  const samples = (i: number) => data.map((r) => (r.cells[i] ?? '').trim()).filter((v) => v !== '').slice(0, 200);

  const lines: string[] = [];
  const todo: string[] = [];
  lines.push(`# Draft profile for ${path}, written by \`fiscus mapping suggest\`: check every line, then`);
  lines.push(`#   fiscus ingest ${path} --mapping THIS.yaml --dry-run`);
  lines.push(`table: ${t.name}`);
  if (encoding) {
    lines.push(`encoding: ${encoding}${encoding === 'windows-1252' ? '   # detected; a DOS export looks the same: if £ shows as œ, write cp850' : '   # detected'}`);
  }
  if (bareCr) lines.push('# lines end in a bare CR: read as they are, nothing to set');
  if (records) lines.push(`records: ${records}`);
  if (opts.sheet !== undefined) lines.push(`sheet: ${opts.sheet}`);
  if (delimiter && delimiter !== ',') lines.push(`delimiter: ${JSON.stringify(delimiter)}`);
  if (isLast) lines.push('header: { row: last }');
  else if (header.line !== 1) lines.push(`header: ${header.line}            # rows above the header are titles`);

  const columns: string[] = [];
  const used = new Set<string>();
  const units: string[] = [];
  const dateFormats = new Set<string>();
  let decimalComma = false;
  header.cells.forEach((cell, i) => {
    const name = cell.trim();
    if (!name) return;
    const target = targetOf(t, name);
    const def = target ? t.columns.find((c) => c.name === target) : undefined;
    const vals = samples(i);
    if (!target && vals.length) {
      // No name matched: guess from the values, for a date or money column still missing.
      const dateLike = vals.every((v) => /^\d{4}-\d{1,2}-\d{1,2}$|^\d{4}年/.test(v) || dateStyles([v]).some((f) => f !== 'excel'));
      const moneyLike = vals.every((v) => /^[(（]?[-+]?\s*[¥￥£$€]?\s*[\d,]+(\.\d+)?[)）]?-?$/.test(v));
      const want = dateLike ? 'date' : moneyLike ? 'money' : undefined;
      const col = want && [...t.columns].sort((a, b) => Number(a.nullable) - Number(b.nullable)).find((c) => c.type === want && !used.has(c.name) && !header.cells.some((h) => targetOf(t, h) === c.name));
      if (col) {
        used.add(col.name);
        columns.push(`  ${yamlKey(name)}: ${col.name}            # guessed from values such as ${JSON.stringify(vals[0])}: check`);
        if (col.type === 'date') for (const f of dateStyles(vals)) dateFormats.add(f);
        return;
      }
    }
    if (!target || used.has(target) || !def) {
      columns.push(`#   ${yamlKey(name)}: ?${vals.length ? `            # e.g. ${JSON.stringify(vals[0])}` : ''}`);
      return;
    }
    used.add(target);
    const canonical = normalizeHeader(name) === target;
    const alias = tableAliases(t).headers.get(normalizeHeader(name)) === target;
    if (!canonical && !alias) columns.push(`  ${yamlKey(name)}: ${target}`);
    if (def.type === 'date') for (const f of dateStyles(vals)) dateFormats.add(f);
    if (def.type === 'money') {
      if (vals.some((v) => /^-?\d{1,3}(\.\d{3})+,\d{1,2}$|^-?\d+,\d{1,2}$/.test(v))) decimalComma = true;
      const u = splitUnitSuffix(normalizeHeader(name)).unit;
      if (u && u !== '元') units.push(`${target}: ${u}`);
    }
  });
  const mapped = columns.filter((c) => !c.trimStart().startsWith('#'));
  if (mapped.length) lines.push('columns:', ...mapped);
  const unmapped = columns.filter((c) => c.trimStart().startsWith('#'));
  if (unmapped.length) lines.push('# not mapped, kept in extra (map them under columns: if they are feed columns):', ...unmapped);
  if (dateFormats.size) lines.push(`date_format: [${[...dateFormats].map((f) => (f === 'excel' ? 'excel' : JSON.stringify(f))).join(', ')}]`);
  if (decimalComma) lines.push('decimal: ","', 'thousands: "."');
  if (units.length) lines.push(`unit: { ${units.join(', ')} }   # from the headers`);
  const missing = t.columns.filter((c) => !c.nullable && !used.has(c.name));
  if (missing.length) {
    lines.push('constants:              # required columns not found in the file: give a value, map a header, or derive them');
    for (const c of missing) {
      lines.push(`  ${c.name}: ${c.type === 'enum' ? (c.values ?? [])[0] : c.type === 'bool' ? '"false"' : '"TODO"'}   # TODO ${c.label}${c.type === 'enum' ? `: one of ${(c.values ?? []).join(', ')}` : ''}`);
      todo.push(c.name);
    }
  }
  const missingKey = t.key.filter((k) => !used.has(k));
  if (missingKey.length === 1) {
    const from = header.cells.map((c) => c.trim()).filter((c) => c && !/[,[\]{}]/.test(c)).slice(0, 4);
    lines.push(`# key: { ${missingKey[0]}: [${from.join(', ')}] }   # no unique id in the file? build a stable key from columns instead of a constant`);
  }
  if (used.has('pay_date') && missing.some((c) => c.name === 'fiscal_year')) {
    lines.push('# fiscal_year: { from: pay_date, start_month: 1 }   # instead of a constant: derive it from the date');
  }
  return { table: t.name, yaml: `${lines.join('\n')}\n`, headerRow: header.line, encoding };
}

function targetOf(t: TableDef, header: string): string | undefined {
  const norm = normalizeHeader(header);
  if (!norm) return undefined;
  const a = tableAliases(t);
  const direct = t.columns.find((c) => c.name === norm)?.name ?? a.headers.get(norm);
  if (direct) return direct;
  const split = splitUnitSuffix(norm);
  if (split.unit) return t.columns.find((c) => c.name === split.base)?.name ?? a.headers.get(split.base);
  const en = ENGLISH[norm] ?? ENGLISH[norm.replace(/[^a-z]/g, '')];
  return en && t.columns.some((c) => c.name === en) ? en : undefined;
}

/** The strptime formats (or `excel`) that the sample values need; ISO and 2025年3月1日 need none. */
function dateStyles(vals: readonly string[]): string[] {
  const out = new Set<string>();
  for (const v of vals) {
    if (/^\d{1,2}-[A-Za-z]{3}-\d{2}$/.test(v)) out.add('%d-%b-%y');
    else if (/^\d{1,2}-[A-Za-z]{3}-\d{4}$/.test(v)) out.add('%d-%b-%Y');
    else if (/^\d{1,2} [A-Za-z]{3} \d{4}$/.test(v)) out.add('%d %b %Y');
    else if (/^\d{1,2}\/\d{1,2}\/\d{4}$/.test(v)) {
      const [a, b] = v.split('/').map(Number);
      out.add(b > 12 && a <= 12 ? '%m/%d/%Y' : '%d/%m/%Y');
    } else if (/^\d{1,2}\/\d{1,2}\/\d{2}$/.test(v)) out.add('%d/%m/%y');
    else if (/^\d{1,2}\.\d{1,2}\.\d{4}$/.test(v)) out.add('%d.%m.%Y');
    else if (/^\d{5}(\.0+)?$/.test(v)) out.add('excel');
  }
  return [...out];
}

function yamlKey(k: string): string {
  return /^[\p{L}\p{N}_][\p{L}\p{N}_ ()（）.-]*$/u.test(k) && !/^(true|false|null|yes|no|on|off)$/i.test(k) && !/[:#]/.test(k) ? k : JSON.stringify(k);
}

/** The records of a JSON document: at `path`, or the first array of objects found. */
function jsonRecords(text: string, path: string | undefined): { path: string | undefined; list: Record<string, unknown>[] } {
  const doc = JSON.parse(text) as unknown;
  if (path) {
    let cur: unknown = doc;
    for (const seg of path.replace(/^\$\.?/, '').split('.').filter(Boolean)) cur = (cur as Record<string, unknown> | undefined)?.[seg];
    if (!Array.isArray(cur)) throw new FiscusError(`records: ${path} is not an array in the document`, { code: 'USAGE', exitCode: 2 });
    return { path, list: cur.filter((x) => x && typeof x === 'object') as Record<string, unknown>[] };
  }
  const find = (x: unknown, p: string, depth: number): { path: string; list: Record<string, unknown>[] } | undefined => {
    if (Array.isArray(x) && x.length && x.every((e) => e && typeof e === 'object' && !Array.isArray(e))) return { path: p, list: x as Record<string, unknown>[] };
    if (depth > 5 || !x || typeof x !== 'object' || Array.isArray(x)) return undefined;
    for (const [k, v] of Object.entries(x)) {
      const f = find(v, /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${p}.${k}` : `${p}."${k}"`, depth + 1);
      if (f) return f;
    }
    return undefined;
  };
  const f = find(doc, '$', 0);
  if (!f) throw new FiscusError('the JSON document has no array of records', { code: 'USAGE', exitCode: 2 });
  return { path: f.path === '$' ? undefined : f.path, list: f.list };
}

/** The first megabyte may end inside a character: decode leniently for a look at the rows. */
function decodeTextLoose(buf: Uint8Array, encoding: string): string {
  try {
    return decodeText(buf, encoding);
  } catch {
    return new TextDecoder(encoding === 'cp850' ? 'windows-1252' : encoding).decode(buf);
  }
}
