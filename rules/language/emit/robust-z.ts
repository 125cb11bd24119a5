/** Robust z-scores: (value − peer median) / (scale × peer MAD) within each peer group of the minimum size. */
import type { Named, RobustZPlan, SourcePlan } from '../plan/types.ts';
import { columnsRead, emitExpr, type EmitCtx } from './expr.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource } from './source.ts';
import { sameKey } from './grouped.ts';
import { keyMayBeNull } from '../passes/never-null.ts';
import { withLookupsRead } from '../passes/lookups.ts';
import { zFloor } from '../passes/prefilter.ts';

export const emitRobustZ: KindEmitter<RobustZPlan> = (d, p) => {
  const src = emitSource(d, p.source);
  const c: EmitCtx = { d };
  const groups = p.groups.map((x) => ({ name: x.name, sql: emitExpr(x.expr, c), nullable: keyMayBeNull(x, p.source) }));
  const g = groups.map((x) => d.ident(x.name));
  const v = d.cast(emitExpr(p.value, c), 'number');
  // The peer statistics read only the lookups their groups, value and `where` use.
  const peers = emitSource(d, withLookupsRead(p.source, [p.groups, p.value]));
  // Rows without a value stay in: median and MAD skip NULLs and the counts count values, so
  // the value (a logarithm per row) is not computed a second time to filter them out.
  const zv = `fiscus_zv AS (SELECT ${groups.map((x) => `${x.sql} AS ${d.ident(x.name)}`).join(', ')}, ${v} AS __v
        FROM ${peers.from}${peers.where.length ? ` WHERE ${peers.where.join(' AND ')}` : ''})`;
  const big = `HAVING count(__v) >= ${emitExpr(p.minSize, c)}`;
  const floor = zFloor(p);
  // The lowest x that can pass `z > k` (passes/prefilter.ts): exp(median + k·s·MAD), a relative
  // 1e-9 lower for rounding. PostgreSQL raises where exp over- or underflows: above e^700 the
  // floor stays at e^700 (lower, so it keeps more), below e^-700 it is 0 (every positive x).
  const floorOf = (med: string, mad: string) => {
    if (!floor) return '';
    const k = `(${emitExpr(floor.rhs, c)}) * ${emitExpr(p.scale, c)} * ${mad}`;
    const lo = `(${med} + ${k} - 1e-9 * (abs(${med}) + abs(${k}) + 1))`;
    return `, CASE WHEN ${lo} < -700 THEN 0 ELSE exp(least(${lo}, 700)) END AS __xmin`;
  };
  // With a MAD aggregate, median and MAD in one pass over each group (at 10M payments 1.5 s -> 1.1 s
  // for amount_outlier); otherwise the MAD is a second pass, joined to the medians.
  const ctes = d.mad
    ? [zv, `fiscus_zs AS (SELECT ${g.join(', ')}, ${d.median('__v')} AS __med, count(__v) AS __n, ${d.mad('__v')} AS __mad${floorOf(d.median('__v'), d.mad('__v'))}
        FROM fiscus_zv GROUP BY ${g.join(', ')} ${big})`]
    : [
      zv,
      `fiscus_zm AS (SELECT ${g.join(', ')}, ${d.median('__v')} AS __med, count(__v) AS __n FROM fiscus_zv GROUP BY ${g.join(', ')} ${big})`,
      `fiscus_zs AS (SELECT ${g.map((x) => `m.${x}`).join(', ')}, m.__med, m.__n, ${d.median('abs(v.__v - m.__med)')} AS __mad${floorOf('m.__med', d.median('abs(v.__v - m.__med)'))}
        FROM fiscus_zv v JOIN fiscus_zm m ON ${groups.map((x) => sameKey(`v.${d.ident(x.name)}`, `m.${d.ident(x.name)}`, x.nullable)).join(' AND ')}
        GROUP BY ${g.map((x) => `m.${x}`).join(', ')}, m.__med, m.__n)`,
    ];
  // A row under its group's floor cannot pass `having`: one comparison, then the exact z-score.
  const aboveFloor = floor ? [`${d.cast(emitExpr(floor.arg, c), 'number')} > zs.__xmin`] : [];
  // "Some peer group is big enough" needs the counts only.
  const groupsBigEnough = `fiscus_zm AS (SELECT ${g.join(', ')} FROM fiscus_zv GROUP BY ${g.join(', ')} ${big})`;
  // The peer statistics join the row before its lookups do, when the groups read the row alone:
  // the z-score's filter (which reads the row and zs) then runs below the lookups' joins, and a
  // lookup joins the few outliers, not every row (amount_outlier at 10M payments: ag's LEFT JOIN
  // probed all 10M rows). Joins on conditions that do not read each other commute.
  const peerJoin = `JOIN fiscus_zs AS zs ON ${groups.map((x) => sameKey(`zs.${d.ident(x.name)}`, x.sql, x.nullable)).join(' AND ')}`;
  const from = readsOnlyRow(p.groups, p.source)
    ? `${src.table} ${peerJoin}${src.joins}`
    : `${src.from} ${peerJoin}`;
  return {
    ctes, from, where: [...src.where, ...aboveFloor, ...(p.having ? [emitExpr(p.having, c)] : [])], ctx: c,
    evidence: d.evidence(p.source.primary.table.name, d.listOf([src.key])), evidenceQuery: 'NULL',
    preconditions: [{ ctes: [zv, groupsBigEnough], sql: 'SELECT EXISTS (SELECT 1 FROM fiscus_zm) AS ok' }],
  };
};

/** Whether the named expressions read no row but the source's own (no lookup, no other table). */
function readsOnlyRow(named: readonly Named[], s: SourcePlan): boolean {
  return named.every((n) => columnsRead(n.expr, (row) => row.alias !== s.primary.alias).size === 0);
}
