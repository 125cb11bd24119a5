/**
 * A correlated aggregate a row-level finding reads more than once, computed once.
 *
 * A `let:` is inlined wherever it is used, so `spent: sum(s.amount for s in debt.spending
 * where …)` read by the condition, the measure, the amount and two title values is five
 * copies of one correlated subquery, and DuckDB decorrelates every copy into a join and an
 * aggregation of its own: debt.idle_proceeds took 16 ms at 100k payments against the
 * hand-written query's 6. Such an aggregate becomes one `CROSS JOIN LATERAL` after the
 * source's FROM, and each use reads its column. An aggregate subquery without GROUP BY gives
 * exactly one row per outer row, so the join neither drops nor repeats a row; PostgreSQL
 * runs the same LATERAL. An aggregate used once stays where it is.
 */
import type { Dialect } from '../dialects/types.ts';
import type { IR, RowRef, RulePlan } from '../plan/types.ts';
import { forEachNode } from '../plan/walk.ts';
import { columnsRead, emitExpr, subquerySelect, type EmitCtx } from './expr.ts';

type AggregateSub = Extract<IR, { k: 'sub' }> & { mode: 'agg' };

export interface Hoisted {
  /** Renders each hoisted aggregate as its LATERAL's column; everything else as before. */
  ctx: EmitCtx;
  /** ` CROSS JOIN LATERAL (…) AS __h0 …`, to append to the source's FROM ('' when none repeats). */
  joins: string;
}

/**
 * Hoist the aggregates `exprs` read more than once. `joinedLater`: relations joined after the
 * source's FROM (the rule-level lookups); an aggregate reading one of them stays inline,
 * because the LATERAL could not see it.
 */
export function hoistRepeatedAggregates(d: Dialect, exprs: readonly (IR | undefined)[], joinedLater: ReadonlySet<string>): Hoisted {
  const base: EmitCtx = { d };
  const uses = new Map<string, { n: number; sub: AggregateSub }>();
  forEachNode(exprs, (n) => {
    if (n.k !== 'sub' || n.mode !== 'agg') return;
    const sql = emitExpr(n, base);
    const u = uses.get(sql);
    if (u) u.n++;
    else uses.set(sql, { n: 1, sub: n as AggregateSub });
  });
  const columns = new Map<string, string>();
  const joins: string[] = [];
  for (const [sql, { n, sub }] of uses) {
    if (n < 2 || readsAny(sub, joinedLater)) continue;
    const rel = `__h${joins.length}`;
    joins.push(` CROSS JOIN LATERAL (${subquerySelect(sub, base, 'v')}) AS ${rel}`);
    columns.set(sql, `${rel}.v`);
  }
  if (!joins.length) return { ctx: base, joins: '' };
  const ctx: EmitCtx = { d, node: (n) => (n.k === 'sub' && n.mode === 'agg' ? columns.get(emitExpr(n, base)) : undefined) };
  return { ctx, joins: joins.join('') };
}

/** The relations a finding joins after its source's FROM: the rule-level lookups. */
export function joinedAfterSource(rule: Pick<RulePlan, 'envelope'>): ReadonlySet<string> {
  return new Set(rule.envelope.lookups.map((l) => l.rel));
}

function readsAny(sub: AggregateSub, rels: ReadonlySet<string>): boolean {
  return columnsRead(sub, (row: RowRef) => rels.has(row.rel)).size > 0;
}
