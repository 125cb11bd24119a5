/**
 * Flag titles: a rule's `titleTemplate` with `{var}` placeholders filled from
 * the result row's `vars` and its standard columns.
 *
 * Money reads the way finance clerks write it (612,000.00). A value is money
 * when the placeholder says so (`{total:money}`) or when it is a decimal
 * string with exactly two decimals, which is how DECIMAL(18,2) arrives from
 * DuckDB; plain numbers and codes are left alone (codes keep leading zeros).
 */

const MONEY_STRING = /^-?\d+\.\d{2}$/;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::(money|int|text))?\}/g;

/** `612000` / `"612000.5"` → `612,000.00`. Exact on decimal strings (no float round trip). */
export function formatMoney(value: string | number): string {
  let s = typeof value === 'number' ? value.toFixed(2) : value.trim();
  if (!/^-?\d+(\.\d+)?$/.test(s)) return String(value);
  const neg = s.startsWith('-');
  if (neg) s = s.slice(1);
  let [int, frac = ''] = s.split('.') as [string, string?];
  if (frac.length > 2) {
    // Round half up on the decimal digits, carrying into the integer part.
    const cents = BigInt(int + frac.slice(0, 2)) + (Number(frac[2]) >= 5 ? 1n : 0n);
    const t = cents.toString().padStart(3, '0');
    int = t.slice(0, -2);
    frac = t.slice(-2);
  }
  frac = (frac + '00').slice(0, 2);
  int = int.replace(/^0+(?=\d)/, '');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${grouped}.${frac}`;
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
    if (fmt === 'text') return String(v);
    if (typeof v === 'string' && MONEY_STRING.test(v)) return formatMoney(v);
    return String(v);
  });
}
