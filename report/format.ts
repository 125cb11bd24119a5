/**
 * Numbers and dates the way committee members read them.
 *
 * Money arrives as exact decimal strings (yuan). Scaling to 万元/亿元 is done
 * on integer fen with BigInt and rounded half away from zero, so a figure in
 * the report is the database figure, not a float's approximation of it.
 */

export type Lang = 'zh' | 'en';

/** Parse a decimal yuan string into fen (BigInt). Accepts an optional sign and up to 2 decimals. */
export function toFen(yuan: string | number | null | undefined): bigint {
  if (yuan === null || yuan === undefined || yuan === '') return 0n;
  const s = String(yuan).trim();
  const m = /^(-?)(\d+)(?:\.(\d{1,}))?$/.exec(s);
  if (!m) throw new Error(`not a decimal amount: ${s}`);
  const [, sign, int, frac = ''] = m;
  // Round anything past fen half away from zero (inputs from DECIMAL(18,2) never need it).
  const cents = BigInt(int!) * 100n + BigInt((frac + '00').slice(0, 2));
  const extra = frac.length > 2 && Number(frac[2]) >= 5 ? 1n : 0n;
  const v = cents + extra;
  return sign === '-' ? -v : v;
}

/** Fen back to an exact decimal yuan string ("-1234.50"). */
export function fenToYuan(fen: bigint): string {
  const neg = fen < 0n;
  const abs = neg ? -fen : fen;
  return `${neg ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** Divide fen by `unitFen` and print with `decimals` places, rounded half away from zero, with thousands separators. */
function scaled(fen: bigint, unitFen: bigint, decimals: number): string {
  const neg = fen < 0n;
  const abs = neg ? -fen : fen;
  const factor = 10n ** BigInt(decimals);
  const q = (abs * factor * 2n + unitFen) / (unitFen * 2n);
  const int = q / factor;
  const frac = (q % factor).toString().padStart(decimals, '0');
  const intText = int.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg && q !== 0n ? '-' : ''}${intText}${decimals > 0 ? `.${frac}` : ''}`;
}

/** 1234567.8 → "1,234,567.80" (yuan). */
export function yuan(v: string | number | null | undefined): string {
  return scaled(toFen(v), 100n, 2);
}

/** Yuan → 万元 with two decimals, as tables in Chinese budget reports use. */
export function wan(v: string | number | null | undefined): string {
  return scaled(toFen(v), 1_000_000n, 2);
}

/** Yuan → 亿元 with two decimals, as debt figures are reported. */
export function yi(v: string | number | null | undefined): string {
  return scaled(toFen(v), 10_000_000_000n, 2);
}

export function moneyUnit(unit: 'yuan' | 'wan' | 'yi', lang: Lang): string {
  if (lang === 'zh') return { yuan: '元', wan: '万元', yi: '亿元' }[unit];
  return { yuan: 'yuan', wan: '10k yuan', yi: '100m yuan' }[unit];
}

/** A ratio in [0,1] (or a percent-point number) as "12.34%". */
export function pct(ratio: number | string | null | undefined, decimals = 2): string {
  if (ratio === null || ratio === undefined || ratio === '') return '—';
  const n = Number(ratio);
  if (!Number.isFinite(n)) return '—';
  return `${(n * 100).toFixed(decimals)}%`;
}

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

export function count(n: number | string | null | undefined): string {
  if (n === null || n === undefined) return '0';
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const ZH_QUARTER = ['一', '二', '三', '四'];
export function quarterName(year: number, quarter: number, lang: Lang): string {
  return lang === 'zh' ? `${year}年第${ZH_QUARTER[quarter - 1]}季度` : `Q${quarter} ${year}`;
}
