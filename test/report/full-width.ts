/**
 * Full-width Chinese punctuation in an English report, outside the data. The
 * English edition's own words (labels, headings, sentences, units, chart titles)
 * use ASCII punctuation; what may keep full-width marks is text that comes from
 * the data as it was recorded: names and free text stored in the feed tables
 * (an agency, a bond "2025年山东省政府专项债券（六期）", a programme, an enterprise),
 * a flag's entity name, and the notes people wrote on flags (a deputy's problem).
 * Exactly those stored values are cut out before looking.
 */
import type { Store } from '../../engine/db.ts';
import { FEEDS } from '../../engine/feeds.ts';
import { renderHtml } from '../../report/render-html.ts';
import { renderMarkdown } from '../../report/render-markdown.ts';
import type { QuarterlyReport } from '../../report/model.ts';

export const FULL_WIDTH = /[：，。（）、；]/;
/** Every stored text value holding full-width punctuation that a report may quote as data, longest first. */
export async function dataValues(store: Store): Promise<string[]> {
  // The free-text and code columns of every feed (engine/feeds.ts, FEEDS.md): names, purposes, descriptions.
  const sources = [
    ...FEEDS.flatMap((t) => t.columns.filter((c) => c.type === 'text' || c.type === 'code').map((c) => `SELECT DISTINCT ${c.name} AS v FROM ${t.name}`)),
    'SELECT DISTINCT entity_name AS v FROM fiscus.flags',
    'SELECT DISTINCT note AS v FROM fiscus.flag_events',
  ];
  const values = new Set<string>();
  for (const sql of sources) {
    for (const { v } of await store.all<{ v: string | null }>(sql)) if (v && FULL_WIDTH.test(v)) values.add(v);
  }
  // Longest first, so a name is not cut into pieces by a shorter name inside it.
  return [...values].sort((a, b) => b.length - a.length);
}

/** The text a reader sees in the HTML edition: element text and the title/alt/aria-label attributes. */
function visibleHtmlText(html: string): string {
  const body = html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<script[\s\S]*?<\/script>/g, '');
  const attrs = [...body.matchAll(/\s(?:title|alt|aria-label)="([^"]*)"/g)].map((m) => m[1]!);
  const text = body.replace(/<[^>]+>/g, '\n');
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };
  return [text, ...attrs].join('\n').replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => entities[e]!);
}

/** Lines of the report (HTML and Markdown editions) that keep full-width punctuation once the data values are cut out. */
export function fullWidthOutsideData(report: QuarterlyReport, values: readonly string[]): string[] {
  const found = new Set<string>();
  for (const [edition, text] of [['html', visibleHtmlText(renderHtml(report))], ['md', renderMarkdown(report)]] as const) {
    for (const line of text.split('\n')) {
      let rest = line;
      for (const v of values) if (rest.includes(v)) rest = rest.split(v).join('▯');
      if (FULL_WIDTH.test(rest)) found.add(`${edition}: ${line.trim().slice(0, 200)}`);
    }
  }
  return [...found];
}
