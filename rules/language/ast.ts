/**
 * The expression language: tokens and syntax tree. Every node keeps the
 * offset of its first character in the expression text so errors can point
 * at it (the envelope maps offsets to file line/column).
 */
import { ISO_DATE_SHAPE, isIsoDate } from '../../engine/dates.ts';
import { RuleError, type SourcePos } from './errors.ts';

/** An expression's text and a way to turn an offset in it into a file position. */
export interface ExprSource {
  text: string;
  pos(offset: number): SourcePos;
}

export type Expr =
  | { kind: 'num'; at: number; raw: string; integer: boolean }
  | { kind: 'str'; at: number; value: string }
  | { kind: 'date'; at: number; value: string }
  | { kind: 'bool'; at: number; value: boolean }
  | { kind: 'null'; at: number }
  | { kind: 'ident'; at: number; parts: string[] }
  | { kind: 'param'; at: number; name: string }
  | { kind: 'unary'; at: number; op: '-' | 'not'; arg: Expr }
  | { kind: 'binary'; at: number; op: string; left: Expr; right: Expr; opAt: number }
  | { kind: 'in'; at: number; arg: Expr; list: Expr[] | Expr; negated: boolean }
  | { kind: 'between'; at: number; arg: Expr; lo: Expr; hi: Expr; negated: boolean }
  | { kind: 'isnull'; at: number; arg: Expr; negated: boolean }
  | { kind: 'unit'; at: number; arg: Expr; unit: 'days' | 'workdays' }
  | {
      kind: 'call';
      at: number;
      name: string;
      args: Expr[];
      distinct: boolean;
      /** `sum(amount where month(pay_date) = 12)`: an aggregate filter. */
      filter?: Expr;
      /** `sum(s.amount for s in debt.spending where …)` / `exists(s in t where …)`: a subquery. */
      sub?: { alias: string; table: string; tableAt: number; where?: Expr };
    };

export type TokKind = 'num' | 'str' | 'date' | 'ident' | 'param' | 'op' | 'eof';
export interface Token {
  kind: TokKind;
  text: string;
  at: number;
}

const OPS = ['<=', '>=', '!=', '<>', '==', '||', '+', '-', '*', '/', '%', '=', '<', '>', '(', ')', ',', '.', '[', ']'];

export function syntaxError(src: ExprSource, at: number, msg: string): RuleError {
  return new RuleError(src.pos(at), msg);
}

export function tokenize(src: ExprSource): Token[] {
  const s = src.text;
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      // comment to end of line
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    const start = i;
    // A date literal is the ISO shape not followed by another digit; its validity is checked by the parser (checkDate).
    const dateText = s.slice(i, i + 10);
    if (ISO_DATE_SHAPE.test(dateText) && !/\d/.test(s[i + 10] ?? '')) {
      out.push({ kind: 'date', text: dateText, at: start });
      i += dateText.length;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[i + 1] ?? ''))) {
      const m = /^(\d[\d_]*)?(\.\d+)?([eE][+-]?\d+)?/.exec(s.slice(i))!;
      out.push({ kind: 'num', text: m[0].replaceAll('_', ''), at: start });
      i += m[0].length;
      if (/[A-Za-z_]/.test(s[i] ?? '') && !/^(days|workdays|day|workday)\b/.test(s.slice(i))) {
        throw syntaxError(src, i, `unexpected \`${s[i]}\` after number ${m[0]}`);
      }
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let v = '';
      for (;;) {
        if (j >= s.length) throw syntaxError(src, start, 'unterminated string literal');
        if (s[j] === c) {
          if (s[j + 1] === c) {
            v += c;
            j += 2;
            continue;
          }
          break;
        }
        v += s[j++];
      }
      out.push({ kind: 'str', text: v, at: start });
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i));
      if (!m) throw syntaxError(src, start, '`$` must be followed by a parameter name');
      out.push({ kind: 'param', text: m[1], at: start });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_\u4e00-\u9fff]/.test(c)) {
      const m = /^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*/.exec(s.slice(i))!;
      out.push({ kind: 'ident', text: m[0], at: start });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => s.startsWith(o, i));
    if (!op) throw syntaxError(src, start, `unexpected character \`${c}\``);
    out.push({ kind: 'op', text: op, at: start });
    i += op.length;
  }
  out.push({ kind: 'eof', text: '', at: s.length });
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'between', 'true', 'false', 'for', 'where', 'distinct', 'days', 'day', 'workdays', 'workday', 'date']);

