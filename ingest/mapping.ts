/**
 * Mapping profiles: how a source that does not speak FEEDS.md (its own
 * headers, 万元 or 亿元, 05-Apr-17, Windows-1252, a title above the header,
 * an Excel sheet, a nested JSON document) is brought to the canonical format,
 * declaratively. ingest/MAPPING.md is the guide; every key in short:
 *
 *   table: treasury.payments          # optional; --table wins
 *   format: csv                       # csv | jsonl | json | xlsx | parquet (default: from the extension)
 *   encoding: windows-1252            # auto (default) | any WHATWG label | a code page (cp850 …)
 *   skip_rows: 2                      # rows before the header
 *   header: { row: 3 }                # or { row: last } or { contains: [Date, Amount] }
 *   sheet: Payments                   # Excel: name or 1-based index
 *   records: $.data.items             # JSON document: path of the record array
 *   totals: [合计, Total]             # rows with such a cell are skipped and counted ([] = none)
 *   delimiter: ","
 *   columns: { 支付金额: amount, Supplier: [payee_name, payee_account] }
 *   constants: { region_code: "370811" }
 *   values: { fund_source: { 一般预算: general } }   # extra enum spellings
 *   lookups: { region_code: { 上海: "310000" } }       # source value → code
 *   pad: { region_code: { width: 6, fill: "0", side: right } }
 *   fallback: { payee_account: payee_name }          # when empty, take another column's value
 *   sum: { debt_balance: [一般债务余额, 专项债务余额] }  # source columns added, exactly
 *   fiscal_year: { from: pay_date, start_month: 4 }  # derived from a date column
 *   key: { payment_id: [Date, Reference, Supplier, Amount] }   # stable synthetic key
 *   derive: { amount: "gross - vat" }                 # rule-language expressions over source columns
 *   date_format: ["%d-%b-%y", "%d/%m/%Y", excel]      # or { pay_date: … }
 *   timestamps: take_date              # keep the date of `2025-03-03 10:00` (default: reject)
 *   years: { min: 1900, max: 2100 }   # plausible years (default)
 *   decimal: "."                      # or ","
 *   thousands: ","                    # "", ",", ".", " ", "'"
 *   unit: 万元                         # 元 千元 万元 百万元 亿元, 1e8, 10000 … or { amount: 亿元 }
 *
 * YAML is read with the failsafe schema, so `region_code: 0101` stays the
 * string "0101" instead of becoming the number 101. Every error names the
 * profile file, line and column, with a did-you-mean.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../engine/errors.ts';
import type { TableDef } from '../engine/feeds.ts';
import { didYouMean } from '../rules/language/errors.ts';
import { YamlFile } from '../rules/language/yaml-doc.ts';
import { ENCODING_EXAMPLES, resolveEncoding } from './encoding.ts';
import { DEFAULT_TOTALS, type HeaderSpec } from './layout.ts';

/** Unit words and their power of ten. */
export const UNIT_WORDS: Record<string, number> = {
  元: 0, 十元: 1, 百元: 2, 千元: 3, 万元: 4, 十万元: 5, 百万元: 6, 千万元: 7, 亿元: 8, 十亿元: 9, 百亿元: 10, 千亿元: 11, 万亿元: 12,
};

/** `万元` → 4, `1e8` → 8, `10000` → 4; undefined when not a power of ten from 1 to 10^12. */
export function unitExponent(u: string): number | undefined {
  const t = u.trim();
  if (t in UNIT_WORDS) return UNIT_WORDS[t];
  const m = /^1(?:e\+?(\d{1,2})|(0*))$/i.exec(t);
  if (!m) return undefined;
  const e = m[1] !== undefined ? Number(m[1]) : m[2].length;
  return e <= 12 ? e : undefined;
}

const Str = z.string();
const Scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const StrList = z.union([Str, z.array(Str)]).transform((v) => (Array.isArray(v) ? v : [v]));
const TsMode = z.enum(['reject', 'take_date']);
const Int = z.coerce.number().int();

