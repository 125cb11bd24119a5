/** 四、转移支付: timeliness of issuance (预算法第五十二条) and direct-fund disbursement. */
import { count, moneyUnit, pct, wan, date } from '../format.ts';
import { paren, t, transferCategoryName } from '../i18n.ts';
import type { Section } from '../model.ts';
import { inScope, positionIn, SCOPE_CTE } from '../traced-queries.ts';
import { sectionTable, type SectionContext } from './context.ts';

export async function transfersSection(ctx: SectionContext): Promise<Section> {
  const { q, lang, params } = ctx;
  const dialect = q.store.dialect;
  const section: Section = { id: 'transfers', title: t(lang, 'transfers'), missing: [], blocks: [] };
  if (!(await q.hasRows('transfers.grants', 'fiscal_year = $year::INTEGER AND issued_date <= $qend::DATE', params))) {
    section.missing.push('transfers.grants');
    return section;
  }
  const wanUnit = moneyUnit('wan', lang);

  // Basis and limit as in the transfer.late_issue rule: pass-through 30 days from receipt,
  // otherwise 30 (general) / 60 (special) days from the issuing region's budget approval.
  const timeliness = await q.run<{ kind: string; n: string; amount: string; avg_days: number | null; late: string }>(
    'transfer_timeliness',
    t(lang, 'timeliness'),
    `WITH RECURSIVE ${SCOPE_CTE},
    g AS (
      SELECT g.*, CASE WHEN g.received_date IS NOT NULL THEN 'pass_through' ELSE g.category END AS kind,
             coalesce(g.received_date, s.congress_approved_date) AS basis,
             CASE WHEN g.received_date IS NOT NULL THEN 30 WHEN g.category = 'general' THEN 30 ELSE 60 END AS limit_days
      FROM transfers.grants g
      LEFT JOIN ref.budget_sessions s ON s.region_code = g.from_region AND s.fiscal_year = g.fiscal_year
      WHERE g.fiscal_year = $year::INTEGER AND g.issued_date <= $qend::DATE AND ${inScope('g.from_region')})
    SELECT kind, count(*) AS n, sum(amount) AS amount,
           ${dialect.roundDouble('avg(issued_date - basis)', 1)} AS avg_days,
           count(*) FILTER (WHERE issued_date - basis > limit_days) AS late
    FROM g GROUP BY kind
    ORDER BY ${positionIn('kind', ['general', 'special', 'pass_through'])}`,
    params,
  );
  section.blocks.push({
    kind: 'table',
    title: t(lang, 'timeliness'),
    columns: [
      { key: 'kind', label: t(lang, 'category') },
      { key: 'n', label: t(lang, 'count'), align: 'right' },
      { key: 'amount', label: `${t(lang, 'amount')}${paren(lang, wanUnit)}`, align: 'right' },
      { key: 'avg', label: t(lang, 'avgDays'), align: 'right' },
      { key: 'late', label: t(lang, 'lateCount'), align: 'right' },
    ],
    rows: timeliness.map((r) => ({
      kind: transferCategoryName(r.kind, lang),
      n: count(r.n),
      amount: wan(r.amount),
      avg: r.avg_days === null ? '—' : String(r.avg_days),
      late: count(r.late),
    })),
    queryId: 'transfer_timeliness',
  });

  const direct = await q.run<{ transfer_id: string; program_name: string; issued_date: string; amount: string; disbursed: string; share: number | null }>(
    'direct_funds',
    t(lang, 'directFunds'),
    `WITH RECURSIVE ${SCOPE_CTE},
    d AS (SELECT transfer_id, sum(amount) AS disbursed FROM transfers.disbursements WHERE pay_date <= $qend::DATE GROUP BY 1)
    SELECT g.transfer_id, g.program_name, ${dialect.dayText('g.issued_date')} AS issued_date, g.amount,
           coalesce(d.disbursed, 0) AS disbursed,
           CASE WHEN g.amount > 0 THEN CAST(coalesce(d.disbursed, 0) AS ${dialect.double}) / g.amount END AS share
    FROM transfers.grants g LEFT JOIN d USING (transfer_id)
    WHERE g.direct_fund AND g.fiscal_year = $year::INTEGER AND g.issued_date <= $qend::DATE
      AND (${inScope('g.to_region')} OR ${inScope('g.from_region')})
    ORDER BY share NULLS FIRST, g.transfer_id`,
    params,
  );
  section.blocks.push(...sectionTable(ctx, {
    kind: 'table',
    title: t(lang, 'directFunds'),
    columns: [
      { key: 'program', label: t(lang, 'program') },
      { key: 'issued', label: t(lang, 'issuedDate') },
      { key: 'amount', label: `${t(lang, 'amount')}${paren(lang, wanUnit)}`, align: 'right' },
      { key: 'disbursed', label: `${t(lang, 'disbursed')}${paren(lang, wanUnit)}`, align: 'right' },
      { key: 'share', label: t(lang, 'disbursedShare'), align: 'right' },
    ],
    rows: direct.map((r) => ({
      program: `${r.program_name}${paren(lang, r.transfer_id)}`,
      issued: date(r.issued_date, lang),
      amount: wan(r.amount),
      disbursed: wan(r.disbursed),
      share: pct(r.share),
    })),
    queryId: 'direct_funds',
    empty: lang === 'zh' ? '本期无直达资金。' : 'No direct funds in this period.',
  }));
  return section;
}
