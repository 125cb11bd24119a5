/**
 * Flag titles: a rule's `titleTemplate` with `{var}` placeholders filled from
 * the result row's `vars` and its standard columns.
 *
 * Money reads the way finance clerks write it (612,000.00). A value is money
 * when the placeholder says so (`{total:money}`) or when it is a decimal
 * string with exactly two decimals, which is how DECIMAL(18,2) arrives from
 * DuckDB; plain numbers and codes are left alone (codes keep leading zeros).
 * `{n:count}` groups a count's digits; `{mad:4}` prints a number with 4 decimals
 * (the compiler passes it with that many: rules/language/compile.ts templateVars).
 */

import { count, decimal, money } from '../../engine/numbers.ts';

const MONEY_STRING = /^-?\d+\.\d{2}$/;
/** `{name}`, or with a format: `money`, `int`, `count` (grouped: 1,100), `text`, or a digit 0–6 (decimals of a number). */
export const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::(money|int|count|text|[0-6]))?\}/g;

/** `612000` / `"612000.5"` → `612,000.00` (engine/numbers.ts, the one money formatter). Non-numbers are left as they are. */
export function formatMoney(value: string | number): string {
  const s = money(value);
  return s === '—' ? String(value) : s;
}

export type TemplateVars = Record<string, string | number | boolean | null | undefined>;

/** Fill `{name}` / `{name:money}` / `{name:int}` / `{name:text}`. Unknown names stay visible so authors notice. */
export function renderTemplate(template: string, vars: TemplateVars): string {
  return template.replace(PLACEHOLDER, (whole, name: string, fmt: string | undefined) => {
    const v = vars[name];
    if (v === undefined) return whole;
    if (v === null) return '—';
    if (fmt === 'money') return formatMoney(typeof v === 'boolean' ? String(v) : v);
    if (fmt === 'int') return typeof v === 'number' ? String(Math.round(v)) : String(v);
    if (fmt === 'count') return typeof v === 'boolean' ? String(v) : count(v);
    if (fmt !== undefined && /^\d$/.test(fmt)) return typeof v === 'boolean' ? String(v) : decimal(v, Number(fmt));
    if (fmt === 'text') return String(v);
    if (typeof v === 'string' && MONEY_STRING.test(v)) return formatMoney(v);
    return String(v);
  });
}

/**
 * A rule's description or skip reason with its `{param}` placeholders filled from the
 * parameters' effective values (money grouped, lists joined), as `rules show` prints it.
 */
export function fillParams(text: string, params: readonly { name: string; type: string; value: unknown }[]): string {
  const vars: TemplateVars = {};
  for (const p of params) {
    const v = p.value;
    vars[p.name] = Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? null : p.type === 'money' ? formatMoney(String(v)) : String(v);
  }
  return renderTemplate(text, vars);
}
