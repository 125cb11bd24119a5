/**
 * Which source column feeds which canonical column, and how.
 *
 * A source header matches, in order: the profile's `columns` (one header may
 * feed several columns), the canonical snake_case name (any case), a
 * built-in alias (the feed label or a common variant), each also with a unit
 * suffix such as `金额(万元)`. Unnamed headers are ignored; everything else
 * goes to `extra`.
 *
 * On top of that the profile derives values, all as SQL over the raw text:
 * `sum` (source columns added exactly), `fiscal_year` (from a date, with a
 * fiscal year starting in any month), `key` (a stable synthetic key),
 * `derive` (a rule-language expression), `lookups`, `pad` and `fallback`.
 * A file missing a required column is refused whole, naming the column and
 * the headers that would have matched it.
 */
import { FiscusError } from '../engine/errors.ts';
import type { TableDef } from '../engine/feeds.ts';
import { didYouMean } from '../rules/language/errors.ts';
import { normalizeHeader, splitUnitSuffix, tableAliases, valueAliases } from './aliases.ts';
import { normExpr, slowValueExpr, type ColumnPlan, type NumberFormat } from './convert-sql.ts';
import { compileRowExpr } from './derive.ts';
import { UNIT_WORDS, type MappingProfile } from './mapping.ts';
import { lit } from './sql-text.ts';

export interface SourcePlan {
  columns: ColumnPlan[];
  /** Source columns kept in `extra`: header and its raw column reference. */
  extras: { header: string; raw: string }[];
  /** Human notes for the batch message (e.g. a unit taken from a header). */
  notes: string[];
  /** Totals-row words (rows with such a cell are skipped), for sources read straight by DuckDB. */
  totals: readonly string[];
  /**
   * Derived raw values, computed in layers over the source select before the
   * columns (`expr AS _dN`, each layer may use the names of the ones before):
   * naming each step keeps the SQL linear in size. A window (the synthetic
   * key's occurrence number) needs the source's `_rn`.
   */
  pre: string[][];
  /** True when a layer uses a window over `_rn`. */
  needsRn: boolean;
}

/** Columns holding GB/T 2260 region codes: six digits, the first not 0. */
const REGION_COLUMNS = new Set(['region_code', 'parent_code', 'from_region', 'to_region']);

