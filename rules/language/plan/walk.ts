/** Walking IR: every node of a plan value, found by reflection, so a new node or kind needs no change here. */
import type { IR } from './types.ts';

/** Call `f` on every IR node of a plan value (logic, envelope, one expression), outermost first. */
export function forEachNode(v: unknown, f: (n: IR) => void): void {
  if (Array.isArray(v)) {
    for (const x of v) forEachNode(x, f);
    return;
  }
  if (!v || typeof v !== 'object' || v instanceof Map) return;
  const o = v as Record<string, unknown>;
  if (typeof o.k === 'string' && 'span' in o && 'type' in o) f(o as unknown as IR);
  for (const [key, x] of Object.entries(o)) {
    // Row references and column definitions are not expressions (and TableDefs are large).
    if (key === 'row' || key === 'col' || key === 'table' || key === 'primary' || key === 'span' || key === 'enumValues') continue;
    forEachNode(x, f);
  }
}

/** The nodes of `v` (see forEachNode) as a list. */
export function nodesOf(v: unknown): IR[] {
  const out: IR[] = [];
  forEachNode(v, (n) => out.push(n));
  return out;
}
