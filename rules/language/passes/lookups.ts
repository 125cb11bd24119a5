/**
 * Lookups a part of the plan does not read. A kind that emits its source twice (robust_z: once
 * for the peer statistics, once for the findings) needs the lookups the findings show (an
 * agency's name) only in the second. Dropping a lookup is safe when it cannot change which
 * rows the source has: a LEFT JOIN whose ON equates every column of the looked-up table's key
 * matches at most one row. An inner lookup (`required: true`) filters rows and a grouped one
 * joins an aggregate, so both stay. At 10M payments, treasury.amount_outlier's peer statistics
 * read every payment through a join to ref.agencies that only its title uses: the rule's query
 * took 1,080 ms with it and 1,000 ms without (alone, a full run).
 */
import type { IR, LookupPlan, SourcePlan } from '../plan/types.ts';
import { forEachNode } from '../plan/walk.ts';
import { conjuncts } from './prefilter.ts';

/** The row aliases `v` reads (columns and `field()` of a row). */
function aliasesRead(v: unknown): Set<string> {
  const out = new Set<string>();
  forEachNode(v, (n) => {
    if (n.k === 'col' || n.k === 'field') out.add(n.row.alias);
  });
  return out;
}

/** The lookup matches at most one row of its table for each source row. */
function atMostOneRow(l: LookupPlan): boolean {
  if (l.inner || l.grouped || l.table.key.length === 0) return false;
  const bound = new Set<string>();
  for (const c of conjuncts(l.on)) {
    if (c.k !== 'binary' || c.op !== '=') continue;
    const sides: [IR, IR][] = [[c.left, c.right], [c.right, c.left]];
    for (const [mine, other] of sides) {
      if (mine.k === 'col' && mine.row.alias === l.alias && !aliasesRead(other).has(l.alias)) bound.add(mine.col.name);
    }
  }
  return l.table.key.every((k) => bound.has(k));
}

/**
 * The source with only the lookups that `reads` (expressions of the plan), the source's own
 * `where`, or a kept lookup's ON read, and those that may change its rows.
 */
export function withLookupsRead(s: SourcePlan, reads: readonly unknown[]): SourcePlan {
  const needed = aliasesRead([reads, s.where]);
  const kept: LookupPlan[] = [];
  // A lookup's ON reads only the primary row and earlier lookups: walk back from the last one.
  for (const l of [...s.lookups].reverse()) {
    if (!needed.has(l.alias) && atMostOneRow(l)) continue;
    kept.unshift(l);
    for (const a of aliasesRead(l.on)) needed.add(a);
  }
  return kept.length === s.lookups.length ? s : { ...s, lookups: kept };
}
