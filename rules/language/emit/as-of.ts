/**
 * Nothing after the as-of date is seen: each dated feed table is cut off by its
 * date column (FEEDS.md). The evaluation date is the bound parameter `as_of`.
 */
import type { TableDef } from '../../../engine/feeds.ts';
import type { Dialect } from '../dialects/types.ts';

/** The column that says when a row of a feed table became visible. */
export const AS_OF_COLUMNS: Record<string, { column: string; kind: 'date' | 'year' | 'period' }> = {
  'treasury.payments': { column: 'pay_date', kind: 'date' },
  'treasury.budget_indicators': { column: 'approved_date', kind: 'date' },
  'debt.bonds': { column: 'issue_date', kind: 'date' },
  'debt.allocations': { column: 'allocation_date', kind: 'date' },
  'debt.spending': { column: 'pay_date', kind: 'date' },
  'debt.positions': { column: 'fiscal_year', kind: 'year' },
  'assets.cards': { column: 'acquired_date', kind: 'date' },
  'assets.changes': { column: 'change_date', kind: 'date' },
  'assets.soe_financials': { column: 'period', kind: 'period' },
  'transfers.grants': { column: 'issued_date', kind: 'date' },
  'transfers.disbursements': { column: 'pay_date', kind: 'date' },
};

export function asOfParam(d: Dialect): string {
  return d.param('as_of', 'date');
}

/** The cut-off condition of a table under a (rendered) relation name, or null for undated tables. */
export function asOfFilter(d: Dialect, t: TableDef, rel: string): string | null {
  const a = AS_OF_COLUMNS[t.name];
  if (!a) return null;
  const col = `${rel}.${d.ident(a.column)}`;
  const asOf = asOfParam(d);
  if (a.kind === 'date') return `${col} <= ${asOf}`;
  if (a.kind === 'year') return `${col} <= ${d.year(asOf)}`;
  return `${col} <= ${d.yearMonth(asOf)}`;
}
