/**
 * The run summary as people read it: one table row per rule (what happened
 * and why), then the totals and what the allow-list suppressed.
 */
import Table from 'cli-table3';
import type { RunSummary } from './runner.ts';

const OUTCOME_ZH: Record<string, string> = { evaluated: '已评估', skipped: '跳过', error: '出错' };

export function summaryTable(s: RunSummary): string {
  const rows = s.rules.map((r) => {
    // A skipped rule raised nothing in this run: its counts (the last evaluation's, in the JSON) would read as this run's.
    const n = (v: number) => (r.outcome === 'evaluated' ? v : '–');
    return {
      rule: r.rule_id,
      outcome: `${OUTCOME_ZH[r.outcome]} ${r.outcome}${r.mode && r.mode !== 'unchanged' ? ` (${r.mode})` : ''}`,
      raised: n(r.flags_raised),
      new: n(r.flags_new),
      existing: n(r.flags_existing),
      not_reproduced: n(r.flags_not_reproduced),
      reproduced: n(r.flags_reproduced),
      suppressed: n(r.suppressed),
      ms: Math.round(r.millis),
      reason: r.reason ?? '',
    };
  });
  const t = s.totals;
  const lines = [
    `规则运行 rule run ${s.run_id} · as-of ${s.as_of}${s.dry_run ? ' · dry run (nothing written)' : ''}`,
    table(rows),
    `规则 ${t.rules}：评估 ${t.evaluated}，跳过 ${t.skipped}，出错 ${t.errors} · 预警 新增 ${t.flags_new}，已有 ${t.flags_existing}，不再复现 ${t.flags_not_reproduced}，再次复现 ${t.flags_reproduced}，豁免 ${t.suppressed} · ${(s.millis / 1000).toFixed(1)} s`,
    `rules ${t.rules}: evaluated ${t.evaluated}, skipped ${t.skipped}, errors ${t.errors} · flags new ${t.flags_new}, existing ${t.flags_existing}, not reproduced ${t.flags_not_reproduced}, reproduced ${t.flags_reproduced}, suppressed ${t.suppressed}`,
  ];
  const reasons = new Map<string, number>();
  for (const r of s.rules) for (const x of r.suppressed_reasons) reasons.set(x.reason, (reasons.get(x.reason) ?? 0) + x.count);
  if (reasons.size) {
    lines.push('豁免 suppressed by the allow-list:');
    for (const [reason, n] of reasons) lines.push(`  ${n} × ${reason}`);
  }
  return `${lines.join('\n')}\n`;
}

const COLUMNS = ['rule', 'outcome', 'raised', 'new', 'existing', 'not_reproduced', 'reproduced', 'suppressed', 'ms', 'reason'] as const;

/** Like engine/format's table, but the reason is never truncated: it is the point of the summary. */
function table(rows: Record<(typeof COLUMNS)[number], string | number>[]): string {
  if (rows.length === 0) return '(no rules)';
  // One rule under the header, none between rows (as the other listings).
  const t = new Table({ head: [...COLUMNS], style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const r of rows) t.push(COLUMNS.map((c) => String(r[c])));
  const lines = t.toString().split('\n');
  lines.splice(2, 0, lines[0]!.replace('┌', '├').replace('┐', '┤').replaceAll('┬', '┼'));
  return lines.join('\n');
}