/** `rawRef(i)` is the SQL reference of the i-th source column. */
export function planColumns(
  t: TableDef,
  headers: readonly string[],
  profile: MappingProfile,
  rawRef: (i: number) => string,
  fmt: NumberFormat = { decimal: profile.decimal, thousands: profile.thousands },
): SourcePlan {
  const aliases = tableAliases(t);
  const canonical = new Map(t.columns.map((c) => [c.name.toLowerCase(), c.name]));
  const profileCols = new Map(Object.entries(profile.columns).map(([k, v]) => [normalizeHeader(k), v]));
  const assigned = new Map<string, { index: number; header: string; unit?: string }>();
  const extras: SourcePlan['extras'] = [];
  const notes: string[] = [];
  const pre: string[][] = [];
  let needsRn = false;
  /** Name an expression in a layer of its own; later steps refer to it by name. */
  const stage = (expr: string): string => {
    const name = `_d${pre.length}`;
    pre.push([`${expr} AS ${name}`]);
    return name;
  };
  const derived = new Set<string>([
    ...Object.keys(profile.sum),
    ...Object.keys(profile.key),
    ...Object.keys(profile.derive),
    ...(profile.fiscalYear ? [profile.fiscalYear.column] : []),
  ]);

  const resolve = (norm: string): string[] | undefined => {
    const own = profileCols.get(norm);
    if (own) return own;
    const c = canonical.get(norm) ?? aliases.headers.get(norm);
    return c ? [c] : undefined;
  };
  /** Source header (as written, or normalised) → its index. */
  const headerIndex = new Map<string, number>();
  headers.forEach((h, i) => {
    const n = normalizeHeader(h);
    if (!headerIndex.has(n)) headerIndex.set(n, i);
  });
  let unnamed = 0;

  headers.forEach((header, index) => {
    const norm = normalizeHeader(header);
    if (norm === '') {
      unnamed++;
      return;
    }
    let targets = resolve(norm);
    let unit: string | undefined;
    if (targets === undefined) {
      const split = splitUnitSuffix(norm);
      if (split.unit) {
        targets = resolve(split.base);
        unit = split.unit;
      }
    }
    const live = (targets ?? []).filter((c) => !derived.has(c));
    if (live.length === 0) {
      extras.push({ header, raw: rawRef(index) });
      return;
    }
    for (const target of live) {
      const prev = assigned.get(target);
      if (prev) {
        throw new FiscusError(
          `columns "${prev.header}" and "${header}" both map to ${target} of ${t.name}; ` +
            'rename one or map it explicitly in a mapping profile (--mapping).',
          { code: 'INGEST_COLUMNS' },
        );
      }
      assigned.set(target, { index, header, unit });
    }
  });
  if (unnamed) notes.push(`${unnamed} unnamed column${unnamed > 1 ? 's' : ''} ignored`);

  /** A profile's reference to a source column (by header) or, failing that, to a canonical column's source. */
  const sourceRef = (name: string, what: string): string => {
    const i = headerIndex.get(normalizeHeader(name));
    if (i !== undefined) return rawRef(i);
    const a = assigned.get(name);
    if (a) return rawRef(a.index);
    throw new FiscusError(
      `${what}: "${name}" is not a header of the file${didYouMean(name, headers)}. ` +
        `Headers: ${headers.filter((h) => h.trim()).map((h) => JSON.stringify(h)).join(', ')}`,
      { code: 'INGEST_COLUMNS' },
    );
  };
  const texts = new Map<string, string>();
  const textOf = (ref: string): string => {
    let t = texts.get(ref);
    if (!t) texts.set(ref, (t = stage(normExpr(ref))));
    return t;
  };

  const columns: ColumnPlan[] = [];
  const missing: string[] = [];
  const byName = new Map<string, ColumnPlan>();
  for (const def of t.columns) {
    const src = derived.has(def.name) ? undefined : assigned.get(def.name);
    const constant = profile.constants[def.name];
    if (src && constant !== undefined) {
      throw new FiscusError(
        `${def.name} is both a column of the file ("${src.header}") and a constant of the mapping profile; keep one.`,
        { code: 'INGEST_COLUMNS' },
      );
    }
    let unitExp = 0;
    if (def.type === 'money') {
      const fromHeader = src?.unit !== undefined ? UNIT_WORDS[src.unit] : undefined;
      unitExp = profile.units[def.name] ?? profile.units['*'] ?? fromHeader ?? 0;
      if (fromHeader !== undefined && profile.units[def.name] === undefined && profile.units['*'] === undefined && fromHeader !== 0) {
        notes.push(`${def.name}: ${src!.unit} from header "${src!.header}", converted to 元`);
      }
    }
    const formats = profile.dateFormats[def.name] ?? profile.dateFormats['*'] ?? [];
    const valueMap = def.type === 'enum'
      ? { ...valueAliases(def.name, def.values ?? []), ...lowerKeys(profile.values[def.name] ?? {}) }
      : {};
    const takeDate = profile.takeDate[def.name] ?? profile.takeDate['*'] ?? false;
    const base = {
      def, unitExp, dateFormats: def.type === 'date' ? formats : [], valueMap, years: profile.years, takeDate,
      ...(REGION_COLUMNS.has(def.name) ? { pattern: REGION_PATTERN } : {}),
    };
    let plan: ColumnPlan;
    if (profile.sum[def.name]) {
      const parts = profile.sum[def.name].map((h) => sourceRef(h, `sum.${def.name}`));
      const partPlan: ColumnPlan = { ...base, raw: 'NULL', origin: { kind: 'absent' } };
      const vals = parts.map((r) => stage(slowValueExpr(partPlan, textOf(r), fmt)));
      const allOk = parts.map((r, i) => `(${textOf(r)} IS NULL OR ${vals[i]} IS NOT NULL)`).join(' AND ');
      const anyText = parts.map((r) => `${textOf(r)} IS NOT NULL`).join(' OR ');
      const total = `CAST(CAST(${vals.map((v) => `coalesce(${v}, 0)`).join(' + ')} AS DECIMAL(38,2)) AS VARCHAR)`;
      const raw = stage(`(CASE WHEN NOT (${anyText}) THEN NULL WHEN ${allOk} THEN ${total} ELSE concat_ws(' + ', ${parts.map((r) => `coalesce(${r}, '')`).join(', ')}) END)`);
      plan = { ...base, unitExp: 0, raw, origin: { kind: 'derived', how: `sum of ${profile.sum[def.name].join(' + ')}` } };
    } else if (profile.key[def.name]) {
      const parts = profile.key[def.name].map((h) => `coalesce(${textOf(sourceRef(h, `key.${def.name}`))}, '')`);
      const joined = stage(`concat_ws(chr(31), ${parts.join(', ')})`);
      // Same values, same key; identical rows numbered in file order so each keeps its own key.
      needsRn = true;
      const name = stage(`left(md5(${joined}), 16) || '-' || CAST(row_number() OVER (PARTITION BY ${joined} ORDER BY _rn) AS VARCHAR)`);
      plan = { ...base, raw: name, origin: { kind: 'derived', how: `key from ${profile.key[def.name].join(', ')}` } };
    } else if (profile.derive[def.name]) {
      const e = compileRowExpr(profile.derive[def.name], {
        where: profile.where(['derive', def.name]),
        column: (name) => {
          const i = headerIndex.get(normalizeHeader(name));
          return i === undefined ? undefined : textOf(rawRef(i));
        },
        stage,
        headers,
        fmt,
      });
      plan = { ...base, raw: stage(e), origin: { kind: 'derived', how: profile.derive[def.name] } };
    } else if (profile.fiscalYear?.column === def.name) {
      plan = { ...base, raw: 'NULL::VARCHAR', origin: { kind: 'derived', how: 'fiscal_year' } }; // filled in below
    } else if (src) {
      plan = { ...base, raw: rawRef(src.index), origin: { kind: 'column', header: src.header } };
    } else if (constant !== undefined) {
      plan = { ...base, raw: `${lit(constant)}::VARCHAR`, origin: { kind: 'constant', value: constant } };
    } else {
      plan = { ...base, raw: 'NULL::VARCHAR', origin: { kind: 'absent' } };
    }
    plan.raw = transformRaw(plan.raw, def.name, profile, stage, textOf, (n) => {
      const a = assigned.get(n);
      if (a) return rawRef(a.index);
      return sourceRef(n, `fallback.${def.name}`);
    });
    if (plan.origin.kind === 'absent' && plan.raw !== 'NULL::VARCHAR') plan.origin = { kind: 'derived', how: 'fallback' };
    if (plan.origin.kind === 'absent' && !def.nullable) missing.push(def.name);
    columns.push(plan);
    byName.set(def.name, plan);
  }
  const fy = profile.fiscalYear;
  if (fy) {
    const target = byName.get(fy.column);
    const from = byName.get(fy.from);
    if (target && from) {
      const d = stage(slowValueExpr(from, textOf(from.raw), fmt));
      const shift = fy.startMonth > 1 ? ` - CASE WHEN month(${d}) < ${fy.startMonth} THEN 1 ELSE 0 END${fy.namedBy === 'end' ? ' + 1' : ''}` : '';
      target.raw = stage(`CAST(year(${d})${shift} AS VARCHAR)`);
      target.origin = { kind: 'derived', how: `fiscal year from ${fy.from}, starting in month ${fy.startMonth}` };
    }
  }
  if (missing.length) {
    const unmatched = Object.keys(profile.columns).filter((k) => !headerIndex.has(normalizeHeader(k)));
    const hint = unmatched.length
      ? ` The profile maps ${unmatched.map((k) => `"${k}"${didYouMean(k, headers)}`).join(', ')}, not headers of this file.`
      : '';
    const detail = missing
      .map((m) => `${m} (${(aliases.byColumn.get(m) ?? []).join(' / ') || 'no alias'})`)
      .join('; ');
    const shown = headers.filter((h) => h.trim()).slice(0, 40);
    throw new FiscusError(
      `file refused: required column${missing.length > 1 ? 's' : ''} missing for ${t.name}: ${detail}.${hint} ` +
        `Found headers: ${shown.map((h) => JSON.stringify(h.length > 60 ? `${h.slice(0, 60)}…` : h)).join(', ') || '(none)'}` +
        `${headers.length > shown.length ? ` and ${headers.length - shown.length} more` : ''}. ` +
        'Rename the headers, or map them with a mapping profile (--mapping; `fiscus mapping suggest FILE` drafts one). 文件缺少必填列，已整体拒收。',
      { code: 'INGEST_MISSING_COLUMNS' },
    );
  }
  return { columns, extras, notes, totals: profile.totals, pre, needsRn };
}