/** Pratt parser. Precedence (low → high): or, and, not, comparison/in/between/is, ||, + -, * / %, unary -, unit (days). */
export function parseExpr(src: ExprSource): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const next = () => toks[p++];
  const isKw = (t: Token, kw: string) => t.kind === 'ident' && t.text.toLowerCase() === kw;
  const isOp = (t: Token, op: string) => t.kind === 'op' && t.text === op;
  const expectOp = (op: string, what: string) => {
    const t = next();
    if (!isOp(t, op)) throw syntaxError(src, t.at, `expected \`${op}\` ${what}, found ${describe(t)}`);
    return t;
  };

  function describe(t: Token): string {
    if (t.kind === 'eof') return 'end of expression';
    if (t.kind === 'str') return `'${t.text}'`;
    return `\`${t.text}\``;
  }

  function parse(minBp: number): Expr {
    let left = prefix();
    for (;;) {
      const t = peek();
      // postfix unit: `6 days`, `$n workdays`
      if (t.kind === 'ident' && /^(days?|workdays?)$/i.test(t.text)) {
        const bp = 90;
        if (bp < minBp) break;
        next();
        left = { kind: 'unit', at: left.at, arg: left, unit: t.text.toLowerCase().startsWith('work') ? 'workdays' : 'days' };
        continue;
      }
      const lower = t.kind === 'ident' ? t.text.toLowerCase() : t.text;
      if (t.kind === 'ident' && (lower === 'and' || lower === 'or')) {
        const bp = lower === 'or' ? 10 : 20;
        if (bp < minBp) break;
        next();
        const right = parse(bp + 1);
        left = { kind: 'binary', at: left.at, op: lower, left, right, opAt: t.at };
        continue;
      }
      // `not in`, `not between`
      let negated = false;
      if (isKw(t, 'not') && (isKw(toks[p + 1], 'in') || isKw(toks[p + 1], 'between'))) {
        if (40 < minBp) break;
        next();
        negated = true;
      }
      const t2 = peek();
      if (isKw(t2, 'in')) {
        if (40 < minBp) break;
        next();
        if (isOp(peek(), '(')) {
          next();
          const list: Expr[] = [];
          if (!isOp(peek(), ')')) {
            do list.push(parse(0));
            while (isOp(peek(), ',') && next());
          }
          expectOp(')', 'to close the `in` list');
          left = { kind: 'in', at: left.at, arg: left, list, negated };
        } else {
          const right = parse(41);
          left = { kind: 'in', at: left.at, arg: left, list: right, negated };
        }
        continue;
      }
      if (isKw(t2, 'between')) {
        if (40 < minBp) break;
        next();
        const lo = parse(41);
        const andTok = next();
        if (!isKw(andTok, 'and')) throw syntaxError(src, andTok.at, `expected \`and\` in \`between … and …\`, found ${describe(andTok)}`);
        const hi = parse(41);
        left = { kind: 'between', at: left.at, arg: left, lo, hi, negated };
        continue;
      }
      if (negated) throw syntaxError(src, t.at, 'expected `in` or `between` after `not`');
      if (isKw(t, 'is')) {
        if (40 < minBp) break;
        next();
        let neg = false;
        if (isKw(peek(), 'not')) {
          next();
          neg = true;
        }
        const n = next();
        if (!isKw(n, 'null')) throw syntaxError(src, n.at, `expected \`null\` after \`is${neg ? ' not' : ''}\`, found ${describe(n)}`);
        left = { kind: 'isnull', at: left.at, arg: left, negated: neg };
        continue;
      }
      if (t.kind === 'op') {
        const op = t.text === '==' ? '=' : t.text === '<>' ? '!=' : t.text;
        const bp = ['=', '!=', '<', '<=', '>', '>='].includes(op) ? 40 : op === '||' ? 50 : op === '+' || op === '-' ? 60 : ['*', '/', '%'].includes(op) ? 70 : -1;
        if (bp < 0 || bp < minBp) break;
        next();
        const right = parse(bp + 1);
        left = { kind: 'binary', at: left.at, op, left, right, opAt: t.at };
        continue;
      }
      break;
    }
    return left;
  }

  function prefix(): Expr {
    const t = next();
    switch (t.kind) {
      case 'num':
        return { kind: 'num', at: t.at, raw: t.text, integer: /^\d+$/.test(t.text) };
      case 'str':
        return { kind: 'str', at: t.at, value: t.text };
      case 'date':
        return { kind: 'date', at: t.at, value: checkDate(t.text, t.at) };
      case 'param':
        return { kind: 'param', at: t.at, name: t.text };
      case 'op':
        if (t.text === '(') {
          const e = parse(0);
          expectOp(')', 'to close `(`');
          return e;
        }
        if (t.text === '-') return { kind: 'unary', at: t.at, op: '-', arg: parse(80) };
        throw syntaxError(src, t.at, `expected a value, found ${describe(t)}`);
      case 'eof':
        throw syntaxError(src, t.at, 'expression ends too early: expected a value');
      case 'ident': {
        const lower = t.text.toLowerCase();
        if (lower === 'not') return { kind: 'unary', at: t.at, op: 'not', arg: parse(30) };
        if (lower === 'true' || lower === 'false') return { kind: 'bool', at: t.at, value: lower === 'true' };
        if (lower === 'null') return { kind: 'null', at: t.at };
        if (lower === 'date' && peek().kind === 'str') {
          const s = next();
          return { kind: 'date', at: t.at, value: checkDate(s.text, s.at) };
        }
        if (isOp(peek(), '(')) return call(t);
        if (KEYWORDS.has(lower)) throw syntaxError(src, t.at, `unexpected keyword \`${t.text}\``);
        const parts = [t.text];
        while (isOp(peek(), '.')) {
          next();
          const n = next();
          if (n.kind !== 'ident') throw syntaxError(src, n.at, `expected a column name after \`.\`, found ${describe(n)}`);
          parts.push(n.text);
        }
        if (parts.length > 2) throw syntaxError(src, t.at, `\`${parts.join('.')}\`: write a column as \`column\` or \`alias.column\``);
        return { kind: 'ident', at: t.at, parts };
      }
    }
  }

  function checkDate(v: string, at: number): string {
    if (!isIsoDate(v)) {
      throw syntaxError(src, at, `${v} is not a date (write YYYY-MM-DD)`);
    }
    return v;
  }

  function tableName(): { table: string; at: number } {
    const a = next();
    if (a.kind !== 'ident') throw syntaxError(src, a.at, `expected a table name such as treasury.payments, found ${describe(a)}`);
    let name = a.text;
    while (isOp(peek(), '.')) {
      next();
      const b = next();
      if (b.kind !== 'ident') throw syntaxError(src, b.at, `expected a table name after \`.\`, found ${describe(b)}`);
      name += `.${b.text}`;
    }
    return { table: name, at: a.at };
  }

  function call(nameTok: Token): Expr {
    next(); // (
    const name = nameTok.text.toLowerCase();
    const args: Expr[] = [];
    let distinct = false;
    let filter: Expr | undefined;
    let sub: Extract<Expr, { kind: 'call' }>['sub'];
    // exists(s in treasury.payments where …)
    if (name === 'exists') {
      const a = next();
      if (a.kind !== 'ident' || !isKw(peek(), 'in')) {
        throw syntaxError(src, a.at, 'write `exists(alias in schema.table where condition)`');
      }
      next();
      const t = tableName();
      let where: Expr | undefined;
      if (isKw(peek(), 'where')) {
        next();
        where = parse(0);
      }
      expectOp(')', 'to close `exists(`');
      return { kind: 'call', at: nameTok.at, name, args, distinct, sub: { alias: a.text, table: t.table, tableAt: t.at, where } };
    }
    if (isKw(peek(), 'distinct')) {
      next();
      distinct = true;
    }
    if (!isOp(peek(), ')') && !isKw(peek(), 'for')) {
      do args.push(parse(0));
      while (isOp(peek(), ',') && next());
    }
    if (isKw(peek(), 'for')) {
      next();
      const a = next();
      if (a.kind !== 'ident') throw syntaxError(src, a.at, `expected an alias after \`for\`, found ${describe(a)}`);
      const inTok = next();
      if (!isKw(inTok, 'in')) throw syntaxError(src, inTok.at, `expected \`in\` after \`for ${a.text}\`, found ${describe(inTok)}`);
      const t = tableName();
      let where: Expr | undefined;
      if (isKw(peek(), 'where')) {
        next();
        where = parse(0);
      }
      sub = { alias: a.text, table: t.table, tableAt: t.at, where };
    } else if (isKw(peek(), 'where')) {
      next();
      filter = parse(0);
    }
    expectOp(')', `to close \`${nameTok.text}(\``);
    return { kind: 'call', at: nameTok.at, name, args, distinct, filter, sub };
  }

  const e = parse(0);
  const t = peek();
  if (t.kind !== 'eof') throw syntaxError(src, t.at, `unexpected ${describe(t)} after a complete expression`);
  return e;
}
