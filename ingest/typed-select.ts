/** The one query that turns a source's raw text into typed feed rows with `_bad` and `_row_hash`. */
import { quoteIdent } from '../engine/feeds.ts';
import { badExpr, columnLayers, type NumberFormat } from './convert-sql.ts';
import type { SourcePlan } from './plan.ts';
import type { SourceRows } from './source.ts';
import { lit, litList } from './sql-text.ts';

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
  // UBIGINT on DuckDB (migration 11); PostgreSQL's text column receives the same digits through COPY.
  const hash = `hash(${cols.map((_, i) => `v${i}`).join(', ')}, CAST(extra AS VARCHAR))`;
  const layer = (items: string[], from: string) => (items.length ? `(SELECT *, ${items.join(',\n')} FROM ${from})` : from);
  const skip = skipExpr(src, plan);
  const raws = skip === 'false' ? '' : `, ${[...src.headers.map((_, i) => `r${i}`), ...(src.hasMalformed ? ['_malformed'] : [])].join(', ')}`;
  const inner = `SELECT ${src.format === 'csv' ? '' : '_rn, '}${out.join(', ')}, extra, coalesce(${bad.join(' OR ')}, false) AS _bad0${raws}, ${hash} AS _row_hash
    FROM ${layer([...v, `${extra} AS extra`], layer(n, layer(f, `(${src.select})`)))}`;
  // Only a bad row can be a blank or totals row; the check sits in a layer of its own, under a
  // CASE on the already computed _bad0, so clean rows never pay for it.
  const skipped = skip === 'false' ? 'false' : '_skip0';
  const checked = skip === 'false' ? `(${inner})` : `(SELECT *, CASE WHEN _bad0 THEN coalesce(${skip}, false) ELSE false END AS _skip0 FROM (${inner}))`;
  return `SELECT ${src.format === 'csv' ? '' : '_rn, '}${cols.map((p) => quoteIdent(p.def.name)).join(', ')}, extra,
      _bad0 AND NOT ${skipped} AS _bad, ${skipped} AS _skip, _row_hash FROM ${checked}`;
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


/**
 * Rows that are not data, for sources read straight by DuckDB (a staged
 * source has left them out already): every field empty (a row of commas), or
 * a totals row (a field reading 合计, Total …). Empty CSV fields arrive as NULL.
 */
function skipExpr(src: SourceRows, plan: SourcePlan): string {
  if (src.format === 'staged' || src.headers.length === 0) return 'false';
  const r = src.headers.map((_, i) => `r${i}`);
  // No subexpression here may repeat (in this check or elsewhere in the select): DuckDB hoists
  // repeated ones out of the CASE that guards this check, which makes it run on every row.
  const blank = `trim(concat_ws('', ${r.join(', ')})) = ''`;
  const words = [...new Set(plan.totals.map((w) => w.trim().toLowerCase()))];
  // list_contains, not IN: DuckDB turns a long IN list into a join, which runs on every row.
  const totals = words.length ? ` OR ${r.map((x) => `list_contains([${litList(words)}], lower(trim(${x})))`).join(' OR ')}` : '';
  const parts = `(${blank}${totals})`;
  return src.hasMalformed ? `(NOT _malformed AND ${parts})` : parts;
}
