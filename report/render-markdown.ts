/** The Markdown twin of the HTML report: same sections and tables; charts are named, not drawn. */
import { date } from './format.ts';
import { paren, t } from './i18n.ts';
import type { Block, QuarterlyReport } from './model.ts';

function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function renderBlock(b: Block, lang: QuarterlyReport['lang']): string {
  const src = (id?: string) => (id ? `\n_${t(lang, 'source')}: \`${id}\`_\n` : '');
  switch (b.kind) {
    case 'figures':
      return b.items.map((f) => `- **${f.label}**: ${f.text}`).join('\n') + '\n';
    case 'table': {
      const head = `| ${b.columns.map((c) => cell(c.label)).join(' | ')} |`;
      const sep = `|${b.columns.map((c) => (c.align === 'right' ? ' ---: ' : ' --- ')).join('|')}|`;
      const rows = b.rows.length
        ? b.rows.map((r) => `| ${b.columns.map((c) => cell(r[c.key] ?? '')).join(' | ')} |`).join('\n')
        : `| ${cell(b.empty ?? '—')} |${' |'.repeat(b.columns.length - 1)}`;
      return `#### ${b.title}\n\n${head}\n${sep}\n${rows}\n${src(b.queryId)}`;
    }
    case 'chart':
      return `_${lang === 'zh' ? '图' : 'Chart'}: ${b.title}${paren(lang, lang === 'zh' ? '见 HTML/PDF 版' : 'see the HTML/PDF edition')}_${src(b.queryId)}`;
    case 'text':
      return `${b.text}\n`;
    case 'note':
      return `> ${b.text}\n`;
  }
}

export function renderMarkdown(r: QuarterlyReport): string {
  const out: string[] = [
    `# ${r.title}`,
    '',
    `${r.subtitle}  `,
    `${t(r.lang, 'period')}: ${date(r.period.start, r.lang)} – ${date(r.period.end, r.lang)}  `,
    `${t(r.lang, 'asOf')}: ${date(r.asOf, r.lang)}  `,
    `${t(r.lang, 'generatedAt')}: ${r.generatedAt}`,
    '',
  ];
  for (const s of r.sections) {
    out.push(`## ${s.title}`, '');
    if (s.missing.length) out.push(`> ${t(r.lang, 'noData')} ${s.missing.join(', ')}`, '');
    for (const b of s.blocks) out.push(renderBlock(b, r.lang), '');
  }
  out.push(`## ${t(r.lang, 'queriesTitle')}`, '', t(r.lang, 'queriesIntro'), '');
  for (const q of r.queries) {
    out.push(`### ${q.id} — ${q.title}`, '', '```sql', q.sql, '```', '', `params: \`${JSON.stringify(q.params)}\``, '');
  }
  return out.join('\n');
}
