/**
 * Prefilters: facts read off the plan that let the emitter skip work without changing
 * the findings.
 *
 * - `monotoneConditions`: `having` conjuncts `name >= rhs` (or `>`) where `name` is a
 *   compute `count()` (or `sum(col)` of a column the source's `where` keeps ≥ 0) and `rhs`
 *   uses only parameters and literals. A window's (cluster's) rows are a subset of its
 *   partition's, so the condition must already hold over the whole partition: partitions
 *   that fail it are dropped before the expensive part (range join, row filter).
 * - `needsPreviousRow`: `having` requires `prev.x is not null`, so partitions of one row
 *   cannot give findings.
 * - `zFloor`: robust_z's `having: z > k` with `value: ln(x)` holds only where x exceeds a
 *   floor of its peer group's own, so the rows below it need no logarithm.
 */
import type { IR, Named, RobustZPlan, SourcePlan } from '../plan/types.ts';

export interface MonotoneCondition {
  readonly compute: Named;
  readonly op: '>' | '>=';
  readonly rhs: IR;
}

export function conjuncts(e: IR | undefined): IR[] {
  if (!e) return [];
  return e.k === 'binary' && e.op === 'and' ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e];
}

/** Only parameters, literals and plain operators: the same value for every partition. */
function constant(e: IR): boolean {
  switch (e.k) {
    case 'num':
    case 'str':
    case 'date':
    case 'bool':
    case 'null':
    case 'param':
      return true;
    case 'unary':
      return constant(e.arg);
    case 'binary':
      return constant(e.left) && constant(e.right);
    case 'call':
      return !e.agg && e.args.every(constant);
    default:
      return false;
  }
}

export function monotoneConditions(
  source: SourcePlan, computes: readonly Named[], having: IR | undefined, opts: { countOnly?: boolean } = {},
): MonotoneCondition[] {
  const nonNegative = new Set<string>();
  for (const c of conjuncts(source.where)) {
    if (c.k === 'binary' && (c.op === '>' || c.op === '>=') && c.right.k === 'num' && Number(c.right.raw) >= 0 && c.left.k === 'col') {
      nonNegative.add(c.left.col.name);
    }
  }
  const out: MonotoneCondition[] = [];
  for (const c of conjuncts(having)) {
    if (c.k !== 'binary' || (c.op !== '>' && c.op !== '>=') || c.left.k !== 'slot') continue;
    const name = c.left.name;
    const comp = computes.find((x) => x.name === name);
    if (!comp) continue;
    const e = comp.expr;
    if (e.k !== 'call' || e.filter || e.distinct) continue;
    const ok = (e.fn === 'count' && e.args.length === 0)
      || (!opts.countOnly && e.fn === 'sum' && e.args.length === 1 && e.args[0]!.k === 'col' && nonNegative.has(e.args[0]!.col.name));
    if (!ok || !constant(c.right)) continue;
    out.push({ compute: comp, op: c.op, rhs: c.right });
  }
  return out;
}

export function needsPreviousRow(having: IR | undefined): boolean {
  return conjuncts(having).some((c) => c.k === 'isnull' && c.negated && c.arg.k === 'col' && c.arg.row.alias === 'prev');
}

/** The x of robust_z's `having` conjunct `z > k` (or `>=`, k constant) when the value is `ln(x)` and `scale` a positive literal. */
export interface ZFloor {
  /** x in `value: ln(x)`. */
  readonly arg: IR;
  /** k in `z > k`. */
  readonly rhs: IR;
}

/**
 * With s·MAD > 0, z = (ln x − median) / (s·MAD) > k exactly when x > exp(median + k·s·MAD):
 * one comparison per row instead of a logarithm and a division. The emitter keeps `having` as
 * well and loosens the floor (a relative 1e-9 below it, far beyond the rounding of exp and ln),
 * so the floor only drops rows the exact test drops too. A negative or non-literal scale could
 * turn the inequality round: no floor then. x ≤ 0 has no logarithm (no value) and is below any floor.
 */
export function zFloor(p: RobustZPlan): ZFloor | undefined {
  if (p.value.k !== 'call' || p.value.fn !== 'ln' || p.value.args.length !== 1) return undefined;
  if (p.scale.k !== 'num' || !(Number(p.scale.raw) > 0)) return undefined;
  const slot = (e: IR, name: string) => e.k === 'slot' && e.rel === 'zs' && e.name === name;
  for (const c of conjuncts(p.having)) {
    if (c.k !== 'binary' || (c.op !== '>' && c.op !== '>=') || !constant(c.right)) continue;
    const z = c.left;
    if (z.k !== 'call' || z.fn !== 'nullif_div' || z.args.length !== 2) continue;
    const [diff, denominator] = z.args as [IR, IR];
    const isZ = diff.k === 'binary' && diff.op === '-' && diff.left.k === 'call' && diff.left.fn === 'to_double'
      && diff.left.args[0] === p.value && slot(diff.right, '__med')
      && denominator.k === 'binary' && denominator.op === '*' && denominator.left === p.scale && slot(denominator.right, '__mad');
    if (isZ) return { arg: p.value.args[0]!, rhs: c.right };
  }
  return undefined;
}
