/**
 * SQL that turns raw text into typed feed values, and says why when it cannot.
 *
 * Every value arrives as VARCHAR (CSV read with all_varchar, JSON and Parquet
 * values cast to text), so one set of parsing rules covers every format. For
 * each column three expressions are generated:
 *   - value:  the converted value, NULL when empty or invalid;
 *   - bad:    true when the row must be rejected because of this column;
 *   - reason: the clerk-facing reason (evaluated for rejected rows only).
 * The cheap path (value, bad) runs over every row; reasons only over the few
 * rows that failed, so a clean 1M-row file never builds a message.
 *
 * Common forms take a fast path (a plain `1234.50`, an ISO date); the
 * tolerant parsing (thousands separators, quotes, ¥, `(1.00)` negatives,
 * 2025年3月1日) only runs on values that missed it.
 */
import type { ColumnDef } from '../engine/feeds.ts';
import { lit, litList, reEscape } from './sql-text.ts';

export interface NumberFormat {
  decimal: '.' | ',';
  thousands: string; // '' = none
}

export interface ColumnPlan {
  def: ColumnDef;
  /** SQL expression (VARCHAR) of the raw value: a source column, a constant, or NULL. */
  raw: string;
  /** Where the value comes from. */
  origin:
    | { kind: 'column'; header: string }
    | { kind: 'constant'; value: string }
    | { kind: 'derived'; how: string }
    | { kind: 'absent' };
  /** Code columns with a fixed shape (GB/T 2260 region codes): a full-match RE2 pattern and what it means. */
  pattern?: { re: string; en: string; zh: string };
  /** Money columns: the value is in 10^unitExp yuan (0 元, 3 千元, 4 万元, 8 亿元). */
  unitExp: number;
  /** strptime formats tried before the built-in date forms. */
  dateFormats: readonly string[];
  /** Plausible years for date and year columns (inclusive); others are rejected. */
  years: readonly [number, number];
  /** A date column takes the date of a timestamp (`2025-03-03T10:00:00`) instead of rejecting it. */
  takeDate: boolean;
  /** Extra accepted enum spellings: lower-cased spelling → canonical value. */
  valueMap: Readonly<Record<string, string>>;
}

/** Whitespace trimmed from every value (ASCII, tab, CR/LF, full-width space, NBSP). */
const WS_CHARS = [' ', '\t', '\r', '\n', '\u3000', '\u00a0'];
const WS_SET = `(${WS_CHARS.map((c) => `chr(${c.codePointAt(0)})`).join(' || ')})`;

/**
 * Normalised raw value: trimmed, empty → NULL. Trimming with a character set
 * costs ~10x a prefix/suffix LIKE, so it only runs on values that need it
 * (a leading tab is how some exports keep Excel from eating leading zeros).
 */
export function normExpr(raw: string): string {
  // LIKE with a literal prefix/suffix is a byte comparison (ascii() looked cheaper but decodes
  // whole non-ASCII strings); trim() with a character set only runs when one of them hits.
  // The four ASCII leading characters are one comparison: DuckDB orders VARCHAR by its bytes,
  // so `raw < '!'` holds exactly when the first byte is below 0x21 (or raw is empty). That
  // also catches other control characters, whose trim() changes nothing: the CASE's two
  // branches agree wherever the test is broader than it needs to be. 12 → 9 tests per value:
  // the one-pass INSERT of 10M payments 20.1 → 19.1 s. (GLOB '*[ \t\r\n]' for the trailing
  // ones was slower than their four LIKEs: 2.5 s against 2.1 s at 1M.)
  const ascii = WS_CHARS.filter((c) => c < '!');
  const tests = [
    `${raw} < '!'`,
    ...WS_CHARS.filter((c) => !ascii.includes(c)).map((c) => `${raw} LIKE '${c}%'`),
    ...WS_CHARS.map((c) => `${raw} LIKE '%${c}'`),
  ];
  return `(CASE WHEN ${tests.join(' OR ')} THEN NULLIF(trim(${raw}, ${WS_SET}), '') ELSE NULLIF(${raw}, '') END)`;
}