const ProfileSchema = z.strictObject({
  description: Str.optional(),
  table: Str.optional(),
  format: z.enum(['csv', 'jsonl', 'json', 'xlsx', 'parquet']).optional(),
  encoding: Str.optional(),
  skip_rows: Int.min(0).optional(),
  header: z
    .union([
      z.literal('last'),
      Int.min(1),
      z.strictObject({ row: z.union([z.literal('last'), Int.min(1)]).optional(), contains: StrList.optional() }),
    ])
    .optional(),
  sheet: Str.optional(),
  records: Str.optional(),
  totals: z.union([z.array(Str), z.literal('none')]).optional(),
  delimiter: Str.min(1).max(4).optional(),
  columns: z.record(Str, StrList).optional(),
  constants: z.record(Str, Scalar).optional(),
  values: z.record(Str, z.record(Str, Str)).optional(),
  lookups: z.record(Str, z.record(Str, Str)).optional(),
  pad: z.record(Str, z.strictObject({ width: Int.min(1).max(64), fill: Str.length(1).optional(), side: z.enum(['left', 'right']).optional() })).optional(),
  fallback: z.record(Str, StrList).optional(),
  sum: z.record(Str, z.array(Str).min(1)).optional(),
  fiscal_year: z.strictObject({ from: Str, start_month: Int.min(1).max(12).optional(), named_by: z.enum(['start', 'end']).optional(), column: Str.optional() }).optional(),
  key: z.record(Str, z.array(Str).min(1)).optional(),
  derive: z.record(Str, Str).optional(),
  date_format: z.union([StrList, z.record(Str, StrList)]).optional(),
  timestamps: z.union([TsMode, z.record(Str, TsMode)]).optional(),
  years: z.strictObject({ min: Int.min(1).max(9999).optional(), max: Int.min(1).max(9999).optional() }).optional(),
  decimal: z.enum(['.', ',']).optional(),
  thousands: z.enum(['', ',', '.', ' ', "'"]).optional(),
  unit: z.union([Str, z.record(Str, Str)]).optional(),
});

const TOP_KEYS = Object.keys(ProfileSchema.shape);

export interface MappingProfile {
  /** `path (sha256 1a2b3c4d5e6f)` or `inline (sha256 …)`: what the batch report records. */
  label: string;
  table?: string;
  format?: 'csv' | 'jsonl' | 'json' | 'xlsx' | 'parquet';
  /** Canonical encoding name (resolveEncoding), or undefined to detect. */
  encoding?: string;
  skipRows: number;
  header?: HeaderSpec;
  sheet?: string | number;
  records?: string;
  totals: string[];
  delimiter?: string;
  /** normalised source header → canonical columns (one source may feed several). */
  columns: Record<string, string[]>;
  constants: Record<string, string>;
  values: Record<string, Record<string, string>>;
  lookups: Record<string, Record<string, string>>;
  pad: Record<string, { width: number; fill: string; side: 'left' | 'right' }>;
  /** column → source headers or canonical columns tried in order when the column is empty. */
  fallback: Record<string, string[]>;
  sum: Record<string, string[]>;
  fiscalYear?: { from: string; startMonth: number; namedBy: 'start' | 'end'; column: string };
  key: Record<string, string[]>;
  derive: Record<string, string>;
  /** strptime formats (or `excel`): '*' for every date column, else per column. */
  dateFormats: Record<string, string[]>;
  decimal: '.' | ',';
  thousands: string;
  /** Power of ten of the unit: '*' for every money column, else per column. */
  units: Record<string, number>;
  /** Plausible years of date and year columns (default 1900–2100). */
  years: [number, number];
  /** Date columns that take the date of a timestamp ('*' = every date column). */
  takeDate: Record<string, boolean>;
  /** `file:line:column` of a key path in the profile (for messages), or the profile name. */
  where(path: readonly (string | number)[]): string;
}

