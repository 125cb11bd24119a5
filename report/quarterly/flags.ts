/**
 * 二、预警与整改: warnings of the quarter and year to date by rule and severity,
 * the closed-loop headline figures, and the overdue items by name.
 *
 * A warning belongs to the period its finding is about (the flag's period,
 * else its fiscal year), not to the day a rule run first saw it, so a report
 * on last year's data written later still counts last year's findings — those
 * first seen by the report's as-of day (default the quarter end). Everything
 * here is as of the END of that day: which flags exist, their status, the
 * loop figures and the overdue list are reconstructed from the event log
 * (tracker/as-of.ts), so actions taken later never change the report. The
 * closed-loop figures use the tracker's statistics with the same basis, so
 * they equal `fiscus track stats --year Y --quarter Q --basis period --ytd --as-of <as-of day>`.
 */
import { barChart, SEVERITY_COLORS } from '../charts.ts';
import { count, date, fenToYuan, moneyUnit, pct, toFen, wan } from '../format.ts';
import { paren, t } from '../i18n.ts';
import type { Section } from '../model.ts';
import { inScope, positionIn, SCOPE_CTE } from '../traced-queries.ts';
import { endOfDaySql } from '../../tracker/as-of.ts';
import { flagDaySql } from '../../tracker/stats.ts';
import { listTracked, trackStats } from '../../tracker/index.ts';
import type { SectionContext } from './context.ts';
import { agencyNames, lineRules, ruleNames } from '../rule-names.ts';

/** SQL: the day a flag (aliased f) is about — the tracker's `period` basis. */
export const FLAG_DAY = flagDaySql('f');
/** SQL: the flag (aliased f) had been raised by the end of the report's as-of day `$asof`. */
export const SEEN_BY_AS_OF = `f.first_seen_at < ${endOfDaySql('asof')}`;
/** SQL: not a livelihood project's record (projects/records.ts): the log's home for its steps, not a warning. */
const WARNING = "f.rule_id <> 'project.record'";

