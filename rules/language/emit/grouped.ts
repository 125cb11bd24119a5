/** A grouped side as a CTE, with its evidence keys (aggregate kind, each side of compare) and `at:` dates. */
import type { TableDef } from '../../../engine/feeds.ts';
import type { Dialect } from '../dialects/types.ts';
import type { AtDates, GroupedPlan } from '../plan/types.ts';
import { AS_OF_COLUMNS, asOfParam } from './as-of.ts';
import { emitExpr, type EmitCtx } from './expr.ts';
import { emitSource, plainColumns, whereOfGroupRows, whereSql, type EmittedSource } from './source.ts';
import { keyMayBeNull } from '../passes/never-null.ts';
import { isAt, rolledUpAtSide } from './at-rollup.ts';

/**
 * Two group keys that must match: `=` where one side can never be NULL (the same rows in a
 * join or filter, and hashable everywhere), `IS NOT DISTINCT FROM` where both can (a NULL
 * group meets its NULL twin; PostgreSQL then cannot hash the join).
 */
export function sameKey(a: string, b: string, bothNullable: boolean): string {
  return bothNullable ? `${a} IS NOT DISTINCT FROM ${b}` : `${a} = ${b}`;
}

export interface EmittedSide {
  cte: string;
  src: EmittedSource;
  plain: ReturnType<typeof plainColumns>;
  /** The sorted keys of the rows of the group `ref` (a correlated subquery, run for findings only). */
  /** The keys of the group `ref` names, as a correlated subquery (`cap`: a further condition on `ref`). */
  evidenceKeys(ref: string, cap?: string): string;
}

export function emitGrouped(d: Dialect, side: GroupedPlan, cteName: string, atDates: AtDates | undefined): EmittedSide {
  const at = atDates !== undefined;
  const c = { d };
  const src = emitSource(d, side.source);
  const groups = side.groups.map((g) => ({ name: g.name, sql: emitExpr(g.expr, c), nullable: keyMayBeNull(g, side.source) }));
  const cols = [
    ...(at ? ['fiscus_at.at AS "at"'] : []),
    ...groups.map((g) => `${g.sql} AS ${d.ident(g.name)}`),
    ...side.computes.map((x) => `${emitExpr(x.expr, c)} AS ${d.ident(x.name)}`),
    'count(*) AS __n',
  ];
  const groupBy = [...(at ? ['fiscus_at.at'] : []), ...groups.map((g) => g.sql)];
  const from = at ? `fiscus_at CROSS JOIN ${src.from}` : src.from;
  const cte = (atDates && rolledUpAtSide(d, side, cteName, atDates, src))
    || `${cteName} AS (SELECT ${cols.join(', ')} FROM ${from}${whereSql(src.where)} GROUP BY ${groupBy.join(', ')})`;
  // Evidence keys are listed for the findings only (a correlated subquery over the same rows),
  // not for every group: listing keys of every group costs more than the rule itself.
  const evidenceKeys = (ref: string, cap?: string) => {
    const keyed = (ev: EmittedSource, keys: readonly { sql: string; name: string; nullable: boolean }[], evFrom: string) =>
      `(SELECT ${d.keyList(ev.key)} FROM ${evFrom} WHERE ${[
        ...whereOfGroupRows(ev),
        ...keys.map((k) => sameKey(k.sql, `${ref}.${d.ident(k.name)}`, k.nullable)),
        ...(cap ? [cap] : []),
      ].join(' AND ')})`;
    if (!at) return keyed(src, groups, from);
    // An `at:` side's finding names its evaluation date: the rows are read at that date, not
    // joined to every date and then matched with it. At 10M payments execution_lag's evidence
    // joined each general-fund payment to the eight quarter ends first (498 ms with the
    // evidence, 293 ms without; 100k: 35 / 18 ms). The same reading when nothing else names the
    // dates CTE; otherwise (a lookup's condition on `at`) the join stays.
    const atOf: EmitCtx = { d, node: (n) => (isAt(n) ? `${ref}.${d.ident('at')}` : undefined) };
    const ev = emitSource(d, side.source, atOf);
    const keys = side.groups.map((g, i) => ({ ...groups[i]!, sql: emitExpr(g.expr, atOf) }));
    const direct = keyed(ev, keys, ev.from);
    return direct.includes('fiscus_at') ? keyed(src, [{ sql: 'fiscus_at.at', name: 'at', nullable: false }, ...groups], from) : direct;
  };
  return { cte, src, plain: plainColumns(side.groups, side.source.primary.alias), evidenceKeys };
}

const MONTHS: Record<AtDates, string> = {
  quarter_ends: '(3),(6),(9),(12)',
  month_ends: '(1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11),(12)',
  year_ends: '(12)',
};

/** Evaluation dates (`at: quarter_ends`): a CTE of dates ≤ as-of, from the first year in the table. */
export function atDatesCte(d: Dialect, at: AtDates, table: TableDef): string {
  const col = d.ident(AS_OF_COLUMNS[table.name]!.column);
  const asOf = asOfParam(d);
  const end = d.lastDayOfMonth(d.makeDate('y.range', 'm.m', '1'));
  return `fiscus_at AS (SELECT CAST(${end} AS DATE) AS at
      FROM ${d.integerRange(`coalesce((SELECT ${d.year(`min(${col})`)} FROM ${d.table(table.schema, table.table)} WHERE ${col} <= ${asOf}), ${d.year(asOf)})`, `${d.year(asOf)} + 1`, 'y')},
      (VALUES ${MONTHS[at]}) m(m)
      WHERE ${end} <= ${asOf})`;
}
