/** The dry run's look at a file: how it was read and mapped, and its first converted rows. */
import type { Store } from '../engine/db.ts';
import { quoteIdent } from '../engine/feeds.ts';
import { unitName } from './convert-sql.ts';
import type { SourcePlan } from './plan.ts';
import type { SourceRows } from './source.ts';
import type { BatchPreview } from './types.ts';

export async function previewOf(store: Store, src: SourceRows, plan: SourcePlan, typed: string, rn: string, n: number): Promise<BatchPreview> {
  const cols = plan.columns.map((p) => quoteIdent(p.def.name));
  const rows = await store.all<Record<string, unknown>>(
    `SELECT ${cols.map((c, i) => (plan.columns[i].def.type === 'money' || plan.columns[i].def.type === 'date' || plan.columns[i].def.type === 'rate' ? `CAST(${c} AS VARCHAR) AS ${c}` : c)).join(', ')}, CAST(extra AS VARCHAR) AS extra
     FROM ${typed} WHERE NOT _bad ORDER BY ${rn} LIMIT ${Math.max(0, Math.floor(n))}`,
  );
  const mapping: Record<string, string> = {};
  for (const p of plan.columns) {
    const o = p.origin;
    const unit = p.def.type === 'money' && p.unitExp ? ` (${unitName(p.unitExp)} → 元)` : '';
    mapping[p.def.name] =
      o.kind === 'column' ? `"${o.header}"${unit}` : o.kind === 'constant' ? `constant "${o.value}"` : o.kind === 'derived' ? `${o.how}${unit}` : '(empty)';
  }
  return {
    headers: src.headers,
    mapping,
    extra: plan.extras.map((e) => e.header),
    layout: [...(src.notes ?? []), ...plan.notes],
    rows: rows.map((r) => ({ ...r, extra: r.extra === null ? null : JSON.parse(String(r.extra)) })),
    rejects: [],
  };
}
