/**
 * The one listing query of flags: a filter (flags/filter.ts), a caller's scope
 * (the API's token scope), one of a few sort orders, and keyset pages — all in
 * SQL, the same text on DuckDB and PostgreSQL. `fiscus flags`, `GET /v1/flags`
 * and the console read through it; `fiscus track list` and the report apply the
 * same filter SQL to the tracker's point-in-time rows (tracker/query.ts).
 *
 * Keyset, not OFFSET: a page asks for the rows after the last one shown
 * (`(k1, k2, flag_id) after (…)` spelled out as OR-chains), so a late page costs
 * the same top-N as the first. Two steps: the page's keys from narrow columns,
 * then only those rows are read whole. The cursor is opaque (base64url JSON of the
 * sort name and the last row's keys) and is validated like any other input.
 */
import { isIsoDate } from '../engine/dates.ts';
import type { JsonRow, Params } from '../engine/db.ts';
import { FiscusError } from '../engine/errors.ts';
import { filterSql, type FlagFilter } from './filter.ts';
import { flagColumns, flagRecordFromRow, type FlagRowRead } from './row.ts';
import type { FlagRecordJson } from './schema.ts';

export const FLAG_SORTS = ['newest', 'oldest', 'severity', 'amount', 'due', 'rule'] as const;
export type FlagSort = (typeof FLAG_SORTS)[number];

interface Key {
  expr: string;
  dir: 'ASC' | 'DESC';
  /** The SQL type the cursor's text value is cast back to. */
  type: string;
}

const SEV_RANK = `CASE f.severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END`;
const SEEN = (dir: 'ASC' | 'DESC'): Key => ({ expr: 'f.first_seen_at', dir, type: 'TIMESTAMPTZ' });
const ID = (dir: 'ASC' | 'DESC'): Key => ({ expr: 'f.flag_id', dir, type: 'VARCHAR' });

/** Every order ends in flag_id, so it is total and pages never overlap. */
const SORT_KEYS: Record<FlagSort, Key[]> = {
  newest: [SEEN('DESC'), ID('DESC')],
  oldest: [SEEN('ASC'), ID('ASC')],
  severity: [{ expr: SEV_RANK, dir: 'DESC', type: 'INTEGER' }, SEEN('DESC'), ID('DESC')],
  amount: [{ expr: 'coalesce(f.amount, CAST(-1 AS DECIMAL(18,2)))', dir: 'DESC', type: 'DECIMAL(18,2)' }, ID('DESC')],
  due: [{ expr: "coalesce(f.due_date, DATE '9999-12-31')", dir: 'ASC', type: 'DATE' }, ID('ASC')],
  rule: [
    { expr: 'f.rule_id', dir: 'ASC', type: 'VARCHAR' },
    { expr: "coalesce(f.period_start, DATE '0001-01-01')", dir: 'ASC', type: 'DATE' },
    { expr: 'f.entity_id', dir: 'ASC', type: 'VARCHAR' },
    ID('ASC'),
  ],
};

const badCursor = (c: string) =>
  new FiscusError(`invalid cursor "${c.slice(0, 80)}" (pass back the next_cursor of the previous page, with the same sort)`, {
    code: 'VALIDATION',
    httpStatus: 400,
    exitCode: 2,
  });

function encodeCursor(sort: FlagSort, vals: readonly string[]): string {
  return Buffer.from(JSON.stringify(['k1', sort, ...vals]), 'utf8').toString('base64url');
}

/** What a key's text must look like before it is cast back: a forged value is a 400, never a failed cast. */
const KEY_TEXT: Record<string, RegExp> = {
  TIMESTAMPTZ: /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)?$/,
  INTEGER: /^-?\d{1,9}$/,
  'DECIMAL(18,2)': /^-?\d{1,16}(\.\d{1,2})?$/,
};

