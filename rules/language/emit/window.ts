/**
 * Sliding windows per partition: one window per distinct start date, holding the rows of
 * its partition dated within the span. Only maximal windows are reported, each with its
 * rows as evidence.
 *
 * When every compute is a plain count, sum, min or max, the windows are SQL window frames
 * (`RANGE BETWEEN CURRENT ROW AND span FOLLOWING` over the day number): linear in the rows.
 * Otherwise (a median, a distinct count, a filtered or composite aggregate) every start date
 * joins its partition's rows in the span, and the computes are plain aggregates; that join
 * is quadratic in a partition's rows, and at 10M payments split_payment spent 7 s in it
 * (the frame form: see STACK-NOTES). Findings are few, so their evidence is always listed
 * by the join.
 */
import type { IR, RowRef, WindowPlan } from '../plan/types.ts';
import { monotoneConditions } from '../passes/prefilter.ts';
import { columnsRead, emitExpr, relSql, type EmitCtx } from './expr.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource, whereSql, windowSpan } from './source.ts';

export const emitWindow: KindEmitter<WindowPlan> = (d, p) => {
  const src = emitSource(d, p.source);
  const plain: EmitCtx = { d };
  // Computes read the columns they need from the row CTE.
  const rows = new Set([p.source.primary.alias, ...p.source.lookups.map((l) => l.alias)]);
  const accept = (row: RowRef) => rows.has(row.alias) && row.quoted;
  const used = new Map<string, string>();
  for (const x of p.computes) {
    for (const { row, col } of columnsRead(x.expr, accept).values()) used.set(`__c_${row.alias}_${col}`, `${relSql(d, row)}.${d.ident(col)}`);
  }
  const rowCtx: EmitCtx = { d, column: (row, col) => (accept(row) ? `q.${d.ident(`__c_${row.alias}_${col}`)}` : undefined) };
  const pk = p.partitions.map((x) => d.ident(x.name));
  const span = windowSpan(p.within, plain);
  const conds = monotoneConditions(p.source, p.computes, p.having).map((m) => `(${emitExpr(m.compute.expr, rowCtx)} ${m.op} ${emitExpr(m.rhs, plain)})`);
  const ctes: string[] = [
    d.sourceRows('fiscus_wq', `SELECT ${[
      ...p.partitions.map((x) => `${emitExpr(x.expr, plain)} AS ${d.ident(x.name)}`),
      `${emitExpr(p.date, plain)} AS __d`,
      `${src.key} AS __key`,
      ...[...used].map(([n, direct]) => `${direct} AS ${d.ident(n)}`),
    ].join(', ')} FROM ${src.from}${whereSql(src.where)}`, !!(p.source.deltaColumns || p.source.deltaByBatch)),
    // A window's rows are a subset of its partition's: a count (or a sum of values the source
    // keeps non-negative) that must reach a threshold must reach it over the whole partition
    // too. Partitions that cannot are skipped before the windows are formed.
    ...(conds.length ? [`fiscus_wp AS (SELECT ${pk.join(', ')} FROM fiscus_wq AS q GROUP BY ${pk.join(', ')} HAVING ${conds.join(' AND ')})`] : []),
  ];
  const kept = conds.length ? `fiscus_wq AS q ${d.semiJoin} fiscus_wp AS wp ON ${pk.map((k) => `q.${k} = wp.${k}`).join(' AND ')}` : 'fiscus_wq AS q';
  if (p.computes.every((x) => frameable(x.expr))) {
    const computes = p.computes.map((x) => `${emitExpr(x.expr, rowCtx)} OVER fiscus_frame AS ${d.ident(x.name)}`);
    ctes.push(framed(pk, span, computes, kept, d.daysBetween(d.dateLiteral('1970-01-01'), 'q.__d')));
  } else {
    ctes.push(
      `fiscus_ws AS (SELECT DISTINCT ${pk.map((k) => `q.${k}`).join(', ')}, q.__d FROM ${kept})`,
      `fiscus_w AS (SELECT ${[
        ...pk.map((k) => `st.${k} AS ${k}`),
        'st.__d AS __start',
        'max(q.__d) AS __end',
        ...p.computes.map((x) => `${emitExpr(x.expr, rowCtx)} AS ${d.ident(x.name)}`),
        'count(*) AS __n',
      ].join(', ')}
        FROM fiscus_ws st JOIN fiscus_wq q ON ${pk.map((k) => `q.${k} = st.${k}`).join(' AND ')} AND q.__d BETWEEN st.__d AND st.__d + ${span}
        GROUP BY ${[...pk.map((k) => `st.${k}`), 'st.__d'].join(', ')})`,
    );
  }
  const having = p.having ? emitExpr(p.having, plain) : 'TRUE';
  ctes.push(d.materialized('fiscus_wf', `SELECT * FROM fiscus_w AS w WHERE ${having}`));
  // Each finding's rows, listed by a join of the findings with the rows (not a subquery per
  // finding: PostgreSQL runs that once per finding over the whole row CTE, 21 s of split_payment's
  // 34 s at 1M payments).
  ctes.push(`fiscus_we AS (SELECT ${pk.map((k) => `w.${k}`).join(', ')}, w.__start, ${d.keyList('q.__key')} AS __keys
        FROM fiscus_wf AS w JOIN fiscus_wq AS q ON ${pk.map((k) => `q.${k} = w.${k}`).join(' AND ')} AND q.__d BETWEEN w.__start AND w.__end
        GROUP BY ${[...pk.map((k) => `w.${k}`), 'w.__start'].join(', ')})`);
  // Maximal windows only: drop one whose rows all lie in an earlier finding's span.
  const where = [`NOT EXISTS (SELECT 1 FROM fiscus_wf AS w2 WHERE ${pk.map((k) => `w2.${k} = w.${k}`).join(' AND ')} AND w2.__start < w.__start AND w2.__start + ${span} >= w.__end)`];
  // A delta run over dates (passes/delta.ts): only the windows a touched date can have changed;
  // the source kept every row they and the earlier windows they are judged against hold.
  if (p.deltaStarts) where.push(`w.__start BETWEEN ${d.addDays(d.deltaDate(0), `-${span}`)} AND ${d.addDays(d.deltaDate(1), span)}`);
  return {
    ctes,
    from: `fiscus_wf AS w JOIN fiscus_we AS we ON ${[...pk.map((k) => `we.${k} = w.${k}`), 'we.__start = w.__start'].join(' AND ')}`,
    where, ctx: plain,
    evidence: d.evidence(p.source.primary.table.name, 'we.__keys'),
    evidenceQuery: 'NULL', preconditions: [],
  };
};

