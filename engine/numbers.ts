/**
 * The one number and money formatter: rule titles, the report, the CLI and the
 * tracker's figures all print numbers through here, so 612,000.00 reads the
 * same everywhere (zh-CN and en group digits the same way: 1,234,567.89).
 *
 * Money arrives as exact decimal strings (yuan, DECIMAL(18,2)). Everything is
 * done on decimal digits with BigInt — scaling to 万元/亿元, rounding (half away
 * from zero, once) — so a printed figure is the database figure, never a
 * float's approximation of it. Numbers given as JS numbers (rates computed in
 * JS, chart values) are read through their shortest decimal text first.
 */

export type Lang = 'zh' | 'en';
export type MoneyUnit = 'yuan' | 'wan' | 'yi';

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** An exact decimal: sign, digits and scale (value = sign × digits / 10^scale). */
interface Dec {
  neg: boolean;
  digits: bigint;
  scale: number;
}

/** Parse a decimal string or a finite number (null when it is neither). */
function parse(v: string | number | bigint): Dec | null {
  if (typeof v === 'bigint') return { neg: v < 0n, digits: v < 0n ? -v : v, scale: 0 };
  let s: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    // Shortest round-trip text; exponent forms (1e-7, 1e21) spelled out.
    s = String(v);
    if (/e/i.test(s)) s = Math.abs(v) >= 1 ? BigInt(Math.round(v)).toString() : v.toFixed(20);
  } else s = v.trim();
  const m = DECIMAL.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  const digits = BigInt((m[2] || '0') + frac);
  return { neg: m[1] === '-' && digits !== 0n, digits, scale: frac.length };
}

/** Round `d` to `decimals` places (half away from zero): the integer of value × 10^decimals. */
function roundTo(d: Dec, decimals: number, shift = 0): bigint {
  // value × 10^(decimals + shift) = digits × 10^(decimals + shift − scale)
  const e = decimals + shift - d.scale;
  if (e >= 0) return d.digits * 10n ** BigInt(e);
  const div = 10n ** BigInt(-e);
  return (d.digits * 2n + div) / (div * 2n);
}

/** Group the digits of a non-negative integer text: "1234567" → "1,234,567". */
export function groupDigits(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A scaled integer (value × 10^decimals) as text with `decimals` places. */
function show(q: bigint, neg: boolean, decimals: number, grouped: boolean): string {
  const f = 10n ** BigInt(decimals);
  const int = (q / f).toString();
  const frac = decimals > 0 ? `.${(q % f).toString().padStart(decimals, '0')}` : '';
  return `${neg && q !== 0n ? '-' : ''}${grouped ? groupDigits(int) : int}${frac}`;
}

/**
 * A decimal value rounded once to `decimals` places, half away from zero, with
 * thousands separators unless `grouped: false`. '—' for null, '' or non-numbers.
 */
export function decimal(v: string | number | bigint | null | undefined, decimals = 2, opts: { grouped?: boolean } = {}): string {
  if (v === null || v === undefined || v === '') return '—';
  const d = parse(v);
  if (!d) return '—';
  return show(roundTo(d, decimals), d.neg, decimals, opts.grouped ?? true);
}

/** Parse a decimal yuan string into fen (BigInt), rounding past the fen half away from zero; `exact` refuses more than 2 decimals. */
export function toFen(yuanText: string | number | null | undefined, opts: { exact?: boolean } = {}): bigint {
  if (yuanText === null || yuanText === undefined || yuanText === '') return 0n;
  const d = parse(yuanText);
  if (!d || (opts.exact && d.scale > 2)) throw new Error(`not a money amount: "${yuanText}"`);
  const q = roundTo(d, 2);
  return d.neg ? -q : q;
}

/** Fen back to an exact decimal yuan string ("-1234.50"), no separators: for storage and JSON. */
export function fenToYuan(fen: bigint): string {
  const neg = fen < 0n;
  return show(neg ? -fen : fen, neg, 2, false);
}

const UNIT_FEN: Record<MoneyUnit, bigint> = { yuan: 100n, wan: 1_000_000n, yi: 10_000_000_000n };

/** Money in a unit (default yuan), two decimals, grouped: 1234567.8 → "1,234,567.80" (yuan) or "123.46" (万元). '—' for null. */
export function money(v: string | number | null | undefined, unit: MoneyUnit = 'yuan', decimals = 2): string {
  if (v === null || v === undefined || v === '') return '—';
  let fen: bigint;
  try {
    fen = toFen(v);
  } catch {
    return '—';
  }
  const neg = fen < 0n;
  const abs = neg ? -fen : fen;
  const unitFen = UNIT_FEN[unit];
  const f = 10n ** BigInt(decimals);
  const q = (abs * f * 2n + unitFen) / (unitFen * 2n);
  return show(q, neg, decimals, true);
}

/** 1234567.8 → "1,234,567.80" (yuan). */
export const yuan = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '0.00' : money(v, 'yuan'));
/** Yuan → 万元 with two decimals, as tables in Chinese budget reports use. */
export const wan = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '0.00' : money(v, 'wan'));
/** Yuan → 亿元 with two decimals, as debt figures are reported. */
export const yi = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '0.00' : money(v, 'yi'));

export function moneyUnit(unit: MoneyUnit, lang: Lang): string {
  if (lang === 'zh') return { yuan: '元', wan: '万元', yi: '亿元' }[unit];
  return { yuan: 'yuan', wan: '10k yuan', yi: '100m yuan' }[unit];
}

/** A fraction (0.5) as a percent: "50.00%" — exact on decimal strings, one rounding. '—' for null. */
export function pct(ratio: number | string | null | undefined, decimals = 2): string {
  if (ratio === null || ratio === undefined || ratio === '') return '—';
  const d = parse(ratio);
  if (!d) return '—';
  return `${show(roundTo(d, decimals, 2), d.neg, decimals, true)}%`;
}

/** A value already in percent (pct() of the rule language: 12.5) as "12.50%". */
export function percentValue(v: number | string | null | undefined, decimals = 2): string {
  const s = decimal(v, decimals);
  return s === '—' ? s : `${s}%`;
}

/** A count with thousands separators: 3934 → "3,934". */
export function count(n: number | string | bigint | null | undefined): string {
  if (n === null || n === undefined || n === '') return '0';
  const d = parse(n);
  if (!d) return String(n);
  return show(roundTo(d, 0), d.neg, 0, true);
}

/** What a measure measures, which decides how it is printed. */
export type MeasureKind = 'money' | 'percent' | 'ratio' | 'count' | 'number';

/**
 * A rule's measure (value or threshold, decimal strings from fiscus.flags) by its kind:
 * money in `unit` (the report's), percent with 2 decimals, ratios with 4, counts grouped.
 */
export function measure(v: string | number | null | undefined, kind: MeasureKind, opts: { unit?: MoneyUnit; lang?: Lang } = {}): string {
  if (v === null || v === undefined || v === '') return '—';
  switch (kind) {
    case 'money': {
      const unit = opts.unit ?? 'yuan';
      const s = money(v, unit);
      return opts.lang ? `${s}${opts.lang === 'zh' ? '' : ' '}${moneyUnit(unit, opts.lang)}` : s;
    }
    case 'percent':
      return percentValue(v, 2);
    case 'ratio':
      return decimal(v, 4);
    case 'count':
      return count(v);
    default:
      return decimal(v, 2);
  }
}
