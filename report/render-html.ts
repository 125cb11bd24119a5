/**
 * A self-contained HTML report: inline CSS and inline SVG charts, no remote
 * assets, print styles that keep tables and charts whole across PDF pages.
 */
import { date } from './format.ts';
import { t } from './i18n.ts';
import type { Block, QuarterlyReport, Section } from './model.ts';

export function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

const CSS = `
  @page { size: A4; margin: 18mm 16mm; }
  body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", "SimSun", serif; color: #1a1a1a;
         max-width: 860px; margin: 2em auto; padding: 0 1em; line-height: 1.6; }
  h1 { text-align: center; font-size: 24pt; margin: 0.2em 0; }
  .subtitle { text-align: center; color: #555; margin-bottom: 2em; }
  h2 { border-bottom: 2px solid #c23531; padding-bottom: 0.2em; margin-top: 1.6em; break-after: avoid; page-break-after: avoid; }
  h3 { font-size: 12.5pt; margin: 1.2em 0 0.4em; break-after: avoid; page-break-after: avoid; }
  section.report-section { break-before: page; page-break-before: always; }
  section.report-section:first-of-type { break-before: auto; page-break-before: auto; }
  .figures { display: flex; flex-wrap: wrap; gap: 0.6em; margin: 0.8em 0; }
  .figure { border: 1px solid #ddd; border-radius: 4px; padding: 0.5em 0.8em; min-width: 9em; break-inside: avoid; }
  .figure .label { font-size: 9.5pt; color: #666; }
  .figure .value { font-size: 15pt; font-weight: bold; font-family: "Noto Sans CJK SC", sans-serif; }
  table { border-collapse: collapse; width: 100%; font-size: 10pt; margin: 0.4em 0 1em; break-inside: auto; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .keep { break-inside: avoid; page-break-inside: avoid; }
  th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
  th { background: #f3f3f3; }
  td.nowrap { white-space: nowrap; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  figure.chart { margin: 0.6em 0 1.2em; break-inside: avoid; page-break-inside: avoid; text-align: center; }
  figure.chart svg { max-width: 100%; height: auto; }
  figcaption { font-size: 10pt; color: #444; }
  .source { font-size: 8.5pt; color: #888; }
  /* Long listings (appendix, annex tables): one line a row where it fits. */
  #appendix table, #annex table { font-size: 8.5pt; }
  #appendix th, #appendix td, #annex th, #annex td { padding: 1px 4px; }
  #appendix td:nth-child(1) { min-width: 8em; }
  #appendix td:nth-child(2) { min-width: 7em; }
  .missing { background: #fff7e6; border-left: 4px solid #e6a700; padding: 0.5em 0.8em; }
  .note { color: #555; font-size: 10pt; }
  details.queries pre { white-space: pre-wrap; font-size: 8.5pt; background: #f7f7f7; padding: 0.6em; }
  @media print { details.queries { display: block; } details.queries > summary { display: none; } }
`;

/** Tables up to this many rows take at most half an A4 page however their cells wrap, and are not split. */
const KEEP_TOGETHER_ROWS = 10;

function sourceRef(queryId: string | undefined, lang: QuarterlyReport['lang']): string {
  return queryId ? `<div class="source">${t(lang, 'source')}: <a href="#q-${queryId}">${queryId}</a></div>` : '';
}

function renderBlock(b: Block, lang: QuarterlyReport['lang']): string {
  switch (b.kind) {
    case 'figures':
      return `<div class="figures">${b.items
        .map((f) => `<div class="figure"${f.queryId ? ` data-query="${f.queryId}"` : ''}><div class="label">${escapeHtml(f.label)}</div><div class="value">${escapeHtml(f.text)}</div></div>`)
        .join('')}</div>`;
    case 'table': {
      const head = b.columns.map((c) => `<th>${escapeHtml(c.label)}</th>`).join('');
      const body = b.rows.length
        ? b.rows
            .map((r) => `<tr>${b.columns.map((c) => `<td${c.align === 'right' ? ' class="num"' : c.nowrap ? ' class="nowrap"' : ''}>${escapeHtml(r[c.key] ?? '')}</td>`).join('')}</tr>`)
            .join('\n')
        : `<tr><td colspan="${b.columns.length}">${escapeHtml(b.empty ?? '—')}</td></tr>`;
      const html = `<h3>${escapeHtml(b.title)}</h3><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${sourceRef(b.queryId, lang)}`;
      // A table that fits on a page is printed whole, with its heading, rather than one row on one page and the rest on the next.
      return b.rows.length <= KEEP_TOGETHER_ROWS ? `<div class="keep">${html}</div>` : html;
    }
    case 'chart':
      return `<figure class="chart">${b.svg}<figcaption>${escapeHtml(b.title)}</figcaption>${sourceRef(b.queryId, lang)}</figure>`;
    case 'text':
      return `<p>${escapeHtml(b.text)}</p>`;
    case 'note':
      return `<p class="note">${escapeHtml(b.text)}</p>`;
  }
}

function renderSection(s: Section, lang: QuarterlyReport['lang']): string {
  const missing = s.missing.length
    ? `<p class="missing">${escapeHtml(`${t(lang, 'noData')} ${s.missing.join(', ')}`)}</p>`
    : '';
  return `<section class="report-section" id="${s.id}"><h2>${escapeHtml(s.title)}</h2>${missing}${s.blocks.map((b) => renderBlock(b, lang)).join('\n')}</section>`;
}

export function renderHtml(r: QuarterlyReport): string {
  const queries = r.queries
    .map(
      (q) =>
        `<h3 id="q-${q.id}">${escapeHtml(q.id)} — ${escapeHtml(q.title)}</h3><pre>${escapeHtml(q.sql)}</pre>` +
        `<div class="source">params: ${escapeHtml(JSON.stringify(q.params))}</div>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="${r.lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(r.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(r.title)}</h1>
<div class="subtitle">${escapeHtml(r.subtitle)}<br>${escapeHtml(`${t(r.lang, 'period')}: ${date(r.period.start, r.lang)} – ${date(r.period.end, r.lang)}`)}<br>${escapeHtml(`${t(r.lang, 'asOf')}: ${date(r.asOf, r.lang)}`)}<br>${escapeHtml(`${t(r.lang, 'generatedAt')}: ${r.generatedAt}`)}</div>
${r.sections.map((s) => renderSection(s, r.lang)).join('\n')}
<section class="report-section" id="queries"><h2>${escapeHtml(t(r.lang, 'queriesTitle'))}</h2>
<p class="note">${escapeHtml(t(r.lang, 'queriesIntro'))}</p>
<details class="queries" open><summary>SQL</summary>${queries}</details></section>
</body>
</html>
`;
}
