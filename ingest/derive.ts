/**
 * Row-level expressions of a mapping profile (`derive:`), in the rule
 * language's own syntax (rules/LANGUAGE.md: its tokenizer and parser are
 * reused), compiled to DuckDB SQL over the source row's columns.
 *
 * Names are source headers (`一般债务`, `Gross`; `col('Net Amount')` for a
 * header that is not a plain word). A header's value is its text;
 * arithmetic reads it as an exact decimal (thousands separators, currency
 * signs, `(1.00)` and `1.00-` negatives understood) in the file's own unit —
 * the column's `unit:` applies to the result. The result is text, converted
 * and validated like any source value of the target column.
 *
 *   derive:
 *     debt_balance: "一般债务余额 + 专项债务余额"
 *     payee_account: "coalesce(Account, Supplier)"
 *     agency_code: "lpad(Dept, 6, '0')"
 *     purpose: "Description || ' / ' || col('Expense Type')"
 */
import { UsageError } from '../engine/errors.ts';
import { parseExpr, type Expr } from '../rules/language/ast.ts';
import { RuleError, didYouMean } from '../rules/language/errors.ts';
import { numberCanonical, type NumberFormat } from './convert-sql.ts';
import { lit } from './sql-text.ts';

type T = 'text' | 'number' | 'bool';
interface Out {
  sql: string;
  type: T;
}

export interface RowExprCtx {
  /** `file:line:col` of the expression in the profile. */
  where: string;
  /** The normalised text of a source column by header, or undefined. */
  column(name: string): string | undefined;
  headers: readonly string[];
  fmt: NumberFormat;
  /** Names an expression in its own layer (keeps the SQL linear in size). */
  stage(expr: string): string;
}

const FUNCS = ['coalesce', 'if', 'left', 'right', 'lpad', 'rpad', 'upper', 'lower', 'trim', 'replace', 'length', 'col', 'abs', 'round', 'blank', 'contains', 'starts_with'];