export async function flagsSection(ctx: SectionContext): Promise<Section> {
  const { q, lang, params } = ctx;
  const section: Section = { id: 'flags', title: t(lang, 'flags'), missing: [], blocks: [] };
  const ytdWhere = `${FLAG_DAY} BETWEEN make_date($year::INTEGER, 1, 1) AND $qend::DATE AND ${SEEN_BY_AS_OF} AND ${WARNING}`;
  if (!(await q.hasRows('fiscus.flags f', ytdWhere, params))) {
    section.missing.push('fiscus.flags');
    return section;
  }
  const wanUnit = moneyUnit('wan', lang);

  const byRule = await q.run<{ rule_id: string; severity: string; in_quarter: string; ytd: string; amount: string }>(
    'flags_by_rule',
    t(lang, 'byRule'),
    `WITH RECURSIVE ${SCOPE_CTE}
    SELECT rule_id, severity,
           count(*) FILTER (WHERE ${FLAG_DAY} >= $qstart::DATE) AS in_quarter,
           count(*) AS ytd,
           coalesce(sum(amount), 0) AS amount
    FROM fiscus.flags f
    WHERE ${FLAG_DAY} BETWEEN make_date($year::INTEGER, 1, 1) AND $qend::DATE AND ${SEEN_BY_AS_OF} AND ${WARNING} AND ${inScope('region_code')}
    GROUP BY rule_id, severity
    ORDER BY ${positionIn('severity', ['high', 'medium', 'low'])}, rule_id`,
    params,
  );
  const inQuarter = byRule.reduce((n, r) => n + Number(r.in_quarter), 0);
  const ytd = byRule.reduce((n, r) => n + Number(r.ytd), 0);
  ctx.headline.flags_in_quarter = inQuarter;
  ctx.headline.flags_ytd = ytd;
  const sevCount = (s: string) => byRule.filter((r) => r.severity === s).reduce((n, r) => n + Number(r.ytd), 0);
  section.blocks.push({
    kind: 'figures',
    items: [
      { label: t(lang, 'flagsInQuarter'), text: count(inQuarter), value: inQuarter, queryId: 'flags_by_rule' },
      { label: t(lang, 'flagsYtd'), text: count(ytd), value: ytd, queryId: 'flags_by_rule' },
      { label: t(lang, 'high'), text: count(sevCount('high')), value: sevCount('high'), queryId: 'flags_by_rule' },
      { label: t(lang, 'medium'), text: count(sevCount('medium')), value: sevCount('medium'), queryId: 'flags_by_rule' },
      { label: t(lang, 'low'), text: count(sevCount('low')), value: sevCount('low'), queryId: 'flags_by_rule' },
    ],
  });
  const rules = [...new Set(byRule.map((r) => r.rule_id))];
  const ruleName = await ruleNames(lang);
  section.blocks.push({
    kind: 'chart',
    title: t(lang, 'byRule'),
    svg: barChart({
      categories: rules.map(ruleName),
      integer: true,
      horizontal: true,
      series: (['high', 'medium', 'low'] as const).map((sev) => ({
        name: t(lang, sev),
        color: SEVERITY_COLORS[sev],
        stack: 'severity',
        data: rules.map((rule) => Number(byRule.find((r) => r.rule_id === rule && r.severity === sev)?.ytd ?? 0) || null),
      })),
    }),
    queryId: 'flags_by_rule',
  });
  section.blocks.push({
    kind: 'table',
    title: t(lang, 'byRule'),
    columns: [
      { key: 'rule', label: t(lang, 'rule') },
      { key: 'severity', label: lang === 'zh' ? '等级' : 'Severity', nowrap: true },
      { key: 'q', label: t(lang, 'flagsInQuarter'), align: 'right' },
      { key: 'ytd', label: t(lang, 'flagsYtd'), align: 'right' },
      { key: 'amount', label: `${t(lang, 'amountInvolved')}${paren(lang, wanUnit)}`, align: 'right' },
    ],
    rows: byRule.map((r) => ({ rule: `${ruleName(r.rule_id)}${paren(lang, r.rule_id)}`, severity: t(lang, r.severity as 'high'), q: count(r.in_quarter), ytd: count(r.ytd), amount: wan(r.amount) })),
    queryId: 'flags_by_rule',
  });

  // Closed-loop headline figures (the tracker's own statistics, same basis).
  const stats = await trackStats(ctx.q.store, {
    year: ctx.year,
    quarter: ctx.quarter,
    region: params.region ?? undefined,
    basis: 'period',
    ytd: true,
  }, { today: ctx.asOf });
  const f = stats.totals;
  Object.assign(ctx.headline, {
    loop_discovered: f.discovered,
    loop_dismissed: f.dismissed,
    loop_explained: f.explained,
    loop_rectified: f.rectified,
    loop_rectifying: f.rectifying,
    loop_overdue: f.overdue,
    loop_rectification_rate: f.rectification_rate,
    loop_on_time_rate: f.on_time_rate,
    loop_money_involved: f.money_involved,
    loop_money_recovered: f.money_recovered,
  });
  // The headline money says what it is: funds paid or moved (payments, budgets, transfers, bond funds,
  // assets) apart from how far debt and SOE liabilities exceed their warning lines — never one sum.
  const lines = await lineRules(ctx.q.store);
  let fundsFen = 0n;
  let linesFen = 0n;
  for (const r of stats.by_rule) {
    if (lines.has(r.rule_id)) linesFen += toFen(r.money_involved);
    else fundsFen += toFen(r.money_involved);
  }
  ctx.headline.loop_money_funds = fenToYuan(fundsFen);
  ctx.headline.loop_money_over_lines = fenToYuan(linesFen);
  const statsRef = 'track_stats';
  section.blocks.push({ kind: 'note', text: lang === 'zh'
    ? `闭环整改数据口径：本年内截至季末的预警中截至${date(ctx.asOf, lang)}已发现的，按其在${date(ctx.asOf, lang)}日终的状态统计，依据预警事件日志还原，此后的处理不改变本报告（同 fiscus track stats --year ${ctx.year} --quarter ${ctx.quarter} --basis period --ytd --as-of ${ctx.asOf}）。`
    : `Closed-loop figures: the warnings of the year up to the quarter end raised by ${date(ctx.asOf, lang)}, in their state at the end of that day, reconstructed from the flag event log; later actions do not change this report (as fiscus track stats --year ${ctx.year} --quarter ${ctx.quarter} --basis period --ytd --as-of ${ctx.asOf}).` });
  section.blocks.push({
    kind: 'figures',
    items: [
      { label: lang === 'zh' ? '发现问题' : 'Discovered', text: count(f.discovered), value: f.discovered, queryId: statsRef },
      { label: lang === 'zh' ? '已排除' : 'Dismissed', text: count(f.dismissed), value: f.dismissed, queryId: statsRef },
      { label: lang === 'zh' ? '说清销号' : 'Explained', text: count(f.explained), value: f.explained, queryId: statsRef },
      { label: lang === 'zh' ? '已整改' : 'Rectified', text: count(f.rectified), value: f.rectified, queryId: statsRef },
      { label: lang === 'zh' ? '整改中' : 'Rectifying', text: count(f.rectifying), value: f.rectifying, queryId: statsRef },
      { label: lang === 'zh' ? '逾期' : 'Overdue', text: count(f.overdue), value: f.overdue, queryId: statsRef },
      { label: lang === 'zh' ? '整改率' : 'Rectification rate', text: pct(f.rectification_rate), value: f.rectification_rate, queryId: statsRef },
      { label: lang === 'zh' ? '按期率' : 'On-time rate', text: pct(f.on_time_rate), value: f.on_time_rate, queryId: statsRef },
      { label: `${t(lang, 'moneyFunds')}${paren(lang, wanUnit)}`, text: wan(fenToYuan(fundsFen)), value: fenToYuan(fundsFen), queryId: statsRef },
      { label: `${t(lang, 'moneyOverLines')}${paren(lang, wanUnit)}`, text: wan(fenToYuan(linesFen)), value: fenToYuan(linesFen), queryId: statsRef },
      { label: `${lang === 'zh' ? '追回/规范资金' : 'Recovered/regularised'}${paren(lang, wanUnit)}`, text: wan(f.money_recovered), value: f.money_recovered, queryId: statsRef },
    ],
  });
  section.blocks.push({ kind: 'note', text: t(lang, 'moneyNote') });
  ctx.q.records.push({
    id: statsRef,
    title: t(lang, 'loopFigures'),
    sql: `-- fiscus track stats --year ${ctx.year} --quarter ${ctx.quarter} --basis period --ytd --as-of ${ctx.asOf}${params.region ? ` --region ${params.region}` : ''}`,
    params: {},
  });

  // Overdue items, by name: overdue at the end of the as-of day, in their state then.
  const agencyName = await agencyNames(ctx.q.store);
  const overdue = await listTracked(ctx.q.store, { overdue: true, region: params.region ? [params.region] : undefined, asOf: ctx.asOf });
  section.blocks.push({
    kind: 'table',
    title: t(lang, 'overdueItems'),
    columns: [
      { key: 'title', label: t(lang, 'title') },
      { key: 'unit', label: t(lang, 'assignedTo') },
      { key: 'due', label: t(lang, 'dueDate') },
      { key: 'status', label: t(lang, 'status') },
    ],
    rows: overdue.map((o) => ({
      title: lang === 'zh' ? o.title : o.title_en,
      unit: agencyName(o.assigned_to ?? o.agency_code),
      due: date(o.deadline ?? o.due_date, lang),
      status: o.status_label[lang],
    })),
    queryId: statsRef,
    empty: t(lang, 'noOverdue'),
  });
  return section;
}
