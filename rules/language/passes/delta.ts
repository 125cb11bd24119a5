/**
 * Delta evaluation: a pass over the plan that finds the rule's *delta key* — columns of a
 * feed table such that every finding depends only on rows sharing its key values. When
 * new batches touch only those tables, re-evaluating the rows whose key values the batches
 * touched (new rows, and the old version of corrected rows) gives exactly the findings a
 * full run would give for those keys; findings of other keys cannot have changed.
 *
 * What the key is, by kind:
 * - a window, sequence or cluster never spans partitions: the partition columns;
 * - an aggregate, benford test or robust z-score sees one group (peer group) at a time:
 *   the group columns; compare: the group names that are plain columns on both sides;
 * - a match or deadline judges one row: its primary key.
 * A correlated subquery or lookup over the same table reads rows beyond the finding's own:
 * the key keeps only columns it equates with the outer row (`r.agency_code = p.agency_code`),
 * so the rows it can read share the key too. Group and partition entries that are
 * expressions (`fiscal_year + 1`) are not key columns; no key column left means no delta.
 *
 * The pass returns facts, never edits the plan: `deltaPlan` says what the key is and how a
 * finding shows it, `deltaVariant` is a copy whose sources on delta tables are restricted to
 * the key tuples the new batches (`$delta_batches`) touched (emit/touched-keys.ts), or to the
 * new batches' rows when the key is the table's primary key.
 */
import { isPrimaryKey, type ColumnDef, type TableDef } from '../../../engine/feeds.ts';
import type { DeltaPlan, IR, LogicPlan, Named, RowRef, RulePlan, SourcePlan } from '../plan/types.ts';
import { conjuncts } from './prefilter.ts';
import { mapSources, sourcesOf } from './sources.ts';
import { forEachNode } from '../plan/walk.ts';

const NO_SPAN = { file: '', line: 1, column: 1 };

interface Candidate {
  /** The key's name (a group or partition name, or the column itself). */
  name: string;
  /** How a finding shows the key (an expression over the kind's finding scope). */
  finding: IR;
  /** The key's column on each source, in `sourcesOf` order. */
  columns: ColumnDef[];
}

function column(t: TableDef, name: string): ColumnDef | undefined {
  return t.columns.find((c) => c.name === name);
}

/** A plain column of the source's own row (`agency_code`, `p.agency_code`). */
function plainColumn(e: IR, primary: RowRef): ColumnDef | undefined {
  return e.k === 'col' && e.row.alias === primary.alias && e.row.rel === primary.rel ? e.col : undefined;
}

const slot = (rel: string, name: string, quoted: boolean, type: IR['type']): IR => ({ k: 'slot', rel, name, quoted, type, agg: false, span: NO_SPAN });
const colNode = (row: RowRef, col: ColumnDef, type: IR['type']): IR => ({ k: 'col', row, col, type, agg: false, span: NO_SPAN });

/** Named entries that are plain columns of the primary row, as candidates shown through `show`. */
function namedCandidates(named: readonly Named[], s: SourcePlan, show: (n: Named, i: number) => IR): Candidate[] {
  const out: Candidate[] = [];
  named.forEach((n, i) => {
    const col = plainColumn(n.expr, s.primary);
    if (col) out.push({ name: n.name, finding: show(n, i), columns: [col] });
  });
  return out;
}

function candidates(p: LogicPlan): Candidate[] {
  switch (p.kind) {
    case 'match':
    case 'deadline': {
      const row = p.source.primary;
      return row.table.key.flatMap((k) => {
        const col = column(row.table, k);
        return col ? [{ name: k, finding: colNode(row, col, 'string'), columns: [col] }] : [];
      });
    }
    case 'robust_z':
      return namedCandidates(p.groups, p.source, (n) => colNode(p.source.primary, plainColumn(n.expr, p.source.primary)!, n.expr.type));
    case 'sequence':
      return namedCandidates(p.partitions, p.source, (n) => colNode(p.source.primary, plainColumn(n.expr, p.source.primary)!, n.expr.type));
    case 'window':
      return namedCandidates(p.partitions, p.source, (n) => slot('w', n.name, true, n.expr.type));
    case 'cluster':
      return namedCandidates(p.partitions, p.source, (n, i) => slot('c', `__pk${i}`, false, n.expr.type));
    case 'benford':
      return namedCandidates(p.groups, p.source, (n) => slot('__b', n.name, true, n.expr.type));
    case 'aggregate':
      return namedCandidates(p.side.groups, p.side.source, (n) => slot('__g', n.name, true, n.expr.type));
    case 'compare': {
      const out: Candidate[] = [];
      p.left.groups.forEach((g, i) => {
        const r = p.right.groups[i];
        const lc = plainColumn(g.expr, p.left.source.primary);
        const rc = r && r.name === g.name ? plainColumn(r.expr, p.right.source.primary) : undefined;
        if (!lc || !rc) return;
        const l = slot('__l', g.name, true, g.expr.type);
        const finding: IR = p.join === 'full'
          ? { k: 'call', fn: 'coalesce', args: [l, slot('__r', g.name, true, g.expr.type)], distinct: false, type: g.expr.type, agg: false, span: NO_SPAN }
          : l;
        out.push({ name: g.name, finding, columns: [lc, rc] });
      });
      return out;
    }
  }
}