export const REGION_PATTERN = {
  re: '[1-9][0-9]{5}',
  en: 'is not a 6-digit GB/T 2260 region code (e.g. 370882; pad short codes with `pad:` in the mapping profile)',
  zh: '不是6位行政区划代码（GB/T 2260）',
};

/** lookups, pad and fallback applied to a column's raw text. */
function transformRaw(
  raw: string,
  col: string,
  profile: MappingProfile,
  stage: (expr: string) => string,
  textOf: (ref: string) => string,
  ref: (name: string) => string,
): string {
  let r = raw;
  const lookup = profile.lookups[col];
  const pad = profile.pad[col];
  const fb = profile.fallback[col];
  if (!lookup && !pad && !fb) return r;
  if (lookup) {
    const n = textOf(r);
    const whens = Object.entries(lookup).map(([k, v]) => `WHEN ${lit(k.trim().toLowerCase())} THEN ${lit(v)}`).join(' ');
    r = stage(`coalesce(CASE lower(${n}) ${whens} END, ${n})`);
  }
  if (pad) {
    const n = textOf(r);
    const fn = pad.side === 'right' ? 'rpad' : 'lpad';
    r = stage(`(CASE WHEN length(${n}) < ${pad.width} THEN ${fn}(${n}, ${pad.width}, ${lit(pad.fill)}) ELSE ${n} END)`);
  }
  if (fb) r = stage(`coalesce(${[r, ...fb.map(ref)].map(textOf).join(', ')})`);
  return r;
}

function lowerKeys(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));
}
