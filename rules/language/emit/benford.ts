/** Benford's first-digit test per group: mean |observed share − log10(1 + 1/d)| over d = 1..9. */
import type { BenfordPlan } from '../plan/types.ts';
import { evidenceQuery, limitedEvidence } from './evidence.ts';
import { emitExpr, type EmitCtx } from './expr.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource, plainColumns, whereOfGroupRows } from './source.ts';
import { sameKey } from './grouped.ts';
import { keyMayBeNull } from '../passes/never-null.ts';
import { isIntegerType } from './types.ts';

export const emitBenford: KindEmitter<BenfordPlan> = (d, p) => {
  const src = emitSource(d, p.source);
  const c: EmitCtx = { d };
  const groups = p.groups.map((x) => ({ name: x.name, sql: emitExpr(x.expr, c), nullable: keyMayBeNull(x, p.source) }));
  const digit = d.firstDigit(emitExpr(p.value, c), isIntegerType(p.value.type));
  const g = groups.map((x) => d.ident(x.name));
  const ctes = [
    `fiscus_bd AS (SELECT ${groups.map((x) => `${x.sql} AS ${d.ident(x.name)}`).join(', ')}, ${digit} AS __digit, count(*) AS __c
        FROM ${src.from} WHERE ${[...src.where, `${digit} IS NOT NULL`].join(' AND ')}
        GROUP BY ${[...groups.map((x) => x.sql), digit].join(', ')})`,
    `fiscus_bn AS (SELECT ${g.join(', ')}, sum(__c) AS __n FROM fiscus_bd GROUP BY ${g.join(', ')} HAVING sum(__c) >= ${emitExpr(p.minCount, c)})`,
    `fiscus_bm AS (SELECT ${g.map((x) => `n.${x}`).join(', ')}, n.__n,
        sum(abs(coalesce(d.__c, 0) / ${d.cast('n.__n', 'number')} - log10(1 + 1 / ${d.cast('dg.digit', 'number')}))) / 9 AS __mad
        FROM fiscus_bn n CROSS JOIN (SELECT range AS digit FROM ${d.integerRange('1', '10', '__r')}) dg
        LEFT JOIN fiscus_bd d ON ${groups.map((x) => sameKey(`d.${d.ident(x.name)}`, `n.${d.ident(x.name)}`, x.nullable)).join(' AND ')} AND d.__digit = dg.digit
        GROUP BY ${g.map((x) => `n.${x}`).join(', ')}, n.__n)`,
  ];
  const keys = (cap: string) => `(SELECT ${d.keyList(src.key)} FROM ${src.from} WHERE ${[
    ...whereOfGroupRows(src),
    `${digit} IS NOT NULL`,
    ...groups.map((x) => sameKey(x.sql, `__b.${d.ident(x.name)}`, x.nullable)),
    cap,
  ].join(' AND ')})`;
  const table = p.source.primary.table;
  const ev = limitedEvidence(d, table.name, '__b.__n', keys, evidenceQuery(d, table, plainColumns(p.groups, p.source.primary.alias), '__b'));
  return {
    ctes, from: 'fiscus_bm AS __b', where: p.having ? [emitExpr(p.having, c)] : [], ctx: c, ...ev,
    preconditions: [{ ctes: ctes.slice(0, 2), sql: 'SELECT EXISTS (SELECT 1 FROM fiscus_bn) AS ok' }],
  };
};
