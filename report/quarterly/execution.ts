/** 一、预算执行: execution by department against time progress, the four books, the monthly curve. */
import { barChart, lineChart } from '../charts.ts';
import { count, decimal, moneyUnit, pct, wan } from '../format.ts';
import { fundSourceName, paren, t } from '../i18n.ts';
import type { Section } from '../model.ts';
import type { EngineSql } from '../../engine/sql-dialect.ts';
import { inScope, positionIn, SCOPE_CTE } from '../traced-queries.ts';
import { num, r2, type SectionContext } from './context.ts';

/** Departments shown at each end (slowest, fastest) in the chart and the section when there are more than twice as many. */
export const DEPTS_SHOWN = 8;

/** SQL: the share of the year elapsed at the quarter end (days elapsed / days in the year), a float. */
function timeProgressSql(dialect: EngineSql): string {
  return `CAST(${dialect.dayOfYear('$qend::DATE')} AS ${dialect.double}) / ${dialect.dayOfYear('make_date($year::INTEGER, 12, 31)')}`;
}

export async function executionSection(ctx: SectionContext): Promise<Section> {
  const { q, lang, params } = ctx;
  const dialect = q.store.dialect;
  const TIME_PROGRESS = timeProgressSql(dialect);
  const section: Section = { id: 'execution', title: t(lang, 'execution'), missing: [], blocks: [] };
  const hasIndicators = await q.hasRows('treasury.budget_indicators', 'fiscal_year = $year::INTEGER', params);
  const hasPayments = await q.hasRows('treasury.payments', 'fiscal_year = $year::INTEGER', params);
  if (!hasIndicators) section.missing.push('treasury.budget_indicators');
  if (!hasPayments) section.missing.push('treasury.payments');
  if (!hasIndicators && !hasPayments) return section;
  const wanUnit = moneyUnit('wan', lang);

  // Totals and time progress.
  const [totals] = await q.run<{ budget: string; spent: string; payments: string; time_progress: number }>(
    'execution_totals',
    t(lang, 'totalBudget'),
    `WITH RECURSIVE ${SCOPE_CTE},
    budget AS (SELECT coalesce(sum(amount), 0) AS v FROM treasury.budget_indicators
      WHERE fiscal_year = $year::INTEGER AND approved_date <= $qend::DATE AND ${inScope('region_code')}),
    spent AS (SELECT coalesce(sum(amount), 0) AS v, count(*) AS n FROM treasury.payments
      WHERE fiscal_year = $year::INTEGER AND pay_date <= $qend::DATE AND ${inScope('region_code')})
    SELECT budget.v AS budget, spent.v AS spent, spent.n AS payments, ${TIME_PROGRESS} AS time_progress
    FROM budget, spent`,
    params,
  );
  const timeProgress = num(totals?.time_progress);
  const execRate = num(totals?.budget) > 0 ? num(totals?.spent) / num(totals?.budget) : null;
  ctx.headline.budget_total = totals?.budget ?? '0';
  ctx.headline.spent_total = totals?.spent ?? '0';
  ctx.headline.time_progress = timeProgress;
  section.blocks.push({
    kind: 'figures',
    items: [
      { label: `${t(lang, 'totalBudget')}${paren(lang, wanUnit)}`, text: wan(totals?.budget), value: totals?.budget ?? null, queryId: 'execution_totals' },
      { label: `${t(lang, 'totalSpent')}${paren(lang, wanUnit)}`, text: wan(totals?.spent), value: totals?.spent ?? null, queryId: 'execution_totals' },
      { label: t(lang, 'execRate'), text: pct(execRate), value: execRate, queryId: 'execution_totals' },
      { label: t(lang, 'timeProgress'), text: pct(timeProgress), value: timeProgress, queryId: 'execution_totals' },
      { label: t(lang, 'payments'), text: count(totals?.payments), value: Number(totals?.payments ?? 0), queryId: 'execution_totals' },
    ],
  });

  // By department (主管部门: ref.agencies.dept_code; an agency missing from ref.agencies stands for itself).
  const depts = await q.run<{ dept_code: string; dept_name: string; budget: string; spent: string; rate: number | null; gap_pp: number | null }>(
    'execution_by_department',
    t(lang, 'execByDept'),
    `WITH RECURSIVE ${SCOPE_CTE},
    dept AS (SELECT agency_code, dept_code FROM ref.agencies),
    budget AS (
      SELECT coalesce(d.dept_code, i.agency_code) AS dept_code, sum(i.amount) AS budget
      FROM treasury.budget_indicators i LEFT JOIN dept d USING (agency_code)
      WHERE i.fiscal_year = $year::INTEGER AND i.approved_date <= $qend::DATE AND ${inScope('i.region_code')}
      GROUP BY 1),
    spent AS (
      SELECT coalesce(d.dept_code, p.agency_code) AS dept_code, sum(p.amount) AS spent
      FROM treasury.payments p LEFT JOIN dept d USING (agency_code)
      WHERE p.fiscal_year = $year::INTEGER AND p.pay_date <= $qend::DATE AND ${inScope('p.region_code')}
      GROUP BY 1)
    SELECT x.dept_code, coalesce(a.agency_name, x.dept_code) AS dept_name,
           coalesce(budget, 0) AS budget, coalesce(spent, 0) AS spent,
           CASE WHEN budget > 0 THEN CAST(spent AS ${dialect.double}) / budget END AS rate,
           CASE WHEN budget > 0 THEN ${dialect.roundDouble(`(CAST(spent AS ${dialect.double}) / budget - ${TIME_PROGRESS}) * 100`, 2)} END AS gap_pp
    -- The joined key named once (x): PostgreSQL finds an unqualified dept_code ambiguous beside ref.agencies'.
    FROM (SELECT * FROM budget FULL JOIN spent USING (dept_code)) x
    LEFT JOIN ref.agencies a ON a.agency_code = x.dept_code
    ORDER BY rate NULLS LAST, x.dept_code`,
    params,
  );
  const deptRows = depts.map((d) => ({
    dept: d.dept_name,
    budget: wan(d.budget),
    spent: wan(d.spent),
    rate: pct(d.rate),
    gap: decimal(d.gap_pp, 2),
  }));
  const deptColumns = [
    { key: 'dept', label: t(lang, 'department') },
    { key: 'budget', label: `${t(lang, 'budget')}${paren(lang, wanUnit)}`, align: 'right' as const },
    { key: 'spent', label: `${t(lang, 'spent')}${paren(lang, wanUnit)}`, align: 'right' as const },
    { key: 'rate', label: t(lang, 'execRate'), align: 'right' as const },
    { key: 'gap', label: t(lang, 'gap'), align: 'right' as const },
  ];
  // At scale (a city has 100+ departments) the chart and the section show the slowest and the fastest
  // DEPTS_SHOWN departments; every department is in the annex table (附表).
  const withBudget = depts.filter((d) => d.rate !== null);
  const many = withBudget.length > 2 * DEPTS_SHOWN;
  const charted = many ? [...withBudget.slice(0, DEPTS_SHOWN), ...withBudget.slice(-DEPTS_SHOWN)] : withBudget;
  if (withBudget.length > 0) {
    section.blocks.push({
      kind: 'chart',
      title: many
        ? `${t(lang, 'execByDeptTopBottom', { n: DEPTS_SHOWN, total: withBudget.length })}${paren(lang, `${t(lang, 'timeProgress')} ${pct(timeProgress)}`)}`
        : `${t(lang, 'execByDept')}${paren(lang, `${t(lang, 'timeProgress')} ${pct(timeProgress)}`)}`,
      svg: barChart({
        categories: charted.map((d) => d.dept_name),
        series: [{ name: t(lang, 'execRate'), data: charted.map((d) => r2(num(d.rate) * 100)) }],
        horizontal: true,
        valueSuffix: '%',
        referenceLine: { value: r2(timeProgress * 100), label: `${t(lang, 'timeProgress')} ${pct(timeProgress, 1)}` },
      }),
      queryId: 'execution_by_department',
    });
  }
  const fullTable = { kind: 'table' as const, title: t(lang, 'execByDept'), columns: deptColumns, rows: deptRows, queryId: 'execution_by_department' };
  if (many) ctx.annex.push({ ...fullTable, title: `${t(lang, 'execByDept')}${paren(lang, t(lang, 'allDepts', { total: depts.length }))}` });
  else section.blocks.push(fullTable);
  const shown = many ? DEPTS_SHOWN : 5;
  const slowest = deptRows.filter((_, i) => depts[i]!.rate !== null).slice(0, shown);
  const fastest = deptRows.filter((_, i) => depts[i]!.rate !== null).reverse().slice(0, shown);
  section.blocks.push({ kind: 'table', title: t(lang, 'slowest'), columns: deptColumns, rows: slowest, queryId: 'execution_by_department' });
  section.blocks.push({ kind: 'table', title: t(lang, 'fastest'), columns: deptColumns, rows: fastest, queryId: 'execution_by_department' });
  if (many) section.blocks.push({ kind: 'note', text: t(lang, 'seeAnnex', { total: depts.length }) });

  // The four books (四本账) by fund source.
  const books = await q.run<{ fund_source: string; budget: string; spent: string; rate: number | null }>(
    'four_books',
    t(lang, 'fourBooks'),
    `WITH RECURSIVE ${SCOPE_CTE},
    budget AS (SELECT fund_source, sum(amount) AS budget FROM treasury.budget_indicators
      WHERE fiscal_year = $year::INTEGER AND approved_date <= $qend::DATE AND ${inScope('region_code')} GROUP BY 1),
    spent AS (SELECT fund_source, sum(amount) AS spent FROM treasury.payments
      WHERE fiscal_year = $year::INTEGER AND pay_date <= $qend::DATE AND ${inScope('region_code')} GROUP BY 1)
    SELECT fund_source, coalesce(budget, 0) AS budget, coalesce(spent, 0) AS spent,
           CASE WHEN budget > 0 THEN CAST(spent AS ${dialect.double}) / budget END AS rate
    FROM budget FULL JOIN spent USING (fund_source)
    ORDER BY ${positionIn('fund_source', ['general', 'gov_fund', 'soe_capital', 'social_insurance'])}`,
    params,
  );
  section.blocks.push({
    kind: 'chart',
    title: t(lang, 'fourBooks'),
    svg: barChart({
      categories: books.map((b) => fundSourceName(b.fund_source, lang)),
      series: [
        { name: `${t(lang, 'budget')}${paren(lang, wanUnit)}`, data: books.map((b) => r2(num(b.budget) / 10000)) },
        { name: `${t(lang, 'spent')}${paren(lang, wanUnit)}`, data: books.map((b) => r2(num(b.spent) / 10000)) },
      ],
    }),
    queryId: 'four_books',
  });
  section.blocks.push({
    kind: 'table',
    title: t(lang, 'fourBooks'),
    columns: [
      { key: 'book', label: t(lang, 'fundSource') },
      { key: 'budget', label: `${t(lang, 'budget')}${paren(lang, wanUnit)}`, align: 'right' },
      { key: 'spent', label: `${t(lang, 'spent')}${paren(lang, wanUnit)}`, align: 'right' },
      { key: 'rate', label: t(lang, 'execRate'), align: 'right' },
    ],
    rows: books.map((b) => ({ book: fundSourceName(b.fund_source, lang), budget: wan(b.budget), spent: wan(b.spent), rate: pct(b.rate) })),
    queryId: 'four_books',
  });

  // Monthly spending curve, this year against last year.
  const months = await q.run<{ month: number; this_year: string; last_year: string }>(
    'monthly_spending',
    t(lang, 'monthly'),
    `WITH RECURSIVE ${SCOPE_CTE},
    m AS (SELECT month FROM (VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)) AS v(month)
      WHERE month <= ${dialect.month('$qend::DATE')}),
    p AS (SELECT fiscal_year, ${dialect.month('pay_date')} AS month, sum(amount) AS spent FROM treasury.payments
      WHERE fiscal_year IN ($year::INTEGER, $year::INTEGER - 1) AND ${dialect.year('pay_date')} = fiscal_year
        AND ${dialect.month('pay_date')} <= ${dialect.month('$qend::DATE')} AND ${inScope('region_code')}
      GROUP BY 1, 2)
    SELECT m.month,
      coalesce((SELECT spent FROM p WHERE p.month = m.month AND p.fiscal_year = $year::INTEGER), 0) AS this_year,
      coalesce((SELECT spent FROM p WHERE p.month = m.month AND p.fiscal_year = $year::INTEGER - 1), 0) AS last_year
    FROM m ORDER BY m.month`,
    params,
  );
  const monthLabel = (m: number) => (lang === 'zh' ? `${m}月` : ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m - 1]!);
  const hasLastYear = months.some((m) => num(m.last_year) !== 0);
  section.blocks.push({
    kind: 'chart',
    title: `${t(lang, 'monthly')}${paren(lang, wanUnit)}`,
    svg: lineChart({
      categories: months.map((m) => monthLabel(Number(m.month))),
      series: [
        { name: t(lang, 'thisYear'), data: months.map((m) => r2(num(m.this_year) / 10000)) },
        ...(hasLastYear ? [{ name: t(lang, 'lastYear'), data: months.map((m) => r2(num(m.last_year) / 10000)) }] : []),
      ],
    }),
    queryId: 'monthly_spending',
  });
  return section;
}
