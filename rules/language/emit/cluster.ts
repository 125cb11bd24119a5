/**
 * Clusters per partition (gaps and islands): the rows of a partition in date order, cut
 * wherever two consecutive rows are more than `gap` days apart. One finding per cluster;
 * `first.<column>` / `last.<column>` are its first and last row (by date, then `order_by`,
 * then the key). Window functions only: no self-join, no recursion.
 */
import type { ClusterPlan, IR } from '../plan/types.ts';
import { monotoneConditions } from '../passes/prefilter.ts';
import { envelopeExprs } from './envelope.ts';
import { limitedEvidence, quoteSql } from './evidence.ts';
import { columnsRead, emitExpr, relSql, type EmitCtx } from './expr.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource, whereSql } from './source.ts';

export const emitCluster: KindEmitter<ClusterPlan> = (d, p, rule) => {
  const src = emitSource(d, p.source);
  const plain: EmitCtx = { d };
  const primaryRel = relSql(d, p.source.primary);
  const parts = p.partitions.map((x) => emitExpr(x.expr, plain));
  const pk = parts.map((_, i) => `__pk${i}`);
  const ok = p.order.map((_, i) => `__o${i}`);
  const ord = ['__d', ...ok, '__key'];
  const win = `PARTITION BY ${pk.join(', ')} ORDER BY ${ord.join(', ')}`;
  // A cluster's rows are a subset of its partition's: `count() >= k` must hold for the whole
  // partition before the row filter (often a correlated `exists`) is worth running.
  const conds = monotoneConditions(p.source, p.computes, p.having, { countOnly: true }).map((m) => `(${emitExpr(m.compute.expr, plain)} ${m.op} ${emitExpr(m.rhs, plain)})`);
  const ctes: string[] = [];
  let rowsFrom = src.from;
  if (conds.length) {
    ctes.push(d.materialized('fiscus_cp', `SELECT ${parts.map((x, i) => `${x} AS ${pk[i]}`).join(', ')} FROM ${src.from}${whereSql(src.base)}
        GROUP BY ${parts.join(', ')} HAVING ${conds.join(' AND ')}`));
    rowsFrom = `${src.from} ${d.semiJoin} fiscus_cp AS cp ON ${parts.map((x, i) => `cp.${pk[i]} = ${x}`).join(' AND ')}`;
  }
  ctes.push(
    d.materialized('fiscus_cr', `SELECT ${[
      `${src.key} AS __key`,
      ...parts.map((x, i) => `${x} AS ${pk[i]}`),
      `${emitExpr(p.date, plain)} AS __d`,
      ...p.order.map((o, i) => `${emitExpr(o.expr, plain)} AS ${ok[i]}`),
    ].join(', ')} FROM ${rowsFrom}${whereSql(src.where)}`),
    `fiscus_cn AS (SELECT *, CASE WHEN lag(__d) OVER (${win}) IS NULL OR __d - lag(__d) OVER (${win}) > CAST(${emitExpr(p.gap, plain)} AS INTEGER) THEN 1 ELSE 0 END AS __new FROM fiscus_cr)`,
    `fiscus_cl AS (SELECT *, sum(__new) OVER (${win} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __cid FROM fiscus_cn)`,
  );
  // first./last. columns the finding reads: aggregated over the cluster's rows in order.
  const rowOrder = ['cl.__d', ...ok.map((o) => `cl.${o}`), 'cl.__key'];
  const isEnd = (alias: string, rel: string) => (alias === 'first' && rel === '__first__') || (alias === 'last' && rel === '__last__');
  const ends = new Map<string, string>();
  const finding: (IR | undefined)[] = [p.having, ...envelopeExprs(rule.envelope)];
  for (const e of finding) {
    for (const { row, col } of columnsRead(e, (r) => isEnd(r.alias, r.rel)).values()) {
      const c = `${primaryRel}.${d.ident(col)}`;
      ends.set(`__${row.alias}_${col}`, row.alias === 'first' ? d.firstOf(c, rowOrder) : d.lastOf(c, rowOrder));
    }
  }
  const ctx: EmitCtx = { d, column: (row, col) => (isEnd(row.alias, row.rel) ? `c.${d.ident(`__${row.alias}_${col}`)}` : undefined) };
  ctes.push(`fiscus_c AS (SELECT ${[
    ...pk.map((k) => `cl.${k} AS ${k}`),
    'cl.__cid AS __cid',
    'min(cl.__d) AS __start',
    'max(cl.__d) AS __end',
    'count(*) AS __n',
    `${d.orderedList('cl.__key', rowOrder)} AS __keys`,
    ...p.computes.map((x) => `${emitExpr(x.expr, plain)} AS ${d.ident(x.name)}`),
    ...[...ends].map(([n, sql]) => `${sql} AS ${d.ident(n)}`),
  ].join(', ')}
        FROM ${src.from} JOIN fiscus_cl AS cl ON cl.__key = ${src.key}
        GROUP BY ${[...pk.map((k) => `cl.${k}`), 'cl.__cid'].join(', ')})`);
  // More than EVIDENCE_LIMIT rows: a query listing the partition's rows in the cluster's dates.
  const primary = p.source.primary;
  const q = [
    ...p.partitions.flatMap((x, i) => (x.expr.k === 'col' && x.expr.row.alias === primary.alias ? [`'${x.expr.col.name} = ' || ${quoteSql(`c.${pk[i]}`, x.expr.type)}`] : [])),
    ...(p.date.k === 'col' && p.date.row.alias === primary.alias
      ? [`'${p.date.col.name} BETWEEN ' || ${quoteSql('c.__start', 'date')} || ' AND ' || ${quoteSql('c.__end', 'date')}`]
      : []),
  ];
  const query = `'SELECT * FROM ${primary.table.name}${q.length ? ' WHERE ' : ''}'${q.length ? ` || ${q.join(` || ' AND ' || `)}` : ''}`;
  const ev = limitedEvidence(d, primary.table.name, 'c.__n', () => 'c.__keys', query);
  return { ctes, from: 'fiscus_c AS c', where: p.having ? [emitExpr(p.having, ctx)] : [], ctx, ...ev, preconditions: [] };
};