export const DEFAULT_YEARS: [number, number] = [1900, 2100];

/** Positions of a profile's nodes, for messages. */
class ProfilePositions {
  constructor(
    private readonly y: YamlFile | undefined,
    private readonly name: string,
  ) {}

  node(path: readonly (string | number)[], key = false): Node | undefined {
    if (!this.y) return undefined;
    let n: unknown = this.y.doc.contents;
    let keyNode: Node | undefined;
    for (const seg of path) {
      if (isMap(n)) {
        const item = n.items.find((i) => isScalar(i.key) && (String(i.key.value) === String(seg) || i.key.source === String(seg)));
        if (!item) return (keyNode ?? (n as Node)) as Node;
        keyNode = item.key as Node;
        n = item.value;
      } else if (isSeq(n) && typeof seg === 'number') {
        n = n.items[seg];
        keyNode = n as Node;
      } else break;
    }
    return (key ? keyNode : (n as Node | undefined)) ?? keyNode;
  }

  where(path: readonly (string | number)[], key = false): string {
    const n = this.node(path, key);
    if (!this.y || !n) return this.name;
    const p = this.y.nodePos(n);
    return `${p.file}:${p.line}:${p.column}`;
  }
}

function fail(at: string, msg: string): UsageError {
  return new UsageError(`mapping profile ${at}: ${msg}`);
}