/** How a value is shown inside a reason: bare when it is a plain number/date token, else quoted. */
function display(n: string): string {
  return `(CASE WHEN regexp_full_match(${n}, '[+-]?[0-9][0-9./-]*') THEN ${n} ELSE '"' || replace(${n}, '"', '\\"') || '"' END)`;
}

/** A plain decimal with at most 16 − e integer digits and 2 + e decimals: × 10^e fits DECIMAL(18,2) exactly. */
function plainRe(e: number): string {
  return `[+-]?[0-9]{1,${16 - e}}([.][0-9]{1,${2 + e}})?`;
}

/**
 * Exact conversion of plain decimal text in 10^e yuan to DECIMAL(18,2): the
 * text is read as DECIMAL(38, 2+e) and multiplied there (a 1万亿元 limit in
 * 万元 is 10^12 × 10^6 in scale, past DECIMAL(18)); the shape check before
 * (plainRe) guarantees the product fits DECIMAL(18,2) with no rounding.
 */
function scaled(x: string, e: number): string {
  if (e === 0) return `CAST(${x} AS DECIMAL(18,2))`;
  return `CAST(CAST(${x} AS DECIMAL(38,${2 + e})) * CAST(${10n ** BigInt(e)} AS DECIMAL(38,0)) AS DECIMAL(18,2))`;
}

/** Currency signs stripped before or after the number. */
const CURRENCY = '[¥￥£$€]|RMB|CNY|GBP|USD|EUR';

/**
 * Tolerant money text → canonical `-1234.50` text (any number of decimals), or
 * NULL when it is not a number. Handles surrounding quotes, currency signs
 * (¥ ￥ £ $ €, RMB/CNY/GBP/USD/EUR), `(…)` negatives, a trailing minus
 * (`129.61-`, as ledgers print credits), the thousands separator (grouping
 * checked) and the decimal mark.
 */
function moneyCanonical(n: string, fmt: NumberFormat): string {
  const stripped = `trim(${n}, ' "''“”＂')`;
  const paren = `(${stripped} LIKE '(%)' OR ${stripped} LIKE '（%）')`;
  const inner = `trim(${stripped}, '()（） ')`;
  const noCur = `regexp_replace(regexp_replace(${inner}, '^([+-]?)\\s*(${CURRENCY})\\s*', '\\1'), '\\s*(${CURRENCY})$', '')`;
  const trailing = `(${noCur} LIKE '%-' AND ${noCur} NOT LIKE '-%')`;
  const body = `(CASE WHEN ${trailing} THEN rtrim(${noCur}, '- ') ELSE ${noCur} END)`;
  const t = fmt.thousands ? reEscape(fmt.thousands) : '';
  const d = reEscape(fmt.decimal);
  const intPart = t ? `([0-9]{1,3}(${t}[0-9]{3})+|[0-9]+)` : '[0-9]+';
  const shape = `'[+-]?${intPart}(${d}[0-9]+)?'`;
  let digits = body;
  if (fmt.thousands) digits = `replace(${digits}, ${lit(fmt.thousands)}, '')`;
  if (fmt.decimal !== '.') digits = `replace(${digits}, ${lit(fmt.decimal)}, '.')`;
  return `(CASE WHEN regexp_full_match(${body}, ${shape}) THEN (CASE WHEN ${paren} OR ${trailing} THEN '-' || ltrim(${digits}, '+') ELSE ${digits} END) END)`;
}

function moneyValue(n: string, p: ColumnPlan, fmt: NumberFormat): string {
  const c = moneyCanonical(n, fmt);
  const re = plainRe(p.unitExp);
  const fast = fmt.decimal === '.' ? `WHEN regexp_full_match(${n}, '${re}') THEN ${scaled(n, p.unitExp)}` : '';
  return `(CASE WHEN ${n} IS NULL THEN NULL ${fast} ELSE (CASE WHEN regexp_full_match(${c}, '${re}') THEN ${scaled(c, p.unitExp)} END) END)`;
}