/** Columns `inner.c = outer.c` of `cond`, where `outer` is a row of a source on the same table. */
function equated(cond: IR | undefined, inner: string, outer: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const c of conjuncts(cond)) {
    if (c.k !== 'binary' || c.op !== '=' || c.left.k !== 'col' || c.right.k !== 'col') continue;
    const [a, b] = [c.left, c.right];
    if (a.col.name !== b.col.name) continue;
    if ((a.row.alias === inner && outer.has(b.row.alias)) || (b.row.alias === inner && outer.has(a.row.alias))) out.add(a.col.name);
  }
  return out;
}

/** The delta key of a plan, or undefined when findings cannot be scoped to keys of a table. */
export function deltaPlan(plan: RulePlan): DeltaPlan | undefined {
  const sources = sourcesOf(plan.logic);
  let keys = candidates(plan.logic);
  const byTable = new Map<string, { aliases: Set<string>; sourceIdx: number[] }>();
  sources.forEach((s, i) => {
    const t = s.primary.table.name;
    const e = byTable.get(t) ?? { aliases: new Set<string>(), sourceIdx: [] };
    e.aliases.add(s.primary.alias);
    e.sourceIdx.push(i);
    byTable.set(t, e);
  });
  // Two sources on one table (compare of this year with last year) must agree on the key's column.
  keys = keys.filter((k) => [...byTable.values()].every((e) => new Set(e.sourceIdx.map((i) => k.columns[i]!.name)).size === 1));

  // Reads of a delta table other than a source's own rows must stay within the key.
  const keep = (table: string, cols: ReadonlySet<string>) => {
    const e = byTable.get(table)!;
    keys = keys.filter((k) => cols.has(k.columns[e.sourceIdx[0]!]!.name));
  };
  let refused = false;
  forEachNode([plan.logic, plan.envelope], (n) => {
    if (n.k !== 'sub') return;
    const e = byTable.get(n.row.table.name);
    if (e) keep(n.row.table.name, equated(n.where, n.row.alias, e.aliases));
  });
  for (const s of sources) {
    for (const l of s.lookups) {
      const e = byTable.get(l.table.name);
      if (!e) continue;
      if (l.grouped) refused = true;
      else keep(l.table.name, equated(l.on, l.alias, e.aliases));
    }
  }
  for (const l of plan.envelope.lookups) if (byTable.has(l.table.name)) refused = true;
  if (refused || keys.length === 0) return undefined;

  const tables: Record<string, string[]> = {};
  for (const [t, e] of byTable) tables[t] = keys.map((k) => k.columns[e.sourceIdx[0]!]!.name);
  const window = windowDates(plan, tables);
  return { keys: keys.map((k) => ({ name: k.name, finding: k.finding })), tables, ...(window ? { window } : {}) };
}

/**
 * A window rule's dates, when a delta run can bound them: one delta table, the window dated by a
 * plain column of it, `within` a literal or a parameter, and findings whose period starts at the
 * window's start (the runner leaves flags starting outside the re-evaluated dates as they are).
 * A window starting at s holds the rows dated s … s + span (span = within − 1); a changed row
 * dated d changes the windows starting in d − span … d, and through maximality (a window inside an
 * earlier finding's span is not reported) those starting up to d + span.
 */
function windowDates(plan: RulePlan, tables: Record<string, string[]>): DeltaPlan['window'] {
  const p = plan.logic;
  const names = Object.keys(tables);
  if (p.kind !== 'window' || names.length !== 1) return undefined;
  const col = plainColumn(p.date, p.source.primary);
  const period = plan.envelope.period;
  const startsAtWindow = !!period && 'start' in period && period.start.k === 'slot' && period.start.rel === 'w' && period.start.name === '__start';
  if (!col || !startsAtWindow) return undefined;
  const w = p.within;
  const within = w.k === 'num' && Number.isInteger(Number(w.raw)) && Number(w.raw) >= 1 ? { days: Number(w.raw) } : w.k === 'param' ? { param: w.name } : undefined;
  return within ? { table: names[0]!, column: col.name, within } : undefined;
}

/** A copy of the plan whose sources on delta tables keep only rows of a key tuple the new batches touched. */
export function deltaVariant(plan: RulePlan, delta: DeltaPlan): RulePlan {
  const tables = Object.keys(delta.tables);
  // Only with one delta table: the touched keys then all come from that table's batches.
  const byBatch = (s: SourcePlan) => {
    const cols = delta.tables[s.primary.table.name];
    return tables.length === 1 && !!cols && isPrimaryKey(s.primary.table, cols);
  };
  const w = delta.window;
  const dated = (s: SourcePlan): SourcePlan =>
    w && plan.logic.kind === 'window' && s.primary.table.name === w.table ? { ...s, deltaDates: { column: w.column, within: plan.logic.within } } : s;
  const sourced = mapSources(plan.logic, (s) => dated(byBatch(s) ? { ...s, deltaByBatch: true } : { ...s, deltaColumns: delta.tables[s.primary.table.name] }));
  const logic = w && sourced.kind === 'window' ? { ...sourced, deltaStarts: true } : sourced;
  return { ...plan, logic };
}
