/**
 * Running a compiled rule's SQL (its main query, a precondition, an input count) on the
 * Store's engine, read-only, with its parameters bound by type.
 *
 * DuckDB: a prepared statement, refused unless it is one SELECT (engine/sql-guard.ts; the tree
 * walk only for SQL the rule compiler did not write, rules/language/emit/provenance.ts), on the
 * main connection or on a reader of the run's own (`RuleReaders`, so rules evaluate in
 * parallel). The compiler's SQL gets its values written in as typed literals, so DuckDB plans
 * it once (inline-values.ts); other SQL is bound by name (bind.ts). PostgreSQL: the positional `$1…` SQL of the rule language's
 * PostgreSQL dialect, values in `parameters` order, in a READ ONLY transaction on a pooled
 * connection (committed data only; a write fails in the server; the pool runs them in parallel).
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { Params, Store } from '../../engine/db.ts';
import { FiscusError } from '../../engine/errors.ts';
import type { PostgresStore } from '../../engine/pg-store.ts';
import { prepareReadOnly, prepareSelect } from '../../engine/sql-guard.ts';
import { emittedByCompiler } from '../language/emit/provenance.ts';
import type { BoundParameter } from '../language/dialects/types.ts';
import type { CompiledRule } from '../types.ts';
import { BindError, bindRule, centsText, deltaList, ruleParamTyped, type BindContext, type TypedValue } from './bind.ts';
import { inlineRuleValues } from './inline-values.ts';

/** What the runner's own reads (a rule's mode decision, touched.ts) need of a Store. */
export type Reads = Pick<Store, 'engine' | 'dialect' | 'all' | 'one'>;

/**
 * The runner's reads on a rule's lane (`via`, a connection of RuleReaders) instead of the Store's
 * one connection, or the Store itself without a lane. A re-run's mode decisions (touched keys,
 * distinct counts, dates) queued on the Store's connection while the lanes waited for them: at
 * 10M payments ~0.1 s each, ten of them one after another.
 */
export function readsOn(store: Store, via: DuckDBConnection | undefined): Reads {
  if (!via || store.engine !== 'duckdb') return store;
  const all = async <T extends Record<string, unknown>>(sql: string, params?: Params): Promise<T[]> =>
    (await via.runAndReadAll(sql, params as Record<string, DuckDBValue> | undefined)).getRowObjectsJson() as T[];
  return { engine: store.engine, dialect: store.dialect, all, one: async (sql, params) => (await all(sql, params))[0] } as Reads;
}

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

/**
 * Run one of the rule's statements. `via`: a DuckDB connection of the caller's own (from
 * `RuleReaders`), which sees committed data only; without it, the Store's main connection.
 */
export async function queryRule(store: Store, rule: CompiledRule, q: RuleSql, ctx: BindContext, via?: DuckDBConnection): Promise<RuleRows> {
  checkRuleDialect(store, rule);
  if (store.engine === 'postgres') return queryPostgres(store as PostgresStore, rule, q, ctx);
  const ours = emittedByCompiler(rule, q.sql);
  // The compiler's own SQL with its values written in is planned once, not twice (inline-values.ts).
  const inlined = ours ? inlineRuleValues(q.sql, rule, ctx) : undefined;
  const read = async (conn: DuckDBConnection) => {
    // The compiler's own SQL skips the parse-tree walk, nothing else (see provenance.ts).
    const prepared = inlined !== undefined ? await prepareSelect(conn, inlined) : ours ? await prepareSelect(conn, q.sql) : await prepareReadOnly(conn, q.sql);
    // Freed once read: a connection frees the statements left on it when it closes, synchronously,
    // and the run's lanes closing with the pack's ~60 statements on them took ~10 ms at 100k
    // payments between the last rule and the write.
    try {
      if (inlined === undefined) bindRule(prepared, rule, ctx);
      return await prepared.runAndReadAll();
    } finally {
      prepared.destroySync();
    }
  };
  // On the main connection through the Store, so it never runs inside another caller's transaction.
  const reader = via ? await read(via) : await store.withConnection(read, { writes: false });
  return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[] };
}

/**
 * Read connections for evaluating rules in parallel: DuckDB runs queries of separate
 * connections of one instance concurrently. Each lane is one connection (DuckDB) or
 * `undefined` (PostgreSQL: `queryRule` takes a client of the Store's read pool per query).
 * They see committed data only, so they are for a phase that writes nothing.
 */
export class RuleReaders {
  private constructor(readonly lanes: (DuckDBConnection | undefined)[]) {}

  static async open(store: Store, n: number): Promise<RuleReaders> {
    const size = Math.max(1, Math.floor(n));
    if (store.engine !== 'duckdb') return new RuleReaders(new Array<undefined>(size).fill(undefined));
    // Opened at once: each waits on the run's first reads of the Store's connection.
    const opened = await Promise.allSettled(Array.from({ length: size }, () => store.connect()));
    const lanes = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) {
      for (const c of lanes) c.closeSync();
      throw (failed as PromiseRejectedResult).reason;
    }
    return new RuleReaders(lanes);
  }

  /** Run `work(item, lane)` for every item, each lane taking the next item when it is free; results in item order. */
  async map<T, R>(items: readonly T[], work: (item: T, lane: DuckDBConnection | undefined) => Promise<R>): Promise<R[]> {
    const out = new Array<R>(items.length);
    let next = 0;
    // Every lane finishes before this returns, even when one fails: `close` must not pull a connection from under a query.
    const lanes = await Promise.allSettled(
      this.lanes.map(async (lane) => {
        for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i]!, lane);
      }),
    );
    const failed = lanes.find((l) => l.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return out;
  }

  close(): void {
    for (const c of this.lanes) c?.closeSync();
  }
}

/** A checked value as PostgreSQL text-protocol input (the dialect casts each placeholder to its type). */
function postgresInput(v: TypedValue): unknown {
  switch (v.type) {
    case 'null':
      return null;
    case 'decimal':
      return centsText(v.cents);
    case 'date':
      return v.iso;
    case 'list':
      return v.value ? [...v.value] : null;
    default:
      return v.value;
  }
}

function bindValues(rule: CompiledRule, q: RuleSql, ctx: BindContext): unknown[] {
  return (q.parameters ?? []).map((p) => {
    if (p.name === 'as_of') return ctx.asOf;
    if (p.name === 'scope') return ctx.scope ? [...ctx.scope] : null;
    // PostgreSQL takes the delta lists as arrays, not as the DuckDB dialect's JSON text.
    const delta = deltaList(p.name, ctx);
    if (delta) return delta;
    if (!Object.hasOwn(rule.params, p.name)) {
      throw new BindError(`the SQL uses ${p.name}, which is neither as_of, scope nor a parameter of the rule`);
    }
    return postgresInput(ruleParamTyped(p.name, rule, p.type));
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