/** 元, 千元, 万元, 亿元 … for messages. */
export function unitName(e: number): string {
  return ({ 0: '元', 1: '十元', 2: '百元', 3: '千元', 4: '万元', 8: '亿元', 12: '万亿元' } as Record<number, string>)[e] ?? `10^${e} 元`;
}

function moneyReason(n: string, p: ColumnPlan, fmt: NumberFormat, head: string, zh: string): string {
  const c = moneyCanonical(n, fmt);
  const maxDec = 2 + p.unitExp;
  const maxInt = 16 - p.unitExp;
  const unitEn = p.unitExp === 0 ? '' : ` (in ${unitName(p.unitExp)})`;
  const unitZh = p.unitExp === 0 ? '' : `（${unitName(p.unitExp)}）`;
  return `(CASE
    WHEN ${c} IS NULL THEN ${head} || ' is not a number — ${zh}不是有效金额'
    WHEN regexp_matches(${c}, '[.][0-9]{${maxDec + 1},}$') THEN ${head} || ' has more than ${maxDec} decimal places${unitEn} — ${zh}${unitZh}最多${maxDec}位小数'
    WHEN regexp_matches(${c}, '^[+-]?[0-9]{${maxInt + 1},}') THEN ${head} || ' is too large — ${zh}超出范围'
    ELSE ${head} || ' is not a number — ${zh}不是有效金额' END)`;
}

const DATE_PART = '([0-9]{4})(?:[-/.]|年)([0-9]{1,2})(?:[-/.]|月)([0-9]{1,2})日?';
const TIME_PART = '(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)';
const DATE_RE = `'^${DATE_PART}$'`;
const DATE_TIME_RE = `'^${DATE_PART}${TIME_PART}?$'`;
const COMPACT_DATE_RE = "'^([0-9]{4})([0-9]{2})([0-9]{2})$'";
/** Excel's serial day numbers (1900 date system, days since 1899-12-30): 5 digits cover 1927–2173. */
export const EXCEL_SERIAL = 'excel';

/** `y` as 4-digit text inside the plausible range: a text comparison, cheap and exact. */
function yearTextOk(y: string, p: ColumnPlan): string {
  const [lo, hi] = p.years;
  return `(${y} BETWEEN ${lit(String(lo).padStart(4, '0'))} AND ${lit(String(hi).padStart(4, '0'))})`;
}

function dateFromParts(m: string, p: ColumnPlan | undefined): string {
  const d = `TRY_CAST(${m}.y || '-' || lpad(${m}.m, 2, '0') || '-' || lpad(${m}.d, 2, '0') AS DATE)`;
  return p ? `(CASE WHEN ${yearTextOk(`${m}.y`, p)} THEN ${d} END)` : d;
}

/**
 * The date of a normalised value. With `strict` (the value path) years
 * outside the plausible range and timestamps (unless `takeDate`) give NULL;
 * without it (the reasons path) anything date-like parses, so the reason can
 * say what was wrong.
 */
function dateValue(n: string, p: ColumnPlan, strict = true): string {
  const yearOk = (d: string) => (strict ? `year(${d}) BETWEEN ${p.years[0]} AND ${p.years[1]}` : `${d} IS NOT NULL`);
  const custom = p.dateFormats
    .map((f) =>
      f === EXCEL_SERIAL
        ? `WHEN regexp_full_match(${n}, '[0-9]{5}([.]0+)?') AND ${yearOk(`(DATE '1899-12-30' + CAST(CAST(${n} AS DECIMAL(9,3)) AS INTEGER))`)}
             THEN DATE '1899-12-30' + CAST(CAST(${n} AS DECIMAL(9,3)) AS INTEGER)`
        : `WHEN ${yearOk(`try_strptime(${n}, ${lit(f)})`)} THEN CAST(try_strptime(${n}, ${lit(f)}) AS DATE)`,
    )
    .join(' ');
  const re = !strict || p.takeDate ? DATE_TIME_RE : DATE_RE;
  const m1 = `regexp_extract(${n}, ${re}, ['y', 'm', 'd'])`;
  const m2 = `regexp_extract(${n}, ${COMPACT_DATE_RE}, ['y', 'm', 'd'])`;
  const q = strict ? p : undefined;
  const iso = strict
    ? `WHEN length(${n}) = 10 AND substr(${n}, 5, 1) = '-' AND substr(${n}, 8, 1) = '-' THEN (CASE WHEN ${yearTextOk(`substr(${n}, 1, 4)`, p)} THEN TRY_CAST(${n} AS DATE) END)`
    : '';
  return `(CASE WHEN ${n} IS NULL THEN NULL ${custom}
    ${iso}
    WHEN regexp_full_match(${n}, '[0-9]{8}') THEN ${dateFromParts(m2, q)}
    ELSE ${dateFromParts(m1, q)} END)`;
}

