/** Benford's first-digit test per group: mean |observed share − log10(1 + 1/d)| over d = 1..9. */
import type { BenfordPlan } from '../plan/types.ts';
import { evidenceQuery, limitedEvidence } from './evidence.ts';
import { emitExpr, type EmitCtx } from './expr.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource, plainColumns, whereOfGroupRows, whereSql } from './source.ts';
import { sameKey } from './grouped.ts';
import { keyMayBeNull } from '../passes/never-null.ts';
import { isIntegerType } from './types.ts';

export const emitBenford: KindEmitter<BenfordPlan> = (d, p) => {
  const src = emitSource(d, p.source);
  const c: EmitCtx = { d };
  const groups = p.groups.map((x) => ({ name: x.name, sql: emitExpr(x.expr, c), nullable: keyMayBeNull(x, p.source) }));
  const digit = d.firstDigit(emitExpr(p.value, c), isIntegerType(p.value.type));
  const g = groups.map((x) => d.ident(x.name));
  // One row per group with the nine digits' counts side by side: grouping by the digit too made
  // nine times the groups, and at 10M payments the rule took 0.58 s against 0.39 s this way.
  const digits = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const share = (k: number) => `abs(__c${k} / ${d.cast('__n', 'number')} - log10(1 + 1 / ${d.cast(String(k), 'number')}))`;
  const ctes = [
    // A row without a first digit (an amount below 1) is in no count; a group judged has one at least.
    `fiscus_bn AS (SELECT ${g.join(', ')}, ${digits.map((k) => `${d.countWhere(`__digit = ${k}`)} AS __c${k}`).join(', ')}, count(__digit) AS __n
        FROM (SELECT ${groups.map((x) => `${x.sql} AS ${d.ident(x.name)}`).join(', ')}, ${digit} AS __digit
          FROM ${src.from}${whereSql(src.where)}) __s
        GROUP BY ${g.join(', ')} HAVING count(__digit) > 0 AND count(__digit) >= ${emitExpr(p.minCount, c)})`,
    `fiscus_bm AS (SELECT ${g.join(', ')}, __n, (${digits.map(share).join(' + ')}) / 9 AS __mad FROM fiscus_bn)`,
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
    preconditions: [{ ctes: ctes.slice(0, 1), sql: 'SELECT EXISTS (SELECT 1 FROM fiscus_bn) AS ok' }],
  };
};