/** Parse a profile from its text. `name` is used in messages and in the label. */
export function parseMappingProfile(text: string, name: string): MappingProfile {
  const isJson = /\.json$/i.test(name);
  let y: YamlFile | undefined;
  let raw: unknown;
  try {
    // Positions from the YAML parser (JSON is YAML too); values with the failsafe schema.
    y = new YamlFile(name, text);
    raw = parseDocument(text, { schema: 'failsafe', uniqueKeys: true }).toJS();
    if (isJson) raw = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    throw new UsageError(`mapping profile ${/^\S+:\d+:\d+:/.test(msg) ? msg : `${name} is not valid ${isJson ? 'JSON' : 'YAML'}: ${msg}`}`);
  }
  const pos = new ProfilePositions(y, name);
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw fail(pos.where([]), 'a profile is a mapping of keys (table:, columns:, …)');
  }
  const parsed = ProfileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = pickIssue(parsed.error.issues);
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      const k = issue.keys[0];
      const known = path.length === 0 ? TOP_KEYS : nestedKeys(path);
      throw fail(pos.where([...path, k], true), `unknown key \`${k}\`${path.length ? ` in ${path.join('.')}` : ''}${didYouMean(k, known)}; allowed: ${known.join(', ')}`);
    }
    throw fail(pos.where(path), `${path.join('.') || '(top)'}: ${issue.message}`);
  }
  const p = parsed.data;
  const decimal = p.decimal ?? '.';
  const thousands = p.thousands ?? (decimal === ',' ? '.' : ',');
  if (thousands === decimal) throw fail(pos.where(['thousands']), `thousands separator and decimal mark are both "${decimal}"`);
  let encoding: string | undefined;
  if (p.encoding !== undefined && p.encoding.trim().toLowerCase() !== 'auto') {
    encoding = resolveEncoding(p.encoding);
    if (!encoding) {
      throw fail(pos.where(['encoding']), `encoding "${p.encoding}" is not one fiscus can decode${didYouMean(p.encoding, ENCODING_EXAMPLES)}; ` +
        `use auto, a WHATWG label or a code page, e.g. ${ENCODING_EXAMPLES.join(', ')}`);
    }
  }
  const units: Record<string, number> = {};
  const unitEntries = typeof p.unit === 'string' ? [['*', p.unit, ['unit']] as const] : Object.entries(p.unit ?? {}).map(([k, v]) => [k, v, ['unit', k]] as const);
  for (const [col, u, path] of unitEntries) {
    const e = unitExponent(u);
    if (e === undefined) {
      throw fail(pos.where(path), `unit "${u}" is not a power of ten of 元${didYouMean(u, Object.keys(UNIT_WORDS))}; use ${Object.keys(UNIT_WORDS).filter((w) => w.length <= 3).join(' ')}, or a number such as 1e8 or 10000`);
    }
    units[col] = e;
  }
  const header: HeaderSpec | undefined =
    p.header === undefined ? undefined : typeof p.header === 'object' ? { row: p.header.row, contains: p.header.contains } : { row: p.header };
  const dateFormats: Record<string, string[]> =
    typeof p.date_format === 'string' || Array.isArray(p.date_format)
      ? { '*': StrList.parse(p.date_format) }
      : Object.fromEntries(Object.entries(p.date_format ?? {}).map(([k, v]) => [k, StrList.parse(v)]));
  for (const [col, fmts] of Object.entries(dateFormats)) {
    fmts.forEach((f, i) => {
      if (f !== 'excel' && !/%[dmyYbBjeIpHMS]/.test(f)) {
        const at = col === '*' ? ['date_format', ...(Array.isArray(p.date_format) ? [i] : [])] : ['date_format', col];
        throw fail(pos.where(at), `date_format "${f}" has no strptime field such as %d, %m, %Y, %b; or write \`excel\` for Excel serial day numbers`);
      }
    });
  }
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const sheet = p.sheet === undefined ? undefined : /^\d+$/.test(p.sheet) ? Number(p.sheet) : p.sheet;
  return {
    label: `${name} (sha256 ${digest})`,
    table: p.table,
    format: p.format,
    encoding,
    skipRows: p.skip_rows ?? 0,
    header,
    sheet,
    records: p.records,
    totals: p.totals === undefined ? [...DEFAULT_TOTALS] : p.totals === 'none' ? [] : p.totals,
    delimiter: p.delimiter,
    columns: p.columns ?? {},
    constants: p.constants ?? {},
    values: p.values ?? {},
    lookups: p.lookups ?? {},
    pad: Object.fromEntries(Object.entries(p.pad ?? {}).map(([k, v]) => [k, { width: v.width, fill: v.fill ?? '0', side: v.side ?? 'left' }])),
    fallback: p.fallback ?? {},
    sum: p.sum ?? {},
    fiscalYear: p.fiscal_year
      ? { from: p.fiscal_year.from, startMonth: p.fiscal_year.start_month ?? 1, namedBy: p.fiscal_year.named_by ?? 'start', column: p.fiscal_year.column ?? 'fiscal_year' }
      : undefined,
    key: p.key ?? {},
    derive: p.derive ?? {},
    dateFormats,
    decimal,
    thousands,
    units,
    years: [p.years?.min ?? DEFAULT_YEARS[0], p.years?.max ?? DEFAULT_YEARS[1]],
    takeDate: typeof p.timestamps === 'string'
      ? { '*': p.timestamps === 'take_date' }
      : Object.fromEntries(Object.entries(p.timestamps ?? {}).map(([k, v]) => [k, v === 'take_date'])),
    where: (path) => pos.where(path),
  };
}

/** The most telling issue: inside a union, the branch that got furthest (an unknown key beats a wrong type). */
function pickIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  const first = issues[0];
  if (first.code !== 'invalid_union') return first;
  const inner = first.errors.flat().map((i) => ({ ...i, path: [...first.path, ...i.path] }) as z.core.$ZodIssue);
  const keyIssue = inner.find((i) => i.code === 'unrecognized_keys');
  if (keyIssue) return keyIssue;
  const deep = inner.filter((i) => i.path.length > first.path.length);
  return deep.length ? pickIssue(deep) : first;
}

function nestedKeys(path: readonly (string | number)[]): string[] {
  const top = path[0];
  if (top === 'header') return ['row', 'contains'];
  if (top === 'pad') return ['width', 'fill', 'side'];
  if (top === 'fiscal_year') return ['from', 'start_month', 'named_by', 'column'];
  if (top === 'years') return ['min', 'max'];
  return [];
}