/** Why a date-like value was refused: its year, or its time of day. NULL when it is not date-like at all. */
function dateProblem(n: string, p: ColumnPlan, head: string, zh: string): string {
  const loose = dateValue(n, p, false);
  const [lo, hi] = p.years;
  return `(CASE
    WHEN ${loose} IS NOT NULL AND year(${loose}) NOT BETWEEN ${lo} AND ${hi}
      THEN ${head} || ${lit(` has an implausible year (allowed ${lo}–${hi}; set \`years\` in a mapping profile to change) — ${zh}年份不合理（应在${lo}–${hi}年之间）`)}
    WHEN ${loose} IS NOT NULL AND regexp_full_match(${n}, ${lit(`${DATE_PART}${TIME_PART}`)})
      THEN ${head} || ${lit(` is a timestamp, not a date (set \`timestamps: take_date\` in a mapping profile to keep its date) — ${zh}含有时间，应为日期`)}
    END)`;
}

function periodValue(n: string): string {
  const m = `regexp_extract(${n}, '^([0-9]{4})(?:(?:[-/.]|年)([0-9]{1,2})月?|([0-9]{2}))$', ['y', 'm', 'mm'])`;
  const month = `TRY_CAST(coalesce(NULLIF(${m}.m, ''), NULLIF(${m}.mm, '')) AS INTEGER)`;
  return `(CASE WHEN ${n} IS NULL THEN NULL
    WHEN regexp_full_match(${n}, '[0-9]{4}-(0[1-9]|1[0-2])') THEN ${n}
    WHEN ${month} BETWEEN 1 AND 12 THEN ${m}.y || '-' || lpad(CAST(${month} AS VARCHAR), 2, '0') END)`;
}

const TRUE_WORDS = ['true', 't', '1', 'y', 'yes', '是'];
const FALSE_WORDS = ['false', 'f', '0', 'n', 'no', '否'];

function enumValue(n: string, p: ColumnPlan): string {
  const allowed = p.def.values ?? [];
  const pairs = new Map<string, string>();
  for (const v of allowed) pairs.set(v.toLowerCase(), v);
  for (const [k, v] of Object.entries(p.valueMap)) pairs.set(k.toLowerCase(), v);
  const whens = [...pairs].map(([k, v]) => `WHEN ${lit(k)} THEN ${lit(v)}`).join(' ');
  // Exact canonical spellings first: lower() on every value costs more than the lookup.
  const exact = allowed.map((v) => `WHEN ${lit(v)} THEN ${lit(v)}`).join(' ');
  return `(CASE ${n} ${exact} ELSE (CASE lower(${n}) ${whens} END) END)`;
}

/** The tolerant conversion of a normalised (trimmed, non-empty) value `n`. */
function slowValue(p: ColumnPlan, n: string, fmt: NumberFormat): string {
  switch (p.def.type) {
    case 'code':
    case 'text':
      return n;
    case 'money':
      return moneyValue(n, p, fmt);
    case 'rate':
      return `(CASE WHEN regexp_full_match(${n}, '[+-]?[0-9]{1,5}([.][0-9]{1,4})?%?') THEN CAST(rtrim(${n}, '%') AS DECIMAL(9,4)) END)`;
    case 'date':
      return dateValue(n, p);
    case 'period':
      return periodValue(n);
    case 'year':
      return `(CASE WHEN regexp_full_match(${n}, '[0-9]{4}年?') AND CAST(substr(${n}, 1, 4) AS INTEGER) BETWEEN ${p.years[0]} AND ${p.years[1]} THEN CAST(substr(${n}, 1, 4) AS INTEGER) END)`;
    case 'bool':
      return `(CASE WHEN lower(${n}) IN (${litList(TRUE_WORDS)}) THEN true WHEN lower(${n}) IN (${litList(FALSE_WORDS)}) THEN false END)`;
    case 'enum':
      return enumValue(n, p);
  }
}

/**
 * The common, already-canonical spellings, tested on the raw value: when one
 * matches, trimming and the tolerant parse are skipped for that value.
 */
function fastWhen(p: ColumnPlan, r: string, fmt: NumberFormat): string {
  switch (p.def.type) {
    case 'money':
      if (fmt.decimal !== '.') return '';
      return `WHEN regexp_full_match(${r}, '${plainRe(p.unitExp)}') THEN ${scaled(r, p.unitExp)}`;
    case 'date':
      if (p.dateFormats.length) return ''; // the profile's format comes first
      return `WHEN length(${r}) = 10 AND substr(${r}, 5, 1) = '-' AND substr(${r}, 8, 1) = '-' AND ${yearTextOk(`substr(${r}, 1, 4)`, p)} THEN TRY_CAST(${r} AS DATE)`;
    case 'year':
      return `WHEN length(${r}) = 4 AND TRY_CAST(${r} AS INTEGER) BETWEEN ${p.years[0]} AND ${p.years[1]} THEN CAST(${r} AS INTEGER)`;
    case 'bool':
      return `WHEN ${r} = 'true' OR ${r} = '1' THEN true WHEN ${r} = 'false' OR ${r} = '0' THEN false`;
    case 'enum':
      return `WHEN ${r} IN (${litList(p.def.values ?? [])}) THEN ${r}`;
    case 'period':
      return `WHEN regexp_full_match(${r}, '[0-9]{4}-(0[1-9]|1[0-2])') THEN ${r}`;
    case 'rate':
      return `WHEN regexp_full_match(${r}, '[0-9]{1,5}([.][0-9]{1,4})?') THEN CAST(${r} AS DECIMAL(9,4))`;
    case 'code':
    case 'text':
      return '';
  }
}

/** Text columns keep their (trimmed) text; every other type is parsed. */
export function isTextual(p: ColumnPlan): boolean {
  return p.def.type === 'code' || p.def.type === 'text';
}

/**
 * The value when the raw text is already in a common canonical form, else
 * NULL. Only for non-textual columns.
 */
export function fastValueExpr(p: ColumnPlan, r: string, fmt: NumberFormat): string {
  const fast = fastWhen(p, r, fmt);
  return fast ? `(CASE ${fast} END)` : 'NULL';
}

/** The tolerant conversion of the normalised text `n` (NULL in, NULL out). */
export function slowValueExpr(p: ColumnPlan, n: string, fmt: NumberFormat): string {
  return slowValue(p, n, fmt);
}

/**
 * How the typed select evaluates a column, in three projections so the
 * costly parts run only where needed (DuckDB hoists repeated subexpressions
 * out of CASE branches, which would make a one-expression version eager):
 *   f = fast value from the raw text r;
 *   n = trimmed text, only where f is NULL and r is not;
 *   v = f, else the tolerant parse of n.
 * For textual columns v is simply the trimmed text.
 */
export function columnLayers(p: ColumnPlan, r: string, i: number, fmt: NumberFormat): { f?: string; n?: string; v: string } {
  if (isTextual(p)) return { v: `${normExpr(r)} AS v${i}` };
  return {
    f: `${fastValueExpr(p, r, fmt)} AS f${i}`,
    n: `(CASE WHEN f${i} IS NULL AND ${r} IS NOT NULL THEN ${normExpr(r)} END) AS n${i}`,
    v: `(CASE WHEN f${i} IS NOT NULL THEN f${i} ELSE ${slowValue(p, `n${i}`, fmt)} END) AS v${i}`,
  };
}

/** The converted value in one expression, given the normalised text `n` and raw text `r` (reasons path). */
export function valueExpr(p: ColumnPlan, r: string, n: string, fmt: NumberFormat): string {
  if (isTextual(p)) return n;
  return `coalesce(${fastValueExpr(p, r, fmt)}, ${slowValue(p, n, fmt)})`;
}

/**
 * True when this column makes the row invalid. `v` is the converted value;
 * `n` the normalised text (as laid out by columnLayers: NULL where the fast
 * path matched).
 */
export function badExpr(p: ColumnPlan, n: string, v: string): string {
  // A required column is bad exactly when it has no value (empty, or not
  // parseable); a nullable one when there was text that did not parse.
  const parts: string[] = [];
  if (!p.def.nullable) parts.push(`${v} IS NULL`);
  else if (!isTextual(p)) parts.push(`(${v} IS NULL AND ${n} IS NOT NULL)`);
  if (p.def.type === 'money' && !p.def.signed) parts.push(`coalesce(${v} < 0, false)`);
  if (p.pattern) parts.push(`coalesce(NOT regexp_full_match(${v}, ${lit(p.pattern.re)}), false)`);
  return parts.length ? `(${parts.join(' OR ')})` : 'false';
}

/** The reason this column rejects the row, or NULL. Only evaluated for rejected rows. */
export function reasonExpr(p: ColumnPlan, n: string, v: string, fmt: NumberFormat): string {
  const col = p.def.name;
  const zh = p.def.label;
  const head = `${lit(`${col}: `)} || ${display(n)}`;
  const whens: string[] = [];
  // An empty value is only wrong when the column is required; later WHENs see non-empty values.
  whens.push(`WHEN ${n} IS NULL THEN ${p.def.nullable ? 'NULL' : lit(`${col}: required — ${zh}不能为空`)}`);
  switch (p.def.type) {
    case 'code':
    case 'text':
      if (p.pattern) whens.push(`WHEN NOT regexp_full_match(${n}, ${lit(p.pattern.re)}) THEN ${head} || ${lit(` ${p.pattern.en} — ${zh}${p.pattern.zh}`)}`);
      break;
    case 'money':
      whens.push(`WHEN ${v} IS NULL THEN ${moneyReason(n, p, fmt, head, zh)}`);
      if (!p.def.signed) {
        whens.push(`WHEN ${v} < 0 THEN ${head} || ' must not be negative — ${zh}不能为负数'`);
      }
      break;
    case 'rate':
      whens.push(`WHEN ${v} IS NULL THEN ${head} || ' is not a rate (percent, e.g. 2.85) — ${zh}不是有效利率'`);
      break;
    case 'date':
      whens.push(`WHEN ${v} IS NULL THEN coalesce(${dateProblem(n, p, head, zh)}, ${head} || ' is not a date — ${zh}不是有效日期（应为 YYYY-MM-DD）')`);
      break;
    case 'period':
      whens.push(`WHEN ${v} IS NULL THEN ${head} || ' is not a period — ${zh}不是有效年月（应为 YYYY-MM）'`);
      break;
    case 'year':
      whens.push(`WHEN ${v} IS NULL THEN ${head} || ${lit(` is not a year between ${p.years[0]} and ${p.years[1]} — ${zh}不是有效年份`)}`);
      break;
    case 'bool':
      whens.push(`WHEN ${v} IS NULL THEN ${head} || ' is not true/false — ${zh}应为 是/否'`);
      break;
    case 'enum': {
      const allowed = (p.def.values ?? []).join(', ');
      whens.push(`WHEN ${v} IS NULL THEN ${head} || ${lit(` is not one of ${allowed} — ${zh}取值无效`)}`);
      break;
    }
  }
  return `(CASE ${whens.join(' ')} END)`;
}

/** Tolerant number text (see moneyCanonical) → canonical `-1234.5` text, or NULL: for profile expressions. */
export function numberCanonical(n: string, fmt: NumberFormat): string {
  return moneyCanonical(n, fmt);
}
