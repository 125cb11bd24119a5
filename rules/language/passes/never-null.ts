/**
 * Which expressions can never be NULL, from the feed contract (a column not
 * `nullable` in engine/feeds.ts is NOT NULL in the store) and the shape of the
 * expression. A pass over IR nodes: it reads the plan, it changes nothing.
 *
 * Why it matters: group keys are matched with `IS NOT DISTINCT FROM` so that a
 * NULL key meets its NULL twin. PostgreSQL cannot hash or merge-join on that
 * operator and falls back to a nested loop (the pack's compare rules took a
 * minute at 1M payments). Where one side of the match can never be NULL, plain
 * `=` gives the same rows as a join or filter condition, and every engine hashes it.
 *
 * Conservative by construction: anything not proven non-null is nullable.
 */
import type { GroupedPlan, IR, Named, RowRef, SourcePlan } from '../plan/types.ts';

/** Functions whose result is non-null when every argument is (none of them turns a value into NULL). */
const STRICT_TOTAL = new Set([
  'abs', 'floor', 'ceil', 'greatest', 'least', 'year', 'month', 'quarter', 'day', 'day_of_year',
  'days_in_year', 'year_start', 'year_end', 'month_end', 'days_between', 'starts_with', 'ends_with',
  'contains', 'left', 'length', 'text', 'blank',
]);

/** Operators whose result is non-null when both operands are (`/` is safe division: NULL on zero). */
const TOTAL_OPS = new Set(['and', 'or', '=', '<>', '<', '<=', '>', '>=', '+', '-', '*', '||']);

/** The relations of a source whose row may be missing: lookups that are LEFT JOINed. */
function optionalRows(source: SourcePlan): ReadonlySet<string> {
  return new Set(source.lookups.filter((l) => !l.inner).map((l) => l.rel));
}

function neverNull(e: IR, optional: ReadonlySet<string>): boolean {
  const nn = (x: IR): boolean => neverNull(x, optional);
  switch (e.k) {
    case 'num': case 'str': case 'date': case 'bool':
      return true;
    case 'null': case 'param': case 'slot': case 'sub': case 'field':
      return false;
    case 'col':
      return !e.col.nullable && !isOptional(e.row, optional);
    case 'let':
      return nn(e.body);
    case 'unary':
      return nn(e.arg);
    case 'binary':
      return TOTAL_OPS.has(e.op) && nn(e.left) && nn(e.right);
    case 'isnull':
      return true;
    case 'between':
      return nn(e.arg) && nn(e.lo) && nn(e.hi);
    case 'in':
      return nn(e.arg) && e.items.every(nn);
    case 'inlist':
      return false;
    case 'call':
      if (e.filter || e.distinct) return false;
      if (e.fn === 'coalesce') return e.args.some(nn);
      return STRICT_TOTAL.has(e.fn) && e.args.every(nn);
  }
}

/** Whether a group key (`group_by`, `partition_by` entry) of rows of `source` can be NULL. */
export function keyMayBeNull(key: Named, source: SourcePlan): boolean {
  return !neverNull(key.expr, optionalRows(source));
}

/**
 * compare: per key, whether it may be NULL on both sides, so must be matched null-safely (where
 * one side is never NULL, `=` matches the same groups). The sides name the same keys in the same
 * order (checked); a key missing on the right counts as nullable there.
 */
export function nullSafeCompareKeys(left: GroupedPlan, right: GroupedPlan): boolean[] {
  return left.groups.map((g, i) => {
    const other = right.groups[i];
    return keyMayBeNull(g, left.source) && (!other || keyMayBeNull(other, right.source));
  });
}

function isOptional(row: RowRef, optional: ReadonlySet<string>): boolean {
  return optional.has(row.rel);
}
