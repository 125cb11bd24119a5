/**
 * Which source column feeds which canonical column.
 *
 * A source header matches, in order: the profile's `columns`, the canonical
 * snake_case name (any case), a built-in alias (the feed label or a common
 * variant), each also with a unit suffix such as `金额(万元)`. Everything else
 * goes to `extra`. A file missing a required column is refused whole, naming
 * the column and the headers that would have matched it.
 */
import { FiscusError } from '../engine/errors.ts';
import type { TableDef } from '../engine/feeds.ts';
import { normalizeHeader, splitUnitSuffix, tableAliases, valueAliases } from './aliases.ts';
import type { ColumnPlan } from './convert-sql.ts';
import type { MappingProfile } from './mapping.ts';
import { lit } from './sql-text.ts';

export interface SourcePlan {
  columns: ColumnPlan[];
  /** Source columns kept in `extra`: header and its raw column reference. */
  extras: { header: string; raw: string }[];
  /** Human notes for the batch message (e.g. a unit taken from a header). */
  notes: string[];
}

/** `rawRef(i)` is the SQL reference of the i-th source column. */
export function planColumns(
  t: TableDef,
  headers: readonly string[],
  profile: MappingProfile,
  rawRef: (i: number) => string,
): SourcePlan {
  const aliases = tableAliases(t);
  const canonical = new Map(t.columns.map((c) => [c.name.toLowerCase(), c.name]));
  const profileCols = new Map(Object.entries(profile.columns).map(([k, v]) => [normalizeHeader(k), v]));
  const assigned = new Map<string, { index: number; header: string; unit?: '元' | '万元' }>();
  const extras: SourcePlan['extras'] = [];
  const notes: string[] = [];

  const resolve = (norm: string): string | undefined =>
    profileCols.get(norm) ?? canonical.get(norm) ?? aliases.headers.get(norm);

  headers.forEach((header, index) => {
    const norm = normalizeHeader(header);
    let target = resolve(norm);
    let unit: '元' | '万元' | undefined;
    if (target === undefined) {
      const split = splitUnitSuffix(norm);
      if (split.unit) {
        target = resolve(split.base);
        unit = split.unit;
      }
    }
    if (target === undefined) {
      extras.push({ header, raw: rawRef(index) });
      return;
    }
    const prev = assigned.get(target);
    if (prev) {
      throw new FiscusError(
        `columns "${prev.header}" and "${header}" both map to ${target} of ${t.name}; ` +
          'rename one or map it explicitly in a mapping profile (--mapping).',
        { code: 'INGEST_COLUMNS' },
      );
    }
    assigned.set(target, { index, header, unit });
  });

  const columns: ColumnPlan[] = [];
  const missing: string[] = [];
  for (const def of t.columns) {
    const src = assigned.get(def.name);
    const constant = profile.constants[def.name];
    if (src && constant !== undefined) {
      throw new FiscusError(
        `${def.name} is both a column of the file ("${src.header}") and a constant of the mapping profile; keep one.`,
        { code: 'INGEST_COLUMNS' },
      );
    }
    let unit: 1 | 10000 = 1;
    if (def.type === 'money') {
      const u = profile.units[def.name] ?? profile.units['*'] ?? src?.unit ?? '元';
      unit = u === '万元' ? 10000 : 1;
      if (src?.unit === '万元' && profile.units[def.name] === undefined && profile.units['*'] === undefined) {
        notes.push(`${def.name}: 万元 from header "${src.header}", converted to 元`);
      }
    }
    const fmt = profile.dateFormats[def.name] ?? profile.dateFormats['*'];
    const valueMap = def.type === 'enum'
      ? { ...valueAliases(def.name, def.values ?? []), ...lowerKeys(profile.values[def.name] ?? {}) }
      : {};
    const takeDate = profile.takeDate[def.name] ?? profile.takeDate['*'] ?? false;
    const base = { def, unit, dateFormats: fmt ? [fmt] : [], valueMap, years: profile.years, takeDate };
    if (src) {
      columns.push({ ...base, raw: rawRef(src.index), origin: { kind: 'column', header: src.header } });
    } else if (constant !== undefined) {
      columns.push({ ...base, raw: `${lit(constant)}::VARCHAR`, origin: { kind: 'constant', value: constant } });
    } else {
      if (!def.nullable) missing.push(def.name);
      columns.push({ ...base, raw: 'NULL::VARCHAR', origin: { kind: 'absent' } });
    }
  }
  if (missing.length) {
    const detail = missing
      .map((m) => `${m} (${(aliases.byColumn.get(m) ?? []).join(' / ') || 'no alias'})`)
      .join('; ');
    throw new FiscusError(
      `file refused: required column${missing.length > 1 ? 's' : ''} missing for ${t.name}: ${detail}. ` +
        `Found headers: ${headers.map((h) => JSON.stringify(h)).join(', ') || '(none)'}. ` +
        'Rename the headers, or map them with a mapping profile (--mapping). 文件缺少必填列，已整体拒收。',
      { code: 'INGEST_MISSING_COLUMNS' },
    );
  }
  return { columns, extras, notes };
}

function lowerKeys(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));
}
