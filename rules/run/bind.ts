/**
 * Binding a compiled rule's named parameters: `$as_of` (DATE), `$scope`
 * (VARCHAR[] or NULL) and one `$p_<name>` per rule parameter, typed from the
 * rule's parameter definitions (money → DECIMAL(18,2), never a float).
 * Only parameters the SQL actually mentions are bound, so a rule that does not
 * use `$scope` still runs.
 */
import {
  BOOLEAN, DOUBLE, DuckDBDateValue, DuckDBDecimalValue, INTEGER, LIST, VARCHAR, listValue,
  type DuckDBPreparedStatement, type DuckDBValue,
} from '@duckdb/node-api';
import { isDeltaParam, type CompiledRule, type RuleParamDef } from '../types.ts';

export type ParamValue = string | number | boolean | string[] | null;

export class BindError extends Error {}

export function dateValue(iso: string): DuckDBDateValue {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new BindError(`not a date (YYYY-MM-DD): ${iso}`);
  return DuckDBDateValue.fromParts({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) });
}

/** "1,234.5" / 1234.5 → DECIMAL(18,2) with exact cents. */
export function decimalValue(v: string | number): DuckDBDecimalValue {
  const s = (typeof v === 'number' ? v.toFixed(2) : v).replaceAll(',', '').trim();
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) throw new BindError(`not a money amount: ${String(v)}`);
  const cents = BigInt(m[2] + (m[3] ?? '').padEnd(2, '0'));
  return new DuckDBDecimalValue(m[1] ? -cents : cents, 18, 2);
}

/**
 * A parameter's value, checked and typed as DuckDB receives it: bound (`bindRule`) or written
 * into the SQL as a literal (inline-values.ts). Money is exact cents, never a float.
 */
export type TypedValue =
  | { type: 'date'; iso: string }
  | { type: 'decimal'; cents: bigint }
  | { type: 'double'; value: number }
  | { type: 'integer'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'varchar'; value: string }
  | { type: 'list'; value: readonly string[] | null }
  | { type: 'null' };

