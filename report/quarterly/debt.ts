/** 三、政府债务: limits, balances and ratios by region against the warning lines; special bonds (借用还). */
import { thresholdBarChart } from '../charts.ts';
import { count, fenToYuan, moneyUnit, pct, toFen, wan, yi } from '../format.ts';
import { paren, t } from '../i18n.ts';
import type { Section } from '../model.ts';
import { inScope, SCOPE_CTE } from '../traced-queries.ts';
import { num, r2, SECTION_ROWS, sectionTable, type SectionContext } from './context.ts';

export async function debtSection(ctx: SectionContext): Promise<Section> {
  const { q, lang, params } = ctx;
  const dialect = q.store.dialect;
  const section: Section = { id: 'debt', title: t(lang, 'debt'), missing: [], blocks: [] };
  const hasPositions = await q.hasRows('debt.positions', 'fiscal_year = $year::INTEGER', params);
  const hasBonds = await q.hasRows('debt.bonds', 'issue_date <= $qend::DATE', params);
  if (!hasPositions) section.missing.push('debt.positions');
  if (!hasBonds) section.missing.push('debt.bonds');
  if (!hasPositions && !hasBonds) return section;
  const yiUnit = moneyUnit('yi', lang);

  if (hasPositions) {
    const positions = await q.run<{
      region_code: string; region_name: string; debt_limit: string; debt_balance: string;
      debt_ratio: number | null; limit_use: number | null; interest_burden: number | null;
    }>(
      'debt_positions',
      t(lang, 'debtPositions'),
      `WITH RECURSIVE ${SCOPE_CTE}
      SELECT p.region_code, coalesce(r.region_name, p.region_code) AS region_name,
             p.debt_limit, p.debt_balance,
             CASE WHEN p.fiscal_capacity > 0 THEN CAST(p.debt_balance AS ${dialect.double}) / p.fiscal_capacity END AS debt_ratio,
             CASE WHEN p.debt_limit > 0 THEN CAST(p.debt_balance AS ${dialect.double}) / p.debt_limit END AS limit_use,
             CASE WHEN p.general_expenditure > 0 THEN CAST(p.interest_paid AS ${dialect.double}) / p.general_expenditure END AS interest_burden
      FROM debt.positions p LEFT JOIN ref.regions r USING (region_code)
      WHERE p.fiscal_year = $year::INTEGER AND ${inScope('p.region_code')}
      ORDER BY debt_ratio DESC NULLS LAST, p.region_code`,
      params,
    );
    ctx.headline.debt_balance_total = fenToYuan(positions.reduce((acc, p) => acc + toFen(p.debt_balance), 0n));
    // The highest debt ratios first; at scale the chart shows the SECTION_ROWS highest.
    const charted = positions.slice(0, SECTION_ROWS);
    section.blocks.push({
      kind: 'chart',
      title: positions.length > charted.length ? `${t(lang, 'debtRatioChart')}${paren(lang, t(lang, 'highestN', { n: charted.length, total: positions.length }))}` : t(lang, 'debtRatioChart'),
      svg: thresholdBarChart({
        categories: charted.map((p) => p.region_name),
        name: t(lang, 'debtRatio'),
        data: charted.map((p) => r2(num(p.debt_ratio) * 100)),
        lines: [
          { value: 100, label: lang === 'zh' ? '警戒线 100%' : 'warning 100%', color: '#e6a700' },
          { value: 120, label: lang === 'zh' ? '高风险 120%' : 'high 120%', color: '#d9342b' },
        ],
        valueSuffix: '%',
      }),
      queryId: 'debt_positions',
    });
    section.blocks.push(...sectionTable(ctx, {
      kind: 'table',
      title: t(lang, 'debtPositions'),
      columns: [
        { key: 'region', label: t(lang, 'region') },
        { key: 'limit', label: `${t(lang, 'debtLimit')}${paren(lang, yiUnit)}`, align: 'right' },
        { key: 'balance', label: `${t(lang, 'debtBalance')}${paren(lang, yiUnit)}`, align: 'right' },
        { key: 'ratio', label: t(lang, 'debtRatio'), align: 'right' },
        { key: 'limit_use', label: t(lang, 'limitUse'), align: 'right' },
        { key: 'interest', label: t(lang, 'interestBurden'), align: 'right' },
      ],
      rows: positions.map((p) => ({
        region: p.region_name,
        limit: yi(p.debt_limit),
        balance: yi(p.debt_balance),
        ratio: pct(p.debt_ratio),
        limit_use: pct(p.limit_use),
        interest: pct(p.interest_burden),
      })),
      queryId: 'debt_positions',
    }));
  }

  if (hasBonds) {
    const wanUnit = moneyUnit('wan', lang);
    const bonds = await q.run<{ bond_code: string; bond_name: string; face_amount: string; allocated: string; spent: string; share: number | null }>(
      'special_bonds',
      t(lang, 'specialBonds'),
      `WITH RECURSIVE ${SCOPE_CTE},
      alloc AS (SELECT bond_code, sum(amount) AS allocated FROM debt.allocations WHERE allocation_date <= $qend::DATE GROUP BY 1),
      spend AS (SELECT bond_code, sum(amount) AS spent FROM debt.spending WHERE pay_date <= $qend::DATE GROUP BY 1)
      SELECT b.bond_code, b.bond_name, b.face_amount, coalesce(a.allocated, 0) AS allocated, coalesce(s.spent, 0) AS spent,
             CASE WHEN coalesce(a.allocated, 0) > 0 THEN CAST(coalesce(s.spent, 0) AS ${dialect.double}) / a.allocated END AS share
      FROM debt.bonds b LEFT JOIN alloc a USING (bond_code) LEFT JOIN spend s USING (bond_code)
      WHERE b.bond_type = 'special' AND b.issue_date <= $qend::DATE AND ${inScope('b.region_code')}
      ORDER BY share NULLS LAST, b.issue_date, b.bond_code`,
      params,
    );
    section.blocks.push(...sectionTable(ctx, {
      kind: 'table',
      title: t(lang, 'specialBonds'),
      columns: [
        { key: 'bond', label: t(lang, 'bond') },
        { key: 'face', label: `${t(lang, 'faceAmount')}${paren(lang, wanUnit)}`, align: 'right' },
        { key: 'allocated', label: `${t(lang, 'allocated')}${paren(lang, wanUnit)}`, align: 'right' },
        { key: 'spent', label: `${t(lang, 'bondSpent')}${paren(lang, wanUnit)}`, align: 'right' },
        { key: 'share', label: t(lang, 'spentShare'), align: 'right' },
      ],
      rows: bonds.map((b) => ({ bond: `${b.bond_name}${paren(lang, b.bond_code)}`, face: wan(b.face_amount), allocated: wan(b.allocated), spent: wan(b.spent), share: pct(b.share) })),
      queryId: 'special_bonds',
    }));

    const [service] = await q.run<{ due: string; paid: string; overdue: string }>(
      'debt_service',
      t(lang, 'serviceDue'),
      `WITH RECURSIVE ${SCOPE_CTE}
      SELECT coalesce(sum(s.principal_due + s.interest_due), 0) AS due,
             coalesce(sum(CASE WHEN s.paid_date <= $qend::DATE THEN s.paid_amount ELSE 0 END), 0) AS paid,
             count(*) FILTER (WHERE s.due_date < $qend::DATE
               AND coalesce(CASE WHEN s.paid_date <= $qend::DATE THEN s.paid_amount END, 0) < s.principal_due + s.interest_due) AS overdue
      FROM debt.service s JOIN debt.bonds b USING (bond_code)
      WHERE ${dialect.year('s.due_date')} = $year::INTEGER AND s.due_date <= $qend::DATE AND ${inScope('b.region_code')}`,
      params,
    );
    section.blocks.push({
      kind: 'figures',
      items: [
        { label: `${t(lang, 'serviceDue')}${paren(lang, wanUnit)}`, text: wan(service?.due), value: service?.due ?? null, queryId: 'debt_service' },
        { label: `${t(lang, 'servicePaid')}${paren(lang, wanUnit)}`, text: wan(service?.paid), value: service?.paid ?? null, queryId: 'debt_service' },
        { label: t(lang, 'serviceOverdue'), text: count(service?.overdue), value: Number(service?.overdue ?? 0), queryId: 'debt_service' },
      ],
    });
  }
  return section;
}