export function loadMappingProfile(path: string): MappingProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read mapping profile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseMappingProfile(text, path);
}

/** The default when no profile is given: canonical headers, built-in aliases, `.` and `,`. */
export function defaultProfile(): MappingProfile {
  return parseMappingProfile('', 'default');
}

/** Every canonical column a profile writes to, with the key path that does. */
function targets(p: MappingProfile): { col: string; path: (string | number)[]; what: string }[] {
  const out: { col: string; path: (string | number)[]; what: string }[] = [];
  for (const [src, cols] of Object.entries(p.columns)) {
    cols.forEach((c, i) => out.push({ col: c, path: cols.length > 1 ? ['columns', src, i] : ['columns', src], what: `columns: "${src}" maps to ${c}` }));
  }
  for (const k of ['constants', 'values', 'lookups', 'pad', 'fallback', 'sum', 'key', 'derive'] as const) {
    for (const col of Object.keys(p[k])) out.push({ col, path: [k, col], what: `${k}: ${col}` });
  }
  return out;
}

/** Check that every column a profile names exists in the table, with the right type. */
export function checkProfileAgainstTable(p: MappingProfile, t: TableDef): void {
  const byName = new Map(t.columns.map((c) => [c.name, c]));
  const names = t.columns.map((c) => c.name);
  const problems: string[] = [];
  const bad = (path: (string | number)[], msg: string) => problems.push(`${p.where(path)}: ${msg}`);
  for (const x of targets(p)) {
    if (!byName.has(x.col)) bad(x.path, `${x.what}, which is not a column of ${t.name}${didYouMean(x.col, names)}`);
  }
  for (const col of Object.keys(p.values)) {
    const def = byName.get(col);
    if (def && def.type !== 'enum') bad(['values', col], `values: ${col} is not an enum column of ${t.name}`);
    for (const [k, v] of Object.entries(p.values[col])) {
      const allowed = def?.values ?? [];
      if (def?.type === 'enum' && !allowed.includes(v)) bad(['values', col, k], `values.${col}: "${v}" is not one of ${allowed.join(', ')}${didYouMean(v, allowed)}`);
    }
  }
  for (const col of Object.keys(p.dateFormats)) {
    if (col !== '*' && byName.get(col)?.type !== 'date') bad(['date_format', col], `date_format: ${col} is not a date column of ${t.name}${didYouMean(col, names)}`);
  }
  for (const col of Object.keys(p.takeDate)) {
    if (col !== '*' && byName.get(col)?.type !== 'date') bad(['timestamps', col], `timestamps: ${col} is not a date column of ${t.name}${didYouMean(col, names)}`);
  }
  for (const col of Object.keys(p.units)) {
    if (col !== '*' && byName.get(col)?.type !== 'money') bad(['unit', col], `unit: ${col} is not a money column of ${t.name}${didYouMean(col, names)}`);
  }
  for (const col of Object.keys(p.sum)) {
    if (byName.has(col) && byName.get(col)?.type !== 'money') bad(['sum', col], `sum: ${col} is not a money column of ${t.name}`);
  }
  if (p.fiscalYear) {
    const from = byName.get(p.fiscalYear.from);
    if (!from || from.type !== 'date') bad(['fiscal_year', 'from'], `fiscal_year.from: ${p.fiscalYear.from} is not a date column of ${t.name}${didYouMean(p.fiscalYear.from, names)}`);
    const to = byName.get(p.fiscalYear.column);
    if (!to || to.type !== 'year') bad(['fiscal_year'], `fiscal_year: ${t.name} has no year column ${p.fiscalYear.column}`);
  }
  if (problems.length) {
    throw new UsageError(`mapping profile does not fit ${t.name}:\n  ${problems.join('\n  ')}\nColumns of ${t.name}: ${names.join(', ')}`);
  }
}
