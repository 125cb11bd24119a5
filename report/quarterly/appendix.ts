/**
 * 附录: every high-severity flag of the year to date raised by the report's
 * as-of day, one line each — rule, unit, period, measure and threshold by their
 * kind, amount in 万元, status at the end of that day (reconstructed from the
 * event log: tracker/as-of.ts), short id. The title and the evidence summary are
 * in the JSON output's rows.
 */
import { measure, moneyUnit, wan, type MeasureKind } from '../format.ts';
import { agencyNames, ruleNames } from '../rule-names.ts';
import { STATUS_LABELS, isStatus } from '../../tracker/states.ts';
import { paren, t } from '../i18n.ts';
import type { Section } from '../model.ts';
import { inScope, SCOPE_CTE } from '../traced-queries.ts';
import type { SectionContext } from './context.ts';
import { FLAG_DAY } from './flags.ts';
import { flagsAsOfCte } from '../../tracker/as-of.ts';
// The short id the CLI tables print and every flag-id argument accepts; `fiscus flags --format json` has the full id.
import { shortFlagId } from '../../flags/short-id.ts';

/** How many evidence keys to print per flag before summarising the rest. */
const EVIDENCE_SHOWN = 5;

export async function appendixSection(ctx: SectionContext): Promise<Section> {
  const { q, lang, params } = ctx;
  const dialect = q.store.dialect;
  const section: Section = { id: 'appendix', title: t(lang, 'appendix'), missing: [], blocks: [] };
  const rows = await q.run<{
    flag_id: string; rule_id: string; title: string; title_en: string; entity_type: string; entity_id: string; entity_name: string | null;
    agency_code: string | null; assigned_to: string | null; period_start: string | null; period_end: string | null; fiscal_year: number | null;
    measure_name: string | null; measure_value: string | null; measure_threshold: string | null; amount: string | null;
    status: string; evidence: string;
  }>(
    'high_flags',
    t(lang, 'appendix'),
    `WITH RECURSIVE ${SCOPE_CTE}, ${flagsAsOfCte('asof', dialect)}
    SELECT flag_id, rule_id, title, title_en, entity_type, entity_id, entity_name, agency_code, assigned_to,
           ${dialect.dayText('period_start')} AS period_start, ${dialect.dayText('period_end')} AS period_end, fiscal_year,
           measure_name, measure_value, measure_threshold,
           amount, status, CAST(evidence AS VARCHAR) AS evidence
    FROM flags_asof f
    WHERE severity = 'high' AND ${FLAG_DAY} BETWEEN make_date($year::INTEGER, 1, 1) AND $qend::DATE AND ${inScope('region_code')}
    ORDER BY rule_id, amount DESC NULLS LAST, flag_id`,
    params,
  );
  ctx.headline.high_flags = rows.length;
  const ruleName = await ruleNames(lang);
  const agencyName = await agencyNames(q.store);
  const unit = moneyUnit('wan', lang);
  section.blocks.push({
    kind: 'table',
    title: `${t(lang, 'appendix')}${paren(lang, rows.length)}`,
    columns: [
      { key: 'rule', label: t(lang, 'rule') },
      { key: 'unit', label: t(lang, 'unit') },
      { key: 'period', label: t(lang, 'findingPeriod'), nowrap: true },
      { key: 'measure', label: `${t(lang, 'measureThreshold')}${paren(lang, t(lang, 'moneyIn', { unit }))}`, align: 'right' },
      { key: 'amount', label: `${t(lang, 'amountInvolved')}${paren(lang, unit)}`, align: 'right' },
      { key: 'status_label', label: t(lang, 'status'), nowrap: true },
      { key: 'short_id', label: t(lang, 'shortId'), nowrap: true },
    ],
    rows: rows.map((r) => {
      const evidence = JSON.parse(r.evidence || '[]') as { table: string; key: string }[];
      const shown = evidence.slice(0, EVIDENCE_SHOWN).map((e) => `${e.table}:${e.key}`).join('; ');
      const more = evidence.length > EVIDENCE_SHOWN ? (lang === 'zh' ? ` 等${evidence.length}条` : ` and ${evidence.length - EVIDENCE_SHOWN} more`) : '';
      const kind = measureKind(r.measure_name, r.measure_value);
      const m = (v: string | null) => measure(v, kind, { unit: 'wan' });
      return {
        // The full id, the title, the evidence and the status code stay in the row (the JSON output, checks);
        // the table prints one line per flag: rule, unit, period, measure, amount, status label, short id.
        id: r.flag_id,
        short_id: shortFlagId(r.flag_id),
        rule: ruleName(r.rule_id),
        // The responsible unit; for a finding about a region or an enterprise, that region or enterprise.
        unit: r.assigned_to ?? r.agency_code ? agencyName(r.assigned_to ?? r.agency_code) : (r.entity_name ?? r.entity_id),
        period: periodText(r, lang),
        title: lang === 'zh' ? r.title : r.title_en,
        measure: r.measure_value === null ? '—' : `${m(r.measure_value)} / ${m(r.measure_threshold)}`,
        amount: r.amount === null ? '—' : wan(r.amount),
        evidence: `${shown}${more}`,
        status: r.status,
        status_label: isStatus(r.status) ? STATUS_LABELS[r.status][lang] : r.status,
      };
    }),
    queryId: 'high_flags',
    empty: t(lang, 'noHigh'),
  });
  return section;
}

/** The finding's period as people read it: one day, a range, or the fiscal year. */
function periodText(r: { period_start: string | null; period_end: string | null; fiscal_year: number | null }, lang: 'zh' | 'en'): string {
  const { period_start: a, period_end: b } = r;
  const year = lang === 'zh' ? (y: string) => `${y}年` : (y: string) => y;
  if (a && b && a.slice(4) === '-01-01' && b.slice(4) === '-12-31' && a.slice(0, 4) === b.slice(0, 4)) return year(a.slice(0, 4));
  if (a && b) return a === b ? isoShort(a) : `${isoShort(a)} – ${isoShort(b)}`;
  if (a || b) return isoShort((a ?? b)!);
  if (r.fiscal_year) return lang === 'zh' ? `${r.fiscal_year}年度` : `FY ${r.fiscal_year}`;
  return '—';
}

/** A day as 2025-07-08: the appendix lists a hundred findings a line each. */
function isoShort(d: string): string {
  return d.slice(0, 10);
}

/**
 * How a measure is printed, from what the rule compiler writes: percent measures are named
 * `…_pct` / `pct_…`, money comes as a DECIMAL(18,2) string (2 decimals), counts as integers,
 * other numbers with 4 decimals (ratios, MAD, z-scores).
 */
export function measureKind(name: string | null, value: string | null): MeasureKind {
  if (name && /(^pct_|_pct$)/.test(name)) return 'percent';
  if (name && /_points$/.test(name)) return 'number';
  if (value && /^-?\d+\.\d{2}$/.test(value)) return 'money';
  if (value && /^-?\d+$/.test(value)) return 'count';
  return 'ratio';
}
