/**
 * Type-check an expression against a scope and build its typed IR. Column
 * references are checked against the feed catalogue (engine/feeds.ts); nothing
 * here writes SQL.
 */
import { FEEDS, feedTable, type TableDef } from '../../../engine/feeds.ts';
import type { RuleParamDef } from '../../types.ts';
import type { Expr, ExprSource } from '../ast.ts';
import { PARAM_MARK, type Construct } from '../dialects/types.ts';
import { RuleError, didYouMean, type SourcePos } from '../errors.ts';
import type { IR, NodeInfo, RowRef } from '../plan/types.ts';
import { colVType, describeType, isNumeric, type VType } from '../scope.ts';
import { FUNCTIONS, numResult } from './functions.ts';
import { newScope, type Scope } from './scope.ts';

/** What checking one rule accumulates (shared by every expression of the rule). */
export interface ExprEnv {
  params: Map<string, RuleParamDef>;
  usedParams: Set<string>;
  /** Tables used anywhere, with the position of first use (for the `reads` check). */
  usedTables: Map<string, SourcePos & { required: boolean }>;
  /** The plan uses the working-day calendar. */
  workdays: boolean;
  aliasCounter: number;
  /** Report a construct the target engine may lack (CheckContext.needs). */
  needs?: (pos: SourcePos, construct: Construct, what: string) => void;
}

/** Functions that need an engine construct (dialect `unsupported`). */
const FUNCTION_NEEDS: Record<string, Construct> = {
  median: 'median', arg_max: 'arg_max', arg_min: 'arg_max', is_workday: 'workdays', workdays_between: 'workdays', add_workdays: 'workdays',
};

export function paramVType(p: RuleParamDef): VType {
  switch (p.type) {
    case 'money':
      return 'money';
    case 'number':
    case 'percent':
      return 'number';
    case 'integer':
    case 'days':
      return 'integer';
    case 'string':
      return 'string';
    case 'date':
      return 'date';
    case 'boolean':
      return 'boolean';
    case 'list':
      return 'list';
  }
}

type Call = Extract<Expr, { kind: 'call' }>;

export class ExprChecker {
  constructor(
    readonly env: ExprEnv,
    readonly src: ExprSource,
    /** Where mistakes go; checking then goes on with a poison node (all mistakes of an expression). Without it, the first throws. */
    readonly sink?: RuleError[],
  ) {}

  err(at: number, msg: string): RuleError {
    return new RuleError(this.src.pos(at), msg);
  }

  info(at: number, type: VType, agg: boolean, enumValues?: readonly string[]): NodeInfo {
    return enumValues ? { type, agg, span: this.src.pos(at), enumValues } : { type, agg, span: this.src.pos(at) };
  }

  check(e: Expr, scope: Scope): IR {
    if (!this.sink) return this.node(e, scope);
    try {
      return this.node(e, scope);
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      this.sink.push(err);
      return { k: 'null', type: 'null', agg: false, span: this.src.pos(e.at), poison: true };
    }
  }

