/**
 * Typed IR → SQL through the dialect. Children are rendered first, then the
 * dialect combines them (as kysely's query compilers visit operation nodes).
 * Where a kind reads a row's columns from a derived relation (window computes from
 * their row CTE, `prev.`/`first.`/`last.` from lag/first/last columns), the kind's
 * emitter passes a `column` renderer: a value, not a hook set and reset on a shared object.
 */
import type { TableDef } from '../../../engine/feeds.ts';
import type { Dialect } from '../dialects/types.ts';
import type { IR, RowRef } from '../plan/types.ts';
import { asOfFilter } from './as-of.ts';
import { FUNCTION_SQL, OWN_FILTER } from './functions.ts';

export interface EmitCtx {
  readonly d: Dialect;
  /** Where a row's column is read from, when not from the row itself. */
  readonly column?: (row: RowRef, col: string) => string | undefined;
  /** The SQL of a node the kind computed elsewhere (an aggregate combined from partial ones, emit/at-rollup.ts). */
  readonly node?: (n: IR) => string | undefined;
}

export function relSql(d: Dialect, row: Pick<RowRef, 'rel' | 'quoted'>): string {
  return row.quoted ? d.ident(row.rel) : row.rel;
}

export function columnSql(c: EmitCtx, row: RowRef, col: string): string {
  return c.column?.(row, col) ?? `${relSql(c.d, row)}.${c.d.ident(col)}`;
}

export function tableFrom(d: Dialect, t: TableDef, rel: string): string {
  return `${d.table(t.schema, t.table)} AS ${rel}`;
}

export function emitExpr(n: IR, c: EmitCtx): string {
  const d = c.d;
  const r = (x: IR) => emitExpr(x, c);
  const given = c.node?.(n);
  if (given !== undefined) return given;
  const own = d.emitNode?.(n, r);
  if (own !== undefined) return own;
  switch (n.k) {
    case 'num':
      return n.raw;
    case 'str':
      return d.stringLiteral(n.value);
    case 'date':
      return d.dateLiteral(n.value);
    case 'bool':
      return n.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'param':
      return d.param(n.name, n.ptype);
    case 'col':
      return columnSql(c, n.row, n.col.name);
    case 'slot':
      return `${n.rel}.${n.quoted ? d.ident(n.name) : n.name}`;
    case 'let':
      return `(${r(n.body)})`;
    case 'unary':
      return n.op === '-' ? `(-${r(n.arg)})` : `(NOT ${r(n.arg)})`;
    case 'binary': {
      const l = r(n.left);
      const rt = r(n.right);
      switch (n.op) {
        case 'and':
        case 'or':
          return `(${l} ${n.op.toUpperCase()} ${rt})`;
        case '!=':
          return `(${l} <> ${rt})`;
        case '||':
          return `(${d.cast(l, 'string')} || ${d.cast(rt, 'string')})`;
        case '/':
          return d.safeDiv(l, rt);
        default:
          return `(${l} ${n.op} ${rt})`;
      }
    }
    case 'isnull':
      return `(${r(n.arg)} IS ${n.negated ? 'NOT ' : ''}NULL)`;
    case 'between':
      return `(${r(n.arg)} ${n.negated ? 'NOT ' : ''}BETWEEN ${r(n.lo)} AND ${r(n.hi)})`;
    case 'in':
      return `(${r(n.arg)} ${n.negated ? 'NOT ' : ''}IN (${n.items.map(r).join(', ')}))`;
    case 'inlist': {
      const sql = d.inList(d.cast(r(n.arg), 'string'), r(n.list));
      return n.negated ? `(NOT ${sql})` : sql;
    }
    case 'call': {
      const fn = FUNCTION_SQL[n.fn];
      if (!fn) throw new Error(`internal: no SQL for function ${n.fn}`);
      const filter = n.filter ? r(n.filter) : undefined;
      const own = OWN_FILTER.has(n.fn);
      let sql = fn(n.args.map(r), d, n.args, own ? filter : undefined);
      if (n.distinct) sql = sql.replace('(', '(DISTINCT ');
      if (filter !== undefined && !own) sql = d.aggFilter(sql, filter);
      return sql;
    }
    case 'sub':
      return n.mode === 'exists' ? `EXISTS (${subquerySelect(n, c)})` : `(${subquerySelect(n, c)})`;
    case 'field': {
      const name = r(n.name);
      const t = `trim(${name})`;
      const branches = n.row.table.columns.map((col) => `WHEN ${t} = ${d.stringLiteral(col.name)} THEN ${d.cast(columnSql(c, n.row, col.name), 'string')}`);
      return `nullif(trim(CASE WHEN ${name} IS NULL OR ${t} = '' THEN NULL ${branches.join(' ')} ELSE ${d.jsonField(columnSql(c, n.row, 'extra'), t)} END), '')`;
    }
  }
}

/**
 * The SELECT of a correlated subquery (`exists(…)`: `SELECT 1`; an aggregate: its value, named
 * `alias` when given, for a LATERAL join of emit/hoist.ts).
 */
export function subquerySelect(n: Extract<IR, { k: 'sub' }>, c: EmitCtx, alias?: string): string {
  const d = c.d;
  const conds: string[] = [];
  const asOf = asOfFilter(d, n.row.table, n.row.rel);
  if (asOf) conds.push(asOf);
  if (n.where) conds.push(emitExpr(n.where, c));
  const from = tableFrom(d, n.row.table, n.row.rel);
  const whereSql = conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
  const value = n.mode === 'exists' ? '1' : emitExpr(n.aggregate!, c);
  return `SELECT ${value}${alias ? ` AS ${alias}` : ''} FROM ${from}${whereSql}`;
}

/** Every column of `rows` an expression reads, in the order emitting meets them (first use wins). */
export function columnsRead(n: IR | undefined, accept: (row: RowRef) => boolean, out = new Map<string, { row: RowRef; col: string }>()) {
  if (!n) return out;
  const add = (row: RowRef, col: string) => {
    if (!accept(row)) return;
    const key = `${row.alias}\u0000${col}`;
    if (!out.has(key)) out.set(key, { row, col });
  };
  const go = (x: IR | undefined) => columnsRead(x, accept, out);
  switch (n.k) {
    case 'col':
      add(n.row, n.col.name);
      break;
    case 'let':
      go(n.body);
      break;
    case 'unary':
    case 'isnull':
      go(n.arg);
      break;
    case 'binary':
      go(n.left);
      go(n.right);
      break;
    case 'between':
      go(n.arg);
      go(n.lo);
      go(n.hi);
      break;
    case 'in':
      go(n.arg);
      n.items.forEach(go);
      break;
    case 'inlist':
      go(n.arg);
      go(n.list);
      break;
    case 'call':
      if (n.filter && !OWN_FILTER.has(n.fn)) {
        n.args.forEach(go);
        go(n.filter);
      } else {
        n.args.forEach(go);
        go(n.filter);
      }
      break;
    case 'sub':
      go(n.where);
      go(n.aggregate);
      break;
    case 'field':
      go(n.name);
      for (const col of n.row.table.columns) add(n.row, col.name);
      add(n.row, 'extra');
      break;
    default:
      break;
  }
  return out;
}
