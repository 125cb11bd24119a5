/**
 * The rule compiler's DuckDB SQL with its parameter values written in as typed literals.
 *
 * DuckDB plans a prepared statement with parameters twice: `prepare` binds it and stops there
 * (PreparedStatement::CanCachePlan keeps no plan that scans a table), and the execution binds,
 * optimises and plans it again with the values. A statement without parameters is planned
 * once, by `prepare`, and the execution runs that plan. The pack's SQL is long (an exact
 * decimal `pct()` alone is ~400 characters, and a `let:` is written out wherever it is read),
 * so the second bind is not small: at 100k payments the pack's statements spent 45 ms of a
 * 445 ms one-lane run in `prepare`.
 *
 * Only for text the compiler emitted (emit/provenance.ts), which writes `$name` nowhere but as
 * a parameter outside its string literals and quoted identifiers. The scan reads those as
 * DuckDB's lexer does ('…' and "…", a doubled quote inside) and gives up — undefined, and the
 * caller binds as before — at anything it would have to guess about: a comment, a
 * dollar-quoted or escape string, a `$` inside a name, a value holding a NUL character.
 * Values are the ones `bindRule` binds, with the same types and checks (bind.ts).
 */
import { sqlString } from '../../engine/sql-quote.ts';
import type { CompiledRule } from '../types.ts';
import { centsText, ruleParamValue, type BindContext, type TypedValue } from './bind.ts';

const PARAM = /\$([A-Za-z_][A-Za-z0-9_]*)/y;
const NAME_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
/**
 * What the scan stops at: a quote, a comment's start, a `$`. The regex finds them natively: a
 * character-by-character loop spent ~15 ms of a 100k-payment pack run in a fresh process, where
 * the pack's ~100 statements (~100k characters) are scanned before the JIT has warmed up.
 */
const SIGNIFICANT = /['"$]|--|\/\*/g;

/** `sql` with every `$name` replaced by `literal(name)`, or undefined when the text is not plain enough to be sure. */
export function inlineParameters(sql: string, literal: (name: string) => string | undefined): string | undefined {
  let out = '';
  let copied = 0;
  const scan = new RegExp(SIGNIFICANT);
  for (let m = scan.exec(sql); m; m = scan.exec(sql)) {
    const i = m.index;
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      // An escape string (E'…') reads backslashes; the compiler never writes one.
      if (ch === "'" && /[eE]/.test(sql[i - 1] ?? '') && !NAME_CHAR.test(sql[i - 2] ?? ' ')) return undefined;
      const end = closingQuote(sql, i);
      if (end < 0) return undefined;
      scan.lastIndex = end + 1;
      continue;
    }
    if (ch !== '$') return undefined; // a comment
    PARAM.lastIndex = i;
    const p = PARAM.exec(sql);
    // `$$…$$`, `$tag$…$tag$`, `$1` and `a$b` (a name) are not parameters of the compiler's.
    if (!p || sql[i + p[0].length] === '$' || NAME_CHAR.test(sql[i - 1] ?? ' ')) return undefined;
    const value = literal(p[1]!);
    if (value === undefined) return undefined;
    out += sql.slice(copied, i) + value;
    copied = i + p[0].length;
    scan.lastIndex = copied;
  }
  return out + sql.slice(copied);
}

/** The index of the quote closing the one at `start` (a doubled quote is one character of the text), or -1. */
function closingQuote(sql: string, start: number): number {
  const q = sql[start]!;
  for (let i = sql.indexOf(q, start + 1); i >= 0; i = sql.indexOf(q, i + 2)) {
    if (sql[i + 1] !== q) return i;
  }
  return -1;
}

/** A value as a DuckDB literal of exactly the type `bindRule` binds it with; undefined for a string DuckDB's text cannot carry. */
export function duckdbLiteral(v: TypedValue): string | undefined {
  const text = (s: string) => (s.includes('\u0000') ? undefined : sqlString(s));
  switch (v.type) {
    case 'null':
      return 'NULL';
    case 'date':
      return `DATE ${sqlString(v.iso)}`;
    case 'decimal':
      return `CAST('${centsText(v.cents)}' AS DECIMAL(18,2))`;
    case 'double':
      return `CAST('${String(v.value)}' AS DOUBLE)`;
    case 'integer':
      return `CAST(${String(v.value)} AS INTEGER)`;
    case 'boolean':
      return v.value ? 'TRUE' : 'FALSE';
    case 'varchar':
      return text(v.value);
    case 'list': {
      if (!v.value) return 'CAST(NULL AS VARCHAR[])';
      const items = v.value.map(text);
      return items.some((x) => x === undefined) ? undefined : `CAST([${items.join(', ')}] AS VARCHAR[])`;
    }
  }
}

/**
 * Above this many characters a value is bound instead of written in (a long `$scope` or list
 * parameter). Measured when a delta run's key lists were values: two JSON texts of ~2 MB (100k
 * agency-payee keys at 10M payments) written in cost DuckDB's parser and planner 320 ms, against
 * 9 ms for the second bind and plan when bound.
 */
export const MAX_INLINE_LITERAL = 64 * 1024;

/** The rule's SQL `sql` with the run's values written in, or undefined (bind them instead). */
export function inlineRuleValues(sql: string, rule: Pick<CompiledRule, 'params' | 'meta'>, ctx: BindContext): string | undefined {
  return inlineParameters(sql, (name) => {
    const literal = duckdbLiteral(ruleParamValue(name, rule, ctx));
    return literal !== undefined && literal.length > MAX_INLINE_LITERAL ? undefined : literal;
  });
}
