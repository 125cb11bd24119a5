/**
 * Mapping profiles: how a source that does not speak FEEDS.md (Chinese
 * headers, 万元, 2025年3月1日, GBK) is brought to the canonical format.
 *
 * A profile is YAML or JSON:
 *
 *   table: treasury.payments          # optional; --table wins
 *   encoding: gb18030                 # utf-8 | gb18030 | gbk | auto (default auto)
 *   skip_rows: 2                      # lines before the header (titles of an export)
 *   delimiter: ","                    # CSV only
 *   columns: { 支付金额(万元): amount, 付款日期: pay_date }
 *   constants: { region_code: "370811" }
 *   values: { fund_source: { 一般预算: general } }   # extra enum spellings
 *   date_format: "%Y年%m月%d日"         # or { pay_date: "%Y.%m.%d" }
 *   decimal: "."                      # or ","
 *   thousands: ","                    # "", ",", ".", " ", "'"
 *   unit: 万元                         # or { amount: 万元 }
 *
 * YAML is read with the failsafe schema, so `region_code: 0101` stays the
 * string "0101" instead of becoming the number 101.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../engine/errors.ts';
import type { TableDef } from '../engine/feeds.ts';

const Unit = z.enum(['元', '万元']);
const Scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

const ProfileSchema = z.strictObject({
  description: z.string().optional(),
  table: z.string().optional(),
  encoding: z.enum(['auto', 'utf-8', 'utf8', 'gb18030', 'gbk', 'gb2312']).optional(),
  skip_rows: z.coerce.number().int().min(0).optional(),
  delimiter: z.string().min(1).max(4).optional(),
  columns: z.record(z.string(), z.string()).optional(),
  constants: z.record(z.string(), Scalar).optional(),
  values: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  date_format: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
  decimal: z.enum(['.', ',']).optional(),
  thousands: z.enum(['', ',', '.', ' ', "'"]).optional(),
  unit: z.union([Unit, z.record(z.string(), Unit)]).optional(),
  years: z.strictObject({ min: z.coerce.number().int().min(1).max(9999).optional(), max: z.coerce.number().int().min(1).max(9999).optional() }).optional(),
  timestamps: z.union([z.enum(['reject', 'take_date']), z.record(z.string(), z.enum(['reject', 'take_date']))]).optional(),
});

export type MappingProfileInput = z.input<typeof ProfileSchema>;

export interface MappingProfile {
  /** `path (sha256 1a2b3c4d5e6f)` or `inline (sha256 …)`: what the batch report records. */
  label: string;
  table?: string;
  encoding?: 'utf-8' | 'gb18030';
  skipRows: number;
  delimiter?: string;
  /** normalised source header → canonical column. */
  columns: Record<string, string>;
  constants: Record<string, string>;
  values: Record<string, Record<string, string>>;
  /** strptime formats: '*' for every date column, else per column. */
  dateFormats: Record<string, string>;
  decimal: '.' | ',';
  thousands: string;
  /** '*' for every money column, else per column. */
  units: Record<string, '元' | '万元'>;
  /** Plausible years of date and year columns (default 1900–2100). */
  years: [number, number];
  /** Date columns that take the date of a timestamp ('*' = every date column). */
  takeDate: Record<string, boolean>;
}

export const DEFAULT_YEARS: [number, number] = [1900, 2100];

/** Parse a profile from its text. `name` is used in messages and in the label. */
export function parseMappingProfile(text: string, name: string): MappingProfile {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(name) ? JSON.parse(text) : parseYaml(text, { schema: 'failsafe' });
  } catch (err) {
    throw new UsageError(`mapping profile ${name} is not valid ${/\.json$/i.test(name) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const parsed = ProfileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new UsageError(`mapping profile ${name} is invalid: ${issues}`);
  }
  const p = parsed.data;
  const decimal = p.decimal ?? '.';
  const thousands = p.thousands ?? (decimal === ',' ? '.' : ',');
  if (thousands === decimal) {
    throw new UsageError(`mapping profile ${name}: thousands separator and decimal mark are both "${decimal}"`);
  }
  const enc = p.encoding === undefined || p.encoding === 'auto' ? undefined : p.encoding.startsWith('utf') ? 'utf-8' : 'gb18030';
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return {
    label: `${name} (sha256 ${digest})`,
    table: p.table,
    encoding: enc,
    skipRows: p.skip_rows ?? 0,
    delimiter: p.delimiter,
    columns: p.columns ?? {},
    constants: p.constants ?? {},
    values: p.values ?? {},
    dateFormats: typeof p.date_format === 'string' ? { '*': p.date_format } : (p.date_format ?? {}),
    decimal,
    thousands,
    units: typeof p.unit === 'string' ? { '*': p.unit } : (p.unit ?? {}),
    years: [p.years?.min ?? DEFAULT_YEARS[0], p.years?.max ?? DEFAULT_YEARS[1]],
    takeDate: typeof p.timestamps === 'string'
      ? { '*': p.timestamps === 'take_date' }
      : Object.fromEntries(Object.entries(p.timestamps ?? {}).map(([k, v]) => [k, v === 'take_date'])),
  };
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
  return {
    label: '',
    skipRows: 0,
    columns: {},
    constants: {},
    values: {},
    dateFormats: {},
    decimal: '.',
    thousands: ',',
    units: {},
    years: [...DEFAULT_YEARS],
    takeDate: {},
  };
}

/** Check that every column a profile names exists in the table, with the right type. */
export function checkProfileAgainstTable(p: MappingProfile, t: TableDef): void {
  const byName = new Map(t.columns.map((c) => [c.name, c]));
  const problems: string[] = [];
  const known = t.columns.map((c) => c.name).join(', ');
  for (const [src, target] of Object.entries(p.columns)) {
    if (!byName.has(target)) problems.push(`columns: "${src}" maps to ${target}, which is not a column of ${t.name}`);
  }
  for (const col of Object.keys(p.constants)) {
    if (!byName.has(col)) problems.push(`constants: ${col} is not a column of ${t.name}`);
  }
  for (const col of Object.keys(p.values)) {
    if (byName.get(col)?.type !== 'enum') problems.push(`values: ${col} is not an enum column of ${t.name}`);
    for (const v of Object.values(p.values[col])) {
      const allowed = byName.get(col)?.values ?? [];
      if (byName.get(col)?.type === 'enum' && !allowed.includes(v)) {
        problems.push(`values.${col}: "${v}" is not one of ${allowed.join(', ')}`);
      }
    }
  }
  for (const col of Object.keys(p.dateFormats)) {
    if (col !== '*' && byName.get(col)?.type !== 'date') problems.push(`date_format: ${col} is not a date column of ${t.name}`);
  }
  for (const col of Object.keys(p.takeDate)) {
    if (col !== '*' && byName.get(col)?.type !== 'date') problems.push(`timestamps: ${col} is not a date column of ${t.name}`);
  }
  for (const col of Object.keys(p.units)) {
    if (col !== '*' && byName.get(col)?.type !== 'money') problems.push(`unit: ${col} is not a money column of ${t.name}`);
  }
  if (problems.length) {
    throw new UsageError(`mapping profile ${p.label} does not fit ${t.name}: ${problems.join('; ')}. Columns of ${t.name}: ${known}`);
  }
}