  private node(e: Expr, scope: Scope): IR {
    switch (e.kind) {
      case 'num':
        return { k: 'num', raw: e.raw, ...this.info(e.at, e.integer ? 'integer' : 'number', false) };
      case 'str':
        if (e.value.includes(PARAM_MARK)) throw this.err(e.at, 'a text literal cannot contain control character U+0001');
        return { k: 'str', value: e.value, ...this.info(e.at, 'string', false) };
      case 'date':
        return { k: 'date', value: e.value, ...this.info(e.at, 'date', false) };
      case 'bool':
        return { k: 'bool', value: e.value, ...this.info(e.at, 'boolean', false) };
      case 'null':
        return { k: 'null', ...this.info(e.at, 'null', false) };
      case 'param': {
        const p = this.env.params.get(e.name);
        if (!p) {
          throw this.err(e.at, `unknown parameter \`$${e.name}\`${didYouMean(e.name, this.env.params.keys())}; declare it under \`params:\``);
        }
        this.env.usedParams.add(e.name);
        const t = paramVType(p);
        return { k: 'param', name: `p_${e.name}`, ptype: t === 'list' ? 'list' : t === 'null' ? 'string' : t, ...this.info(e.at, t, false) } as IR;
      }
      case 'ident':
        return this.ident(e, scope);
      case 'unary': {
        const a = this.check(e.arg, scope);
        if (e.op === '-') {
          if (!isNumeric(a.type)) throw this.err(e.at, `cannot negate ${describeType(a.type)}`);
          return { k: 'unary', op: '-', arg: a, ...this.info(e.at, a.type, a.agg) };
        }
        this.bool(a, e.arg.at, '`not`');
        return { k: 'unary', op: 'not', arg: a, ...this.info(e.at, 'boolean', a.agg) };
      }
      case 'unit': {
        const a = this.check(e.arg, scope);
        if (a.type !== 'integer' && a.type !== 'null') {
          throw this.err(e.at, `\`${e.unit}\` needs a whole number before it, got ${describeType(a.type)}`);
        }
        return { ...a, type: e.unit };
      }
      case 'binary':
        return this.binary(e, scope);
      case 'isnull': {
        const a = this.check(e.arg, scope);
        return { k: 'isnull', arg: a, negated: e.negated, ...this.info(e.at, 'boolean', a.agg) };
      }
      case 'between': {
        const a = this.check(e.arg, scope);
        const lo = this.check(e.lo, scope);
        const hi = this.check(e.hi, scope);
        this.comparable(a, lo, e.lo.at);
        this.comparable(a, hi, e.hi.at);
        return { k: 'between', arg: a, lo, hi, negated: e.negated, ...this.info(e.at, 'boolean', a.agg || lo.agg || hi.agg) };
      }
      case 'in': {
        const a = this.check(e.arg, scope);
        if (Array.isArray(e.list)) {
          if (e.list.length === 0) throw this.err(e.at, '`in ()` needs at least one value');
          const items = e.list.map((x) => {
            const t = this.check(x, scope);
            this.comparable(a, t, x.at);
            return t;
          });
          return { k: 'in', arg: a, items, negated: e.negated, ...this.info(e.at, 'boolean', a.agg || items.some((i) => i.agg)) };
        }
        const l = this.check(e.list, scope);
        if (l.type !== 'list') throw this.err(e.list.at, `\`in\` needs a list such as ('a', 'b') or a list parameter, got ${describeType(l.type)}`);
        return { k: 'inlist', arg: a, list: l, negated: e.negated, ...this.info(e.at, 'boolean', a.agg) };
      }
      case 'call':
        return this.call(e, scope);
    }
  }

  bool(t: IR, at: number, what: string): void {
    if (t.type !== 'boolean' && t.type !== 'null') throw this.err(at, `${what} needs a true/false condition, got ${describeType(t.type)}`);
  }