function validKey(type: string, v: string): boolean {
  if (type === 'DATE') return isIsoDate(v);
  if (type === 'TIMESTAMPTZ') return KEY_TEXT.TIMESTAMPTZ!.test(v) && Number.isFinite(Date.parse(v.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00')));
  return KEY_TEXT[type] ? KEY_TEXT[type]!.test(v) : true;
}

function decodeCursor(c: string, sort: FlagSort, keys: readonly Key[]): string[] {
  const n = keys.length;
  try {
    if (!/^[A-Za-z0-9_-]{1,4000}$/.test(c)) throw badCursor(c);
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(v) && v[0] === 'k1' && v[1] === sort && v.length === n + 2 &&
      v.slice(2).every((x, i) => typeof x === 'string' && x.length <= 300 && validKey(keys[i]!.type, x))
    ) {
      return v.slice(2) as string[];
    }
  } catch {
    /* fall through */
  }
  throw badCursor(c);
}

/** Anything that reads rows: a Store, the API's read pool. */
export interface RowReader {
  all<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]>;
}

export interface ListOptions {
  sort?: FlagSort;
  cursor?: string;
  /** Page size; without it, every matching flag. */
  limit?: number;
  /** The caller's scope (api/scope.ts flagScope), ANDed in. */
  scope?: { sql: string; params: Params };
  /** Required with the overdue filter: tracker/deadlines.ts overdueCutoff(calendar, today). */
  overdueCutoff?: string;
  /** Also count every matching flag (all pages). */
  total?: boolean;
}

export interface FlagPage {
  items: FlagRecordJson[];
  next_cursor: string | null;
  total?: number;
}

export async function listFlags(db: RowReader, filter: FlagFilter, opts: ListOptions = {}): Promise<FlagPage> {
  const sort = opts.sort ?? 'newest';
  const keys = SORT_KEYS[sort];
  const where = filterSql(filter, { overdueCutoff: opts.overdueCutoff });
  const conds = [...where.conds];
  const params: Params = { ...where.params };
  if (opts.scope) {
    conds.push(opts.scope.sql);
    Object.assign(params, opts.scope.params);
  }
  const countConds = [...conds];
  const countParams = { ...params };
  if (opts.cursor) {
    const vals = decodeCursor(opts.cursor, sort, keys);
    // (k1, k2, …) after (v1, v2, …), each key in its own direction.
    const ors = keys.map((k, i) => {
      const eqs = keys.slice(0, i).map((p, j) => `${p.expr} = CAST($lc_${j} AS ${p.type})`);
      eqs.push(`${k.expr} ${k.dir === 'DESC' ? '<' : '>'} CAST($lc_${i} AS ${k.type})`);
      return `(${eqs.join(' AND ')})`;
    });
    keys.forEach((_, i) => (params[`lc_${i}`] = vals[i]!));
    conds.push(`(${ors.join(' OR ')})`);
  }
  const whereSql = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
  const order = keys.map((k) => `${k.expr} ${k.dir}`).join(', ');
  let limitSql = '';
  if (opts.limit !== undefined) {
    params.lc_lim = Math.max(0, Math.floor(opts.limit)) + 1;
    limitSql = 'LIMIT $lc_lim';
  }
  const keySelect = keys.map((k, i) => `CAST(${k.expr} AS VARCHAR) AS lc_k${i}`).join(', ');
  const [rows, count] = await Promise.all([
    db.all<FlagRowRead & Record<string, unknown>>(
      `WITH k AS (SELECT f.flag_id, ${keySelect} FROM fiscus.flags f ${whereSql} ORDER BY ${order} ${limitSql})
       SELECT ${keys.map((_, i) => `k.lc_k${i}`).join(', ')}, ${flagColumns('f')} FROM k JOIN (SELECT * FROM fiscus.flags WHERE flag_id IN (SELECT flag_id FROM k)) f ON f.flag_id = k.flag_id
       ORDER BY ${order}`,
      params,
    ),
    opts.total
      ? db.all<{ n: string | number }>(`SELECT count(*) AS n FROM fiscus.flags f ${countConds.length ? `WHERE ${countConds.join(' AND ')}` : ''}`, countParams)
      : Promise.resolve(undefined),
  ]);
  const more = opts.limit !== undefined && rows.length > opts.limit;
  const page = more ? rows.slice(0, opts.limit) : rows;
  const last = page.at(-1);
  return {
    items: page.map(flagRecordFromRow),
    next_cursor: more && last ? encodeCursor(sort, keys.map((_, i) => String(last[`lc_k${i}`]))) : null,
    ...(count ? { total: Number(count[0]?.n ?? 0) } : {}),
  };
}
