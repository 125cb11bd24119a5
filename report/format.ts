/**
 * Dates and quarters the way committee members read them; numbers and money
 * come from the one formatter, engine/numbers.ts (re-exported here).
 */

export { count, decimal, fenToYuan, measure, money, moneyUnit, pct, percentValue, toFen, wan, yi, yuan } from '../engine/numbers.ts';
export type { Lang, MeasureKind, MoneyUnit } from '../engine/numbers.ts';
import type { Lang } from '../engine/numbers.ts';

/** "2025-03-31" → "2025年3月31日" (zh) or "31 Mar 2025" (en). */
export function date(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  const [, y, mo, d] = m;
  if (lang === 'zh') return `${y}年${Number(mo)}月${Number(d)}日`;
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${Number(d)} ${months[Number(mo) - 1]} ${y}`;
}

const ZH_QUARTER = ['一', '二', '三', '四'];
export function quarterName(year: number, quarter: number, lang: Lang): string {
  return lang === 'zh' ? `${year}年第${ZH_QUARTER[quarter - 1]}季度` : `Q${quarter} ${year}`;
}
