/**
 * 附录: every high-severity flag of the year to date raised by the report's
 * as-of day, with its evidence summary and its status at the end of that day
 * (reconstructed from the event log: tracker/as-of.ts).
 */
import { moneyUnit, wan } from '../format.ts';
import { t } from '../i18n.ts';
import type { Section } from '../model.ts';
import { inScope, SCOPE_CTE } from '../traced-queries.ts';
import type { SectionContext } from './context.ts';
import { FLAG_DAY } from './flags.ts';
import { flagsAsOfCte } from '../../tracker/as-of.ts';

/** How many evidence keys to print per flag before summarising the rest. */
const EVIDENCE_SHOWN = 5;

export async function appendixSection(ctx: SectionContext): Promise<Section> {
  const { q, lang, params } = ctx;
  const section: Section = { id: 'appendix', title: t(lang, 'appendix'), missing: [], blocks: [] };
  const rows = await q.run<{
    flag_id: string; rule_id: string; title: string; title_en: string; entity_type: string; entity_id: string;
    measure_name: string | null; measure_value: string | null; measure_threshold: string | null; amount: string | null;
    status: string; evidence: string;
  }>(
    'high_flags',
    t(lang, 'appendix'),
    `WITH RECURSIVE ${SCOPE_CTE}, ${flagsAsOfCte('asof')}
    SELECT flag_id, rule_id, title, title_en, entity_type, entity_id, measure_name, measure_value, measure_threshold,
           amount, status, evidence::VARCHAR AS evidence
    FROM flags_asof f
    WHERE severity = 'high' AND ${FLAG_DAY} BETWEEN make_date($year::INTEGER, 1, 1) AND $qend::DATE AND ${inScope('region_code')}
    ORDER BY rule_id, amount DESC NULLS LAST, flag_id`,
    params,
  );
  ctx.headline.high_flags = rows.length;
  section.blocks.push({
    kind: 'table',
    title: `${t(lang, 'appendix')}（${rows.length}）`,
    columns: [
      { key: 'id', label: 'flag_id' },
      { key: 'title', label: t(lang, 'title') },
      { key: 'measure', label: t(lang, 'measure'), align: 'right' },
      { key: 'amount', label: `${t(lang, 'amountInvolved')}（${moneyUnit('wan', lang)}）`, align: 'right' },
      { key: 'evidence', label: t(lang, 'evidence') },
      { key: 'status', label: t(lang, 'status') },
    ],
    rows: rows.map((r) => {
      const evidence = JSON.parse(r.evidence || '[]') as { table: string; key: string }[];
      const shown = evidence.slice(0, EVIDENCE_SHOWN).map((e) => `${e.table}:${e.key}`).join('; ');
      const more = evidence.length > EVIDENCE_SHOWN ? (lang === 'zh' ? ` 等${evidence.length}条` : ` and ${evidence.length - EVIDENCE_SHOWN} more`) : '';
      return {
        id: r.flag_id,
        title: lang === 'zh' ? r.title : r.title_en,
        measure: r.measure_value === null ? '—' : `${r.measure_value} / ${r.measure_threshold ?? '—'}`,
        amount: r.amount === null ? '—' : wan(r.amount),
        evidence: `${shown}${more}`,
        status: r.status,
      };
    }),
    queryId: 'high_flags',
    empty: t(lang, 'noHigh'),
  });
  return section;
}
