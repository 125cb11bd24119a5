/** 五、国有资产: disposals, idle assets, SOE leverage. */
import { barChart } from '../charts.ts';
import { count, moneyUnit, pct, wan } from '../format.ts';
import { paren, t } from '../i18n.ts';
import type { Section } from '../model.ts';
import { inScope, SCOPE_CTE } from '../traced-queries.ts';
import { num, r2, SECTION_ROWS, sectionTable, type SectionContext } from './context.ts';

const CATEGORY_ZH: Record<string, string> = {
  land: '土地', building: '房屋', vehicle: '车辆', general_equipment: '通用设备', special_equipment: '专用设备',
  furniture: '家具', intangible: '无形资产', other: '其他',
};

export async function assetsSection(ctx: SectionContext): Promise<Section> {
  const { q, lang, params } = ctx;
  const dialect = q.store.dialect;
  const section: Section = { id: 'assets', title: t(lang, 'assets'), missing: [], blocks: [] };
  const hasCards = await q.hasRows('assets.cards');
  const hasChanges = await q.hasRows('assets.changes', `${dialect.year('change_date')} = $year::INTEGER`, params);
  const hasSoe = await q.hasRows('assets.soe_financials', `period <= ${dialect.monthText('$qend::DATE')}`, params);
  if (!hasCards) section.missing.push('assets.cards');
  if (!hasChanges) section.missing.push('assets.changes');
  if (!hasSoe) section.missing.push('assets.soe_financials');
  if (!hasCards && !hasChanges && !hasSoe) return section;
  const wanUnit = moneyUnit('wan', lang);
  const agencyScope = `(SELECT agency_code FROM ref.agencies WHERE ${inScope('region_code')})`;

  if (hasChanges) {
    const [disposals] = await q.run<{ n: string; amount: string; appraised: string; below: string; no_approval: string }>(
      'asset_disposals',
      t(lang, 'disposals'),
      `WITH RECURSIVE ${SCOPE_CTE}
      SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount, coalesce(sum(appraised_value), 0) AS appraised,
             count(*) FILTER (WHERE appraised_value IS NOT NULL AND amount < appraised_value * 0.9) AS below,
             count(*) FILTER (WHERE approval_no IS NULL OR trim(approval_no) = '') AS no_approval
      FROM assets.changes
      WHERE change_type = 'dispose' AND ${dialect.year('change_date')} = $year::INTEGER AND change_date <= $qend::DATE
        AND ($region IS NULL OR agency_code IN ${agencyScope})`,
      params,
    );
    section.blocks.push({
      kind: 'figures',
      items: [
        { label: `${t(lang, 'disposals')}${paren(lang, t(lang, 'count'))}`, text: count(disposals?.n), value: Number(disposals?.n ?? 0), queryId: 'asset_disposals' },
        { label: `${t(lang, 'amount')}${paren(lang, wanUnit)}`, text: wan(disposals?.amount), value: disposals?.amount ?? null, queryId: 'asset_disposals' },
        { label: `${t(lang, 'appraised')}${paren(lang, wanUnit)}`, text: wan(disposals?.appraised), value: disposals?.appraised ?? null, queryId: 'asset_disposals' },
        { label: t(lang, 'belowAppraisal'), text: count(disposals?.below), value: Number(disposals?.below ?? 0), queryId: 'asset_disposals' },
        { label: t(lang, 'noApproval'), text: count(disposals?.no_approval), value: Number(disposals?.no_approval ?? 0), queryId: 'asset_disposals' },
      ],
    });
  }

  if (hasCards) {
    const idle = await q.run<{ category: string; n: string; original_value: string }>(
      'idle_assets',
      t(lang, 'idleAssets'),
      `WITH RECURSIVE ${SCOPE_CTE}
      SELECT category, count(*) AS n, sum(original_value) AS original_value
      FROM assets.cards
      WHERE status = 'idle' AND acquired_date <= $qend::DATE AND ($region IS NULL OR agency_code IN ${agencyScope})
      GROUP BY category ORDER BY sum(original_value) DESC`,
      params,
    );
    section.blocks.push({
      kind: 'table',
      title: t(lang, 'idleAssets'),
      columns: [
        { key: 'category', label: t(lang, 'category') },
        { key: 'n', label: t(lang, 'count'), align: 'right' },
        { key: 'value', label: `${t(lang, 'originalValue')}${paren(lang, wanUnit)}`, align: 'right' },
      ],
      rows: idle.map((r) => ({ category: lang === 'zh' ? (CATEGORY_ZH[r.category] ?? r.category) : r.category, n: count(r.n), value: wan(r.original_value) })),
      queryId: 'idle_assets',
      empty: lang === 'zh' ? '无闲置资产。' : 'No idle assets.',
    });
  }

  if (hasSoe) {
    const soe = await q.run<{ enterprise_code: string; enterprise_name: string; period: string; total_assets: string; total_liabilities: string; leverage: number | null; net_profit: string }>(
      'soe_leverage',
      t(lang, 'soeLeverage'),
      `WITH RECURSIVE ${SCOPE_CTE},
      latest AS (
        SELECT *, row_number() OVER (PARTITION BY enterprise_code ORDER BY period DESC) AS rn
        FROM assets.soe_financials
        WHERE period <= ${dialect.monthText('$qend::DATE')} AND ${inScope('region_code')})
      SELECT enterprise_code, enterprise_name, period, total_assets, total_liabilities,
             CASE WHEN total_assets > 0 THEN CAST(total_liabilities AS ${dialect.double}) / total_assets END AS leverage, net_profit
      FROM latest WHERE rn = 1 ORDER BY leverage DESC NULLS LAST, enterprise_code`,
      params,
    );
    // The most leveraged first; at scale the chart shows the SECTION_ROWS most leveraged.
    const charted = soe.slice(0, SECTION_ROWS);
    section.blocks.push({
      kind: 'chart',
      title: soe.length > charted.length ? `${t(lang, 'soeLeverage')}${paren(lang, t(lang, 'highestN', { n: charted.length, total: soe.length }))}` : t(lang, 'soeLeverage'),
      svg: barChart({
        categories: charted.map((s) => s.enterprise_name),
        series: [{ name: t(lang, 'leverage'), data: charted.map((s) => r2(num(s.leverage) * 100)) }],
        horizontal: true,
        valueSuffix: '%',
        referenceLine: { value: 70, label: '70%' },
      }),
      queryId: 'soe_leverage',
    });
    section.blocks.push(...sectionTable(ctx, {
      kind: 'table',
      title: t(lang, 'soeLeverage'),
      columns: [
        { key: 'name', label: t(lang, 'enterprise') },
        { key: 'period', label: lang === 'zh' ? '期间' : 'Period' },
        { key: 'assets', label: `${t(lang, 'totalAssets')}${paren(lang, wanUnit)}`, align: 'right' },
        { key: 'liabilities', label: `${t(lang, 'totalLiabilities')}${paren(lang, wanUnit)}`, align: 'right' },
        { key: 'leverage', label: t(lang, 'leverage'), align: 'right' },
        { key: 'profit', label: `${t(lang, 'netProfit')}${paren(lang, wanUnit)}`, align: 'right' },
      ],
      rows: soe.map((s) => ({
        name: s.enterprise_name,
        period: s.period,
        assets: wan(s.total_assets),
        liabilities: wan(s.total_liabilities),
        leverage: pct(s.leverage),
        profit: wan(s.net_profit),
      })),
      queryId: 'soe_leverage',
    }));
  }
  return section;
}
