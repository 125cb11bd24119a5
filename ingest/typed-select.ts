/** The one query that turns a source's raw text into typed feed rows with `_bad` and `_row_hash`. */
import { quoteIdent } from '../engine/feeds.ts';
import { badExpr, columnLayers, type NumberFormat } from './convert-sql.ts';
import type { SourcePlan } from './plan.ts';
import type { SourceRows } from './source.ts';
import { lit } from './sql-text.ts';

/** The query that reads the source into typed values plus `_bad` and `_row_hash`, in file order. */
export function typedSelect(src: SourceRows, plan: SourcePlan, fmt: NumberFormat): string {
  const cols = plan.columns;
  const layers = cols.map((p, i) => columnLayers(p, p.raw, i, fmt));
  const f = layers.flatMap((l) => (l.f ? [l.f] : []));
  const n = layers.flatMap((l) => (l.n ? [l.n] : []));
  const v = layers.map((l) => l.v);
  const bad = cols.map((p, i) => badExpr(p, `n${i}`, `v${i}`));
  if (src.hasMalformed) bad.push('_malformed');
  const extra = plan.extras.length
    ? `json_object(${uniqueHeaders(plan.extras.map((e) => e.header)).map((h, i) => `${lit(h)}, ${plan.extras[i].raw}`).join(', ')})`
    : 'NULL::JSON';
  const out = cols.map((p, i) => `v${i} AS ${quoteIdent(p.def.name)}`);
  const hash = `CAST(hash(${cols.map((_, i) => `v${i}`).join(', ')}, CAST(extra AS VARCHAR)) AS VARCHAR)`;
  const layer = (items: string[], from: string) => (items.length ? `(SELECT *, ${items.join(',\n')} FROM ${from})` : from);
  return `SELECT ${src.format === 'csv' ? '' : '_rn, '}${out.join(', ')}, extra, coalesce(${bad.join(' OR ')}, false) AS _bad, ${hash} AS _row_hash
    FROM ${layer([...v, `${extra} AS extra`], layer(n, layer(f, `(${src.select})`)))}`;
}

/** Header names made unique for JSON keys (`amount`, `amount#2`). */
export function uniqueHeaders(headers: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return headers.map((h) => {
    const k = seen.get(h) ?? 0;
    seen.set(h, k + 1);
    return k === 0 ? h : `${h}#${k + 1}`;
  });
}

