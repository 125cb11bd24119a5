/**
 * Consecutive rows: each row of a partition with the row before it (`prev.column`),
 * ordered by `order_by`: LAG window functions over the filtered rows.
 */
import type { IR, SequencePlan } from '../plan/types.ts';
import { needsPreviousRow } from '../passes/prefilter.ts';
import { columnsRead, emitExpr, relSql, type EmitCtx } from './expr.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource, whereSql } from './source.ts';
import { envelopeExprs } from './envelope.ts';

export const emitSequence: KindEmitter<SequencePlan> = (d, p, rule) => {
  const src = emitSource(d, p.source);
  const plain: EmitCtx = { d };
  const primary = relSql(d, p.source.primary);
  // The `prev.` columns the having condition and the envelope read, each a LAG column.
  const finding: (IR | undefined)[] = [p.having, ...envelopeExprs(rule.envelope)];
  const prevCols = new Map<string, string>();
  for (const e of finding) {
    for (const { col } of columnsRead(e, (row) => row.alias === 'prev' && row.rel === '__prev__').values()) {
      prevCols.set(`__prev_${col}`, `${primary}.${d.ident(col)}`);
    }
  }
  const ctx: EmitCtx = { d, column: (row, col) => (row.alias === 'prev' && row.rel === '__prev__' ? `sq.${d.ident(`__prev_${col}`)}` : undefined) };
  const win = `(PARTITION BY ${p.partitions.map((x) => emitExpr(x.expr, plain)).join(', ')} ORDER BY ${p.order.map((x) => emitExpr(x.expr, plain)).join(', ')})`;
  // `prev.x is not null` needs a partition of at least two rows: find those partitions first
  // (cheap grouping) so the row filter (often a correlated `exists`) only runs on candidates.
  const needsPrev = needsPreviousRow(p.having);
  const pcols = p.partitions.map((x, i) => ({ sql: emitExpr(x.expr, plain), name: `__pk${i}` }));
  const ctes = [
    ...(needsPrev
      ? [d.materialized('fiscus_seqp', `SELECT ${pcols.map((c) => `${c.sql} AS ${c.name}`).join(', ')} FROM ${src.from}${whereSql(src.base)}
            GROUP BY ${pcols.map((c) => c.sql).join(', ')} HAVING count(*) >= 2`)]
      : []),
    `fiscus_seq AS (SELECT ${[`${src.key} AS __key`, ...[...prevCols].map(([n, c]) => `lag(${c}) OVER ${win} AS ${d.ident(n)}`)].join(', ')}
        FROM ${src.from}${needsPrev ? ` ${d.semiJoin} fiscus_seqp AS sp ON ${pcols.map((c) => `sp.${c.name} = ${c.sql}`).join(' AND ')}` : ''}${whereSql(src.where)})`,
  ];
  return {
    ctes, from: `${src.from} JOIN fiscus_seq AS sq ON sq.__key = ${src.key}`, where: p.having ? [emitExpr(p.having, ctx)] : [], ctx,
    evidence: d.evidence(p.source.primary.table.name, d.listOf([src.key])), evidenceQuery: 'NULL', preconditions: [],
  };
};