  comparable(a: IR, b: IR, at: number): void {
    if (a.type === 'null' || b.type === 'null') return;
    if (isNumeric(a.type) && isNumeric(b.type)) return;
    if (a.type !== b.type) throw this.err(at, `cannot compare ${describeType(a.type)} with ${describeType(b.type)}`);
    const en = a.enumValues ?? b.enumValues;
    const lit = a.enumValues ? b : a;
    if (en && lit.k === 'str') {
      const v = lit.value;
      if (!en.includes(v)) {
        throw this.err(at, `'${v}' is not a value of this column (${en.join(', ')})${didYouMean(v, en)}`);
      }
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, scope: Scope): IR {
    const l = this.check(e.left, scope);
    const r = this.check(e.right, scope);
    const agg = l.agg || r.agg;
    const op = e.op;
    const node = (o: string, type: VType, left = l, right = r): IR => ({ k: 'binary', op: o, left, right, ...this.info(e.at, type, agg) });
    const call = (fn: string, args: IR[], type: VType): IR => ({ k: 'call', fn, args, distinct: false, ...this.info(e.at, type, agg) });
    const neg = (x: IR): IR => ({ k: 'unary', op: '-', arg: x, ...this.info(e.right.at, x.type, x.agg) });
    if (op === 'and' || op === 'or') {
      this.bool(l, e.left.at, `\`${op}\``);
      this.bool(r, e.right.at, `\`${op}\``);
      return node(op, 'boolean');
    }
    if (['=', '!=', '<', '<=', '>', '>='].includes(op)) {
      this.comparable(l, r, e.right.at);
      return node(op, 'boolean');
    }
    if (op === '||') return node('||', 'string');
    // date arithmetic
    if (l.type === 'date' && (op === '+' || op === '-') && (r.type === 'days' || r.type === 'workdays')) {
      if (r.type === 'workdays') {
        this.env.workdays = true;
        this.env.needs?.(this.src.pos(e.at), 'workdays', '`… workdays`');
        return call('add_workdays', [l, op === '+' ? r : neg(r)], 'date');
      }
      return call('add_days', [l, op === '+' ? r : neg(r)], 'date');
    }
    if (l.type === 'date' && r.type === 'date' && op === '-') return call('days_between', [r, l], 'integer');
    if (l.type === 'days' || r.type === 'days' || l.type === 'workdays' || r.type === 'workdays') {
      throw this.err(e.opAt, `\`${op}\`: a number of days can only be added to or subtracted from a date (e.g. \`pay_date + 6 days\`)`);
    }
    if (!isNumeric(l.type)) throw this.err(e.left.at, `\`${op}\` needs numbers, got ${describeType(l.type)}`);
    if (!isNumeric(r.type)) throw this.err(e.right.at, `\`${op}\` needs numbers, got ${describeType(r.type)}`);
    if (op === '/') return node('/', 'number');
    if (op === '%') return node('%', numResult([l.type, r.type]));
    // money stays exact: integer and DECIMAL literals keep DECIMAL arithmetic.
    if (op === '*') return node('*', l.type === 'money' && r.type === 'money' ? 'number' : numResult([l.type, r.type]));
    return node(op, numResult([l.type, r.type]));
  }

  private ident(e: Extract<Expr, { kind: 'ident' }>, scope: Scope): IR {
    if (e.parts.length === 2) {
      const [alias, col] = e.parts as [string, string];
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        const tb = s.tables.get(alias);
        if (tb) return this.column(tb, col, e.at + alias.length + 1, e.at);
      }
      const aliases = allAliases(scope);
      const hint = feedTable(`${alias}.${col}`) ? ` (\`${alias}.${col}\` is a table: name it in \`from\`/\`lookup\` with an alias)` : didYouMean(alias, aliases);
      throw this.err(e.at, `unknown table alias \`${alias}\`${hint}; known: ${aliases.join(', ') || 'none'}`);
    }
    const name = e.parts[0]!;
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const nb = s.names.get(name);
      if (nb) {
        if (nb.kind === 'ir') return nb.ir;
        if (nb.cached) return nb.cached;
        if (nb.busy) throw this.err(e.at, `\`${name}\` is defined in terms of itself`);
        nb.busy = true;
        try {
          const body = new ExprChecker(this.env, nb.src, this.sink).check(nb.expr, nb.scope);
          nb.cached = { k: 'let', name, body, type: body.type, agg: body.agg, span: body.span, ...(body.enumValues ? { enumValues: body.enumValues } : {}) };
        } finally {
          nb.busy = false;
        }
        return nb.cached;
      }
      // unqualified column: primary table first, then any other table that has it (must be unique)
      if (s.primary) {
        const tb = s.tables.get(s.primary)!;
        if (tb.table.columns.some((c) => c.name === name)) return this.column(tb, name, e.at, e.at);
      }
      const hits = [...s.tables.values()].filter((tb) => tb.table.columns.some((c) => c.name === name));
      if (hits.length === 1) return this.column(hits[0]!, name, e.at, e.at);
      if (hits.length > 1) {
        throw this.err(e.at, `\`${name}\` is ambiguous: write ${hits.map((h) => `\`${h.alias}.${name}\``).join(' or ')}`);
      }
    }
    const candidates = new Set<string>();
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      for (const n of s.names.keys()) candidates.add(n);
      for (const tb of s.tables.values()) for (const c of tb.table.columns) candidates.add(c.name);
    }
    const prim = primaryTable(scope);
    const where = prim ? ` in ${prim.name}` : '';
    throw this.err(e.at, `unknown column \`${name}\`${where}${didYouMean(name, candidates)}`);
  }

  private column(row: RowRef, col: string, at: number, start: number): IR {
    const c = row.table.columns.find((x) => x.name === col);
    if (!c) {
      throw this.err(at, `unknown column \`${col}\` in ${row.table.name}${didYouMean(col, row.table.columns.map((x) => x.name))}`);
    }
    return { k: 'col', row, col: c, ...this.info(start, colVType(c), false, c.values) };
  }

  private call(e: Call, scope: Scope): IR {
    if (e.name === 'exists') return this.subquery(e, scope, 'exists');
    if (e.name === 'field') return this.field(e, scope);
    const spec = FUNCTIONS[e.name];
    if (!spec) {
      throw this.err(e.at, `unknown function \`${e.name}\`${didYouMean(e.name, Object.keys(FUNCTIONS))}`);
    }
    const [lo, hi] = spec.arity;
    if (e.args.length < lo || e.args.length > hi) {
      throw this.err(e.at, `\`${e.name}\` takes ${lo === hi ? lo : `${lo}–${hi}`} argument${hi === 1 ? '' : 's'}, got ${e.args.length}`);
    }
    if (e.sub) {
      if (!spec.agg) throw this.err(e.at, `\`for … in …\` only works with aggregate functions (sum, count, min, max, …)`);
      return this.subquery(e, scope, 'agg');
    }
    if ((e.distinct || e.filter) && !spec.agg) throw this.err(e.at, `\`${e.name}\` is not an aggregate: \`distinct\`/\`where\` are not allowed`);
    if (spec.agg && !scope.aggregates) {
      throw this.err(e.at, `aggregate \`${e.name}\` is not allowed ${scope.where}; aggregate in \`compute\` (or use \`${e.name}(x for r in table where …)\`)`);
    }
    const inner: Scope = spec.agg ? { ...scope, aggregates: false, where: `inside \`${e.name}(…)\`` } : scope;
    const args = e.args.map((a) => this.check(a, inner));
    const fail = (i: number, msg: string): never => {
      throw this.err(e.args[i]?.at ?? e.at, `\`${e.name}\` ${msg}`);
    };
    const type = spec.check(args, fail);
    if (spec.workdays) this.env.workdays = true;
    const construct = FUNCTION_NEEDS[e.name];
    if (construct) this.env.needs?.(this.src.pos(e.at), construct, `\`${e.name}\``);
    if (e.distinct && !['count', 'sum', 'count_distinct'].includes(e.name)) throw this.err(e.at, `\`distinct\` works with count and sum`);
    let filter: IR | undefined;
    if (e.filter) {
      filter = this.check(e.filter, inner);
      this.bool(filter, e.filter.at, '`where`');
    }
    return {
      k: 'call', fn: e.name, args, distinct: e.distinct, ...(filter ? { filter } : {}),
      ...this.info(e.at, type, spec.agg === true || args.some((a) => a.agg)),
    };
  }

  /**
   * `field(name)`: a value of the current row named by text, usually a deployment
   * parameter (`field($reference_field)`): a column of the row's table when the name is
   * one, else that key of the row's `extra` JSON. The name stays a bound value.
   */
  private field(e: Call, scope: Scope): IR {
    if (e.args.length !== 1 || e.sub || e.distinct || e.filter) {
      throw this.err(e.at, '`field` takes one argument: the name of a column or of an `extra` field, e.g. `field($reference_field)`');
    }
    let binding: RowRef | undefined;
    for (let s: Scope | undefined = scope; s && !binding; s = s.parent) {
      if (s.primary) binding = s.tables.get(s.primary);
    }
    if (!binding || !FEEDS.includes(binding.table)) {
      throw this.err(e.at, '`field(…)` reads the row of the source table (`from`): use it in `where`, `compute` or `partition_by`');
    }
    this.env.needs?.(this.src.pos(e.at), 'json_extra', '`field(…)` (the `extra` JSON of a row)');
    const name = this.check(e.args[0]!, scope);
    if (name.type !== 'string' && name.type !== 'null') throw this.err(e.args[0]!.at, `\`field\` expects the name as text, got ${describeType(name.type)}`);
    return { k: 'field', row: binding, name, ...this.info(e.at, 'string', name.agg) };
  }

  /** `exists(r in t where …)` and `sum(x for r in t where …)`: correlated subqueries. */
  private subquery(e: Call, scope: Scope, mode: 'exists' | 'agg'): IR {
    const sub = e.sub!;
    const def = this.table(sub.table, sub.tableAt, true);
    const row: RowRef = { alias: sub.alias, rel: `t${this.env.aliasCounter++}`, quoted: false, table: def };
    const inner = newScope(`inside \`${e.name}(…)\``, { parent: scope, primary: sub.alias });
    inner.tables.set(sub.alias, row);
    let where: IR | undefined;
    if (sub.where) {
      where = this.check(sub.where, inner);
      this.bool(where, sub.where.at, '`where`');
    }
    if (mode === 'exists') return { k: 'sub', mode, row, ...(where ? { where } : {}), ...this.info(e.at, 'boolean', false) };
    const aggScope: Scope = { ...inner, aggregates: true };
    const agg = this.call({ kind: 'call', at: e.at, name: e.name, args: e.args, distinct: e.distinct }, aggScope);
    return { k: 'sub', mode, row, ...(where ? { where } : {}), aggregate: agg, ...this.info(e.at, agg.type, false) };
  }

  /** Resolve a feed table name, record its use. */
  table(name: string, at: number, required: boolean): TableDef {
    const def = feedTable(name);
    if (!def) {
      throw this.err(at, `unknown table \`${name}\`${didYouMean(name, FEEDS.map((f) => f.name))}`);
    }
    const prev = this.env.usedTables.get(name);
    if (!prev) this.env.usedTables.set(name, { ...this.src.pos(at), required });
    else if (required) prev.required = true;
    return def;
  }
}

function allAliases(scope: Scope): string[] {
  const out: string[] = [];
  for (let s: Scope | undefined = scope; s; s = s.parent) out.push(...s.tables.keys());
  return out;
}

function primaryTable(scope: Scope): TableDef | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.primary) return s.tables.get(s.primary)?.table;
    if (s.tables.size === 1) return [...s.tables.values()][0]!.table;
  }
  return undefined;
}