function typedParam(name: string, value: ParamValue, def: RuleParamDef | undefined): TypedValue {
  if (value === null || value === undefined) return { type: 'null' };
  const type = def?.type ?? inferType(value);
  try {
    switch (type) {
      case 'money':
        return { type: 'decimal', cents: decimalValue(value as string | number).value };
      case 'number':
      case 'percent': {
        const n = Number(value);
        if (!Number.isFinite(n)) throw new BindError(`not a number: ${String(value)}`);
        return { type: 'double', value: n };
      }
      case 'integer':
      case 'days': {
        const n = Number(value);
        if (!Number.isInteger(n)) throw new BindError(`not an integer: ${String(value)}`);
        return { type: 'integer', value: n };
      }
      case 'date':
        dateValue(String(value));
        return { type: 'date', iso: String(value) };
      case 'boolean':
        return { type: 'boolean', value: value === true || value === 'true' };
      case 'list':
        return { type: 'list', value: (Array.isArray(value) ? value : [value]).map(String) };
      case 'string':
        return { type: 'varchar', value: String(value) };
    }
  } catch (err) {
    throw new BindError(`parameter $${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function bindTypedValue(p: DuckDBPreparedStatement, idx: number, v: TypedValue): void {
  switch (v.type) {
    case 'null':
      return p.bindNull(idx);
    case 'date':
      return p.bindDate(idx, dateValue(v.iso));
    case 'decimal':
      return p.bindDecimal(idx, new DuckDBDecimalValue(v.cents, 18, 2));
    case 'double':
      return p.bindValue(idx, v.value, DOUBLE);
    case 'integer':
      return p.bindValue(idx, v.value, INTEGER);
    case 'boolean':
      return p.bindValue(idx, v.value, BOOLEAN);
    case 'varchar':
      return p.bindVarchar(idx, v.value);
    case 'list':
      return v.value ? p.bindList(idx, [...v.value], LIST(VARCHAR)) : p.bindValue(idx, null, LIST(VARCHAR));
  }
}

function inferType(v: Exclude<ParamValue, null>): RuleParamDef['type'] {
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return 'string';
}

export interface BindContext {
  asOf: string;
  /** Partition values for an incremental run; null = everything. */
  scope?: string[] | null;
  /** Delta evaluation (`$delta_batches`): the new batches' ids; the SQL reads the keys they touched from them. */
  deltaBatches?: readonly string[];
  /** A window rule's delta evaluation (`$delta_dates`): the first and last date the batches touched (ISO). */
  deltaDates?: readonly [string, string];
}

/** The value of a delta list parameter (`$delta_batches`, `$delta_dates`), or undefined when `name` is none. */
export function deltaList(name: string, ctx: BindContext): string[] | undefined {
  if (name === 'delta_dates') {
    if (!ctx.deltaDates) throw new BindError('the SQL uses $delta_dates, but no touched dates were given for it');
    return [...ctx.deltaDates];
  }
  if (name !== 'delta_batches') return undefined;
  if (!ctx.deltaBatches) throw new BindError('the SQL uses $delta_batches, but no new batches were given for it');
  return [...ctx.deltaBatches];
}

/**
 * The value of the parameter `name` the rule's SQL uses: `$as_of`, `$scope`, a delta list or a
 * rule parameter. An unknown name is an error naming it.
 */
export function ruleParamValue(name: string, rule: Pick<CompiledRule, 'params' | 'meta'>, ctx: BindContext): TypedValue {
  if (name === 'as_of') {
    dateValue(ctx.asOf);
    return { type: 'date', iso: ctx.asOf };
  }
  if (name === 'scope') return { type: 'list', value: ctx.scope ?? null };
  // As JSON text (the DuckDB dialect's from_json): a list value costs a value per element.
  if (isDeltaParam(name)) return { type: 'varchar', value: JSON.stringify(deltaList(name, ctx)!) };
  if (Object.hasOwn(rule.params, name)) return ruleParamTyped(name, rule);
  throw new BindError(`the SQL uses $${name}, which is neither $as_of, $scope nor a parameter of the rule`);
}

/** The rule parameter `name` (`p_<param>`), typed by its definition (`fallback` for one without), checked. */
export function ruleParamTyped(name: string, rule: Pick<CompiledRule, 'params' | 'meta'>, fallback?: RuleParamDef['type']): TypedValue {
  const def = rule.meta.params.find((d) => `p_${d.name}` === name);
  return typedParam(name, rule.params[name] as ParamValue, def ?? (fallback ? ({ type: fallback } as RuleParamDef) : undefined));
}

/** Exact cents as decimal text: -5n → "-0.05". */
export function centsText(cents: bigint): string {
  const abs = cents < 0n ? -cents : cents;
  return `${cents < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** Bind everything the prepared rule SQL mentions; an unknown parameter is an error naming it. */
export function bindRule(p: DuckDBPreparedStatement, rule: Pick<CompiledRule, 'params' | 'meta'>, ctx: BindContext): void {
  for (let i = 1; i <= p.parameterCount; i++) bindTypedValue(p, i, ruleParamValue(p.parameterName(i), rule, ctx));
}

/** The bound values as text, for `fiscus rules explain`. */
export function describeBindings(rule: Pick<CompiledRule, 'params' | 'meta'>, ctx: BindContext): { name: string; type: string; value: string }[] {
  const defs = new Map(rule.meta.params.map((d) => [`p_${d.name}`, d]));
  const out = [{ name: 'as_of', type: 'DATE', value: ctx.asOf }];
  if (ctx.scope !== undefined) out.push({ name: 'scope', type: 'VARCHAR[]', value: ctx.scope ? JSON.stringify(ctx.scope) : 'NULL' });
  for (const [name, v] of Object.entries(rule.params)) {
    const t = defs.get(name)?.type ?? (v === null ? 'string' : inferType(v as Exclude<ParamValue, null>));
    const sql = { money: 'DECIMAL(18,2)', number: 'DOUBLE', percent: 'DOUBLE', integer: 'INTEGER', days: 'INTEGER', date: 'DATE', boolean: 'BOOLEAN', list: 'VARCHAR[]', string: 'VARCHAR' }[t];
    out.push({ name, type: sql, value: Array.isArray(v) ? JSON.stringify(v) : String(v) });
  }
  return out;
}


/**
 * The named values for a DuckDB `conn.run(sql, values)` call (tests and tools; the runner
 * binds through prepared statements, bindRule): `$as_of`, every `$p_<param>`, `$scope` and the delta lists,
 * only those `sql` uses (DuckDB refuses unknown names). Lists must be DuckDB list values; the delta lists are JSON text (see bindRule).
 * The rule language itself knows no DuckDB value classes: this adapter is here.
 */
export function bindValues(
  rule: Pick<CompiledRule, 'params' | 'sql'>,
  asOf: string,
  scope?: string[] | null,
  sql: string = rule.sql,
  deltaBatches?: readonly string[],
  deltaDates?: readonly [string, string],
): Record<string, DuckDBValue> {
  const used = new Set([...sql.matchAll(/\$([A-Za-z_]\w*)/g)].map((m) => m[1]!));
  const all: Record<string, DuckDBValue> = { as_of: asOf };
  for (const [k, v] of Object.entries(rule.params)) all[k] = Array.isArray(v) ? listValue(v) : v;
  all.scope = scope && scope.length ? listValue(scope) : null;
  if (deltaBatches) all.delta_batches = JSON.stringify(deltaBatches);
  if (deltaDates) all.delta_dates = JSON.stringify(deltaDates);
  const out: Record<string, DuckDBValue> = {};
  for (const k of used) if (k in all) out[k] = all[k]!;
  return out;
}