/** Compile a derive expression to a VARCHAR SQL expression. */
export function compileRowExpr(text: string, ctx: RowExprCtx): string {
  let e: Expr;
  const src = { text, pos: (off: number) => ({ file: ctx.where, line: 0, column: off + 1 }) };
  const fail = (at: number, msg: string) => new UsageError(`mapping profile ${ctx.where}: derive "${text}" (at character ${at + 1}): ${msg}`);
  try {
    e = parseExpr(src);
  } catch (err) {
    if (err instanceof RuleError) throw fail(err.column - 1, err.reason);
    throw err;
  }
  const num = (o: Out): string =>
    o.type === 'number' ? o.sql : o.type === 'text' ? ctx.stage(`TRY_CAST(${numberCanonical(o.sql, ctx.fmt)} AS DECIMAL(38,10))`) : `CAST(${o.sql} AS INTEGER)`;
  const txt = (o: Out): string =>
    o.type === 'text'
      ? o.sql
      : o.type === 'number'
        ? `(CASE WHEN CAST(${o.sql} AS VARCHAR) LIKE '%.%' THEN rtrim(rtrim(CAST(${o.sql} AS VARCHAR), '0'), '.') ELSE CAST(${o.sql} AS VARCHAR) END)`
        : `CAST(${o.sql} AS VARCHAR)`;
  const column = (name: string, at: number): Out => {
    const c = ctx.column(name);
    if (c === undefined) {
      throw fail(at, `\`${name}\` is not a header of the file${didYouMean(name, ctx.headers)}; write col('…') for a header with spaces or signs`);
    }
    return { sql: c, type: 'text' };
  };

  function c(x: Expr): Out {
    switch (x.kind) {
      case 'num':
        return { sql: `CAST(${lit(x.raw)} AS DECIMAL(38,10))`, type: 'number' };
      case 'str':
        return { sql: lit(x.value), type: 'text' };
      case 'date':
        return { sql: lit(x.value), type: 'text' };
      case 'bool':
        return { sql: x.value ? 'TRUE' : 'FALSE', type: 'bool' };
      case 'null':
        return { sql: 'NULL::VARCHAR', type: 'text' };
      case 'ident':
        return column(x.parts.join('.'), x.at);
      case 'param':
        throw fail(x.at, 'parameters ($name) belong to rules; a profile writes values directly');
      case 'unary':
        return x.op === '-' ? { sql: `(-${num(c(x.arg))})`, type: 'number' } : { sql: `(NOT ${c(x.arg).sql})`, type: 'bool' };
      case 'isnull':
        return { sql: `(${c(x.arg).sql} IS ${x.negated ? 'NOT ' : ''}NULL)`, type: 'bool' };
      case 'between': {
        const a = c(x.arg);
        const lo = c(x.lo);
        const hi = c(x.hi);
        const numeric = a.type === 'number' || lo.type === 'number' || hi.type === 'number';
        const f = numeric ? num : txt;
        return { sql: `(${f(a)} ${x.negated ? 'NOT ' : ''}BETWEEN ${f(lo)} AND ${f(hi)})`, type: 'bool' };
      }
      case 'in': {
        if (!Array.isArray(x.list)) throw fail(x.at, '`in` wants a list: x in (\'a\', \'b\')');
        const a = c(x.arg);
        const items = x.list.map(c);
        const numeric = items.some((i) => i.type === 'number');
        const f = numeric ? num : txt;
        return { sql: `(${f(a)} ${x.negated ? 'NOT ' : ''}IN (${items.map(f).join(', ')}))`, type: 'bool' };
      }
      case 'unit':
        throw fail(x.at, '`days`/`workdays` belong to rules');
      case 'binary': {
        const l = c(x.left);
        const r = c(x.right);
        if (x.op === 'and' || x.op === 'or') return { sql: `(${l.sql} ${x.op.toUpperCase()} ${r.sql})`, type: 'bool' };
        if (x.op === '||') return { sql: `(${txt(l)} || ${txt(r)})`, type: 'text' };
        if (['+', '-', '*', '/', '%'].includes(x.op)) {
          const op = x.op === '/' ? '/' : x.op;
          return { sql: `(${num(l)} ${op} ${num(r)})`, type: 'number' };
        }
        const cmp = x.op === '==' ? '=' : x.op === '<>' ? '!=' : x.op;
        const numeric = l.type === 'number' || r.type === 'number';
        return { sql: `(${numeric ? num(l) : txt(l)} ${cmp} ${numeric ? num(r) : txt(r)})`, type: 'bool' };
      }
      case 'call':
        return call(x);
    }
  }

  function call(x: Extract<Expr, { kind: 'call' }>): Out {
    const name = x.name.toLowerCase();
    if (x.sub || x.filter || x.distinct) throw fail(x.at, 'subqueries and aggregates belong to rules; a profile works on one row');
    const a = x.args;
    const arity = (lo: number, hi = lo) => {
      if (a.length < lo || a.length > hi) throw fail(x.at, `${name}() takes ${lo === hi ? lo : `${lo}–${hi}`} argument${hi > 1 ? 's' : ''}`);
    };
    switch (name) {
      case 'col': {
        arity(1);
        if (a[0].kind !== 'str') throw fail(a[0].at, "col() takes a header in quotes: col('Net Amount')");
        return column(a[0].value, a[0].at);
      }
      case 'coalesce': {
        arity(2, 9);
        const args = a.map(c);
        return args.every((o) => o.type === 'number')
          ? { sql: `coalesce(${args.map(num).join(', ')})`, type: 'number' }
          : { sql: `coalesce(${args.map(txt).join(', ')})`, type: 'text' };
      }
      case 'if': {
        arity(3);
        const [k, t, f] = a.map(c);
        return t.type === 'number' && f.type === 'number'
          ? { sql: `(CASE WHEN ${k.sql} THEN ${num(t)} ELSE ${num(f)} END)`, type: 'number' }
          : { sql: `(CASE WHEN ${k.sql} THEN ${txt(t)} ELSE ${txt(f)} END)`, type: 'text' };
      }
      case 'left':
      case 'right':
        arity(2);
        return { sql: `${name}(${txt(c(a[0]))}, CAST(${num(c(a[1]))} AS INTEGER))`, type: 'text' };
      case 'lpad':
      case 'rpad':
        arity(3);
        return { sql: `${name}(${txt(c(a[0]))}, CAST(${num(c(a[1]))} AS INTEGER), ${txt(c(a[2]))})`, type: 'text' };
      case 'upper':
      case 'lower':
      case 'trim':
        arity(1);
        return { sql: `${name}(${txt(c(a[0]))})`, type: 'text' };
      case 'replace':
        arity(3);
        return { sql: `replace(${a.map((y) => txt(c(y))).join(', ')})`, type: 'text' };
      case 'length':
        arity(1);
        return { sql: `CAST(length(${txt(c(a[0]))}) AS DECIMAL(38,10))`, type: 'number' };
      case 'abs':
        arity(1);
        return { sql: `abs(${num(c(a[0]))})`, type: 'number' };
      case 'round':
        arity(1, 2);
        return { sql: `round(${num(c(a[0]))}, ${a[1] ? `CAST(${num(c(a[1]))} AS INTEGER)` : '0'})`, type: 'number' };
      case 'blank':
        arity(1);
        return { sql: `(${txt(c(a[0]))} IS NULL OR trim(${txt(c(a[0]))}) = '')`, type: 'bool' };
      case 'contains':
      case 'starts_with':
        arity(2);
        return { sql: `${name}(${txt(c(a[0]))}, ${txt(c(a[1]))})`, type: 'bool' };
      default:
        throw fail(x.at, `unknown function ${x.name}()${didYouMean(x.name, FUNCS)}; a profile expression can use ${FUNCS.join(', ')}`);
    }
  }

  const out = c(e);
  if (out.type === 'bool') return `CAST(${out.sql} AS VARCHAR)`;
  return txt(out);
}