/** Aggregates a window frame computes exactly as the grouped join does. */
const FRAME_AGGREGATES = new Set(['count', 'sum', 'min', 'max']);

function frameable(n: IR): boolean {
  return n.k === 'call' && FRAME_AGGREGATES.has(n.fn) && !n.distinct && n.filter === undefined;
}

/**
 * The windows as frames: every row of a (pre-filtered) partition sees the rows dated from its
 * own day to `span` days later. RANGE makes the rows of one day peers with one frame, so
 * DISTINCT keeps one window per start date, as the join form groups by it. Undated rows and
 * rows with a NULL partition key belong to no window (in the join form they match no row, as
 * NULL = NULL is not true).
 */
function framed(pk: string[], span: string, computes: string[], rows: string, dayNumber: string): string {
  return `fiscus_w AS (SELECT DISTINCT ${[
    ...pk.map((k) => `q.${k} AS ${k}`),
    'q.__d AS __start',
    'max(q.__d) OVER fiscus_frame AS __end',
    ...computes,
    'count(*) OVER fiscus_frame AS __n',
  ].join(', ')}
        FROM ${rows} WHERE ${[...pk.map((k) => `q.${k}`), 'q.__d'].map((c) => `${c} IS NOT NULL`).join(' AND ')}
        WINDOW fiscus_frame AS (PARTITION BY ${pk.map((k) => `q.${k}`).join(', ')} ORDER BY ${dayNumber} RANGE BETWEEN CURRENT ROW AND ${span} FOLLOWING))`;
}
