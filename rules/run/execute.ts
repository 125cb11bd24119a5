/**
 * Running a compiled rule's SQL (its main query, a precondition, an input count) on the
 * Store's engine, read-only, with its parameters bound by type.
 *
 * DuckDB: a prepared statement on the main connection, refused unless it is one SELECT
 * (engine/sql-guard.ts), bound by name (bind.ts). PostgreSQL: the positional `$1…` SQL of
 * the rule language's PostgreSQL dialect, values in `parameters` order, in a READ ONLY
 * transaction on a pooled connection (committed data only; a write fails in the server).
 */
import type { Store } from '../../engine/db.ts';
import { FiscusError } from '../../engine/errors.ts';
import type { PostgresStore } from '../../engine/pg-store.ts';
import { prepareReadOnly } from '../../engine/sql-guard.ts';
import type { BoundParameter } from '../language/dialects/types.ts';
import type { CompiledRule, RuleParamDef } from '../types.ts';
import { BindError, bindRule, type BindContext, type ParamValue } from './bind.ts';

export interface RuleSql {
  sql: string;
  parameters?: BoundParameter[];
}

export interface RuleRows {
  columns: string[];
  rows: Record<string, unknown>[];
}

/** The rule was compiled for one engine and the Store is another: say how to fix it. */
export function checkRuleDialect(store: Store, rule: Pick<CompiledRule, 'meta' | 'dialect'>): void {
  const dialect = rule.dialect ?? 'duckdb';
  if (dialect !== store.engine) {
    throw new FiscusError(
      `rule ${rule.meta.id} was compiled for ${dialect} but the database is ${store.engine}: compile it with { dialect: '${store.engine}' }`,
      { code: 'RULE_DIALECT' },
    );
  }
}

export async function queryRule(store: Store, rule: CompiledRule, q: RuleSql, ctx: BindContext): Promise<RuleRows> {
  checkRuleDialect(store, rule);
  if (store.engine === 'postgres') return queryPostgres(store as PostgresStore, rule, q, ctx);
  // On the main connection through the Store, so it never runs inside another caller's transaction.
  const reader = await store.withConnection(async (conn) => {
    const prepared = await prepareReadOnly(conn, q.sql);
    bindRule(prepared, rule, ctx);
    return prepared.runAndReadAll();
  }, { writes: false });
  return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[] };
}

/** A parameter's value as PostgreSQL text-protocol input (the dialect casts each placeholder to its type). */
export function postgresValue(name: string, type: RuleParamDef['type'] | undefined, v: ParamValue): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'money': {
      const s = (typeof v === 'number' ? v.toFixed(2) : String(v)).replaceAll(',', '').trim();
      if (!/^-?\d+(\.\d{1,2})?$/.test(s)) throw new BindError(`parameter $${name}: not a money amount: ${String(v)}`);
      return s;
    }
    case 'number':
    case 'percent':
      if (!Number.isFinite(Number(v))) throw new BindError(`parameter $${name}: not a number: ${String(v)}`);
      return Number(v);
    case 'integer':
    case 'days':
      if (!Number.isInteger(Number(v))) throw new BindError(`parameter $${name}: not an integer: ${String(v)}`);
      return Number(v);
    case 'boolean':
      return v === true || v === 'true';
    case 'list':
      return (Array.isArray(v) ? v : [v]).map(String);
    default:
      return Array.isArray(v) ? v.map(String) : String(v);
  }
}

function bindValues(rule: CompiledRule, q: RuleSql, ctx: BindContext): unknown[] {
  const defs = new Map(rule.meta.params.map((d) => [`p_${d.name}`, d]));
  return (q.parameters ?? []).map((p) => {
    if (p.name === 'as_of') return ctx.asOf;
    if (p.name === 'scope') return ctx.scope ? [...ctx.scope] : null;
    if (!Object.hasOwn(rule.params, p.name)) {
      throw new BindError(`the SQL uses ${p.name}, which is neither as_of, scope nor a parameter of the rule`);
    }
    return postgresValue(p.name, defs.get(p.name)?.type ?? p.type, rule.params[p.name] as ParamValue);
  });
}

async function queryPostgres(store: PostgresStore, rule: CompiledRule, q: RuleSql, ctx: BindContext): Promise<RuleRows> {
  const values = bindValues(rule, q, ctx);
  return store.withReadClient(async (c) => {
    await c.query('BEGIN TRANSACTION READ ONLY');
    try {
      const r = await c.query({ text: q.sql, values });
      return { columns: r.fields.map((f) => f.name), rows: r.rows as Record<string, unknown>[] };
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
    }
  });
}
