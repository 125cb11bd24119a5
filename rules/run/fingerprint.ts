/**
 * Incremental re-runs: what a rule read, and what changed since.
 *
 * A feed table's state is the multiset of batches its current rows came from
 * (`_batch_id` → row count). Batches are immutable, so new rows show up as a
 * new batch id, and a correction shows up as a new batch id plus fewer rows
 * left from the batch it replaced, with the old row kept in
 * fiscus.row_history. Counting rows alone would miss a correction; hashing all
 * rows would be slow. Tables without `_batch_id` (engine tables such as
 * fiscus.calendar_days) fall back to a row count and a hash of all rows; they
 * are small.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../../engine/db.ts';
import { stage } from './store-flags.ts';
import { addDaysIso } from '../../engine/dates.ts';
import { canonicalJson } from '../../engine/flag-events.ts';
import { FEEDS, feedTable, isPrimaryKey, quoteIdent, requireFeedTable } from '../../engine/feeds.ts';
import { sqlString } from '../../engine/sql-quote.ts';
import { type CompiledRule, type TouchedSet, type WindowLength } from '../types.ts';
import type { AllowEntry } from './config.ts';
import { estimatedTouchedShare } from './touched-share.ts';
import type { Reads } from './execute.ts';
import { touchedFrom, touchedStats, touchedValues } from './touched.ts';

export type TableState =
  | { batches: Record<string, number> }
  | { rows: number; hash: string }
  | { missing: true };

export type TablesState = Record<string, TableState>;

export interface Fingerprint {
  rule_id: string;
  rule_version: number;
  rule_hash: string;
  as_of: string;
  tables: TablesState;
  run_id: string;
  flags_raised: number;
}

/**
 * The tables whose state decides a rule's findings: what it declares it reads,
 * plus any feed or engine table its SQL names (the working-day calendar is read
 * through fiscus.calendar_days, which no rule lists in `reads`).
 */
export function inputTables(rule: CompiledRule): string[] {
  const text = [rule.sql, ...rule.preconditions.map((p) => p.sql)].join('\n');
  const out = new Set(rule.meta.reads);
  for (const t of FEED_NAMES) if (text.includes(t.quoted) || t.bare.test(text)) out.add(t.name);
  if (/calendar_days/.test(text)) out.add('fiscus.calendar_days');
  return [...out].sort();
}

/** Every feed table's name as SQL may write it, compiled once, not per rule and call. */
const FEED_NAMES = FEEDS.map((t) => ({ name: t.name, quoted: `"${t.schema}"."${t.table}"`, bare: new RegExp(`\\b${t.schema}\\.${t.table}\\b`) }));

/** Everything about the rule itself that changes its findings. */
export function ruleHash(rule: CompiledRule, effectiveSeverity: string, allow: readonly AllowEntry[]): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        id: rule.meta.id,
        version: rule.meta.version,
        severity: effectiveSeverity,
        titleTemplate: rule.meta.titleTemplate,
        entityType: rule.meta.entityType,
        sql: rule.sql,
        params: rule.params,
        preconditions: rule.preconditions,
        scope: rule.scope ?? null,
        allow,
      }),
    )
    .digest('hex');
}

function splitName(name: string): [string, string] {
  const i = name.indexOf('.');
  return i < 0 ? ['main', name] : [name.slice(0, i), name.slice(i + 1)];
}

export function sqlName(name: string): string {
  const [s, t] = splitName(name);
  return `${quoteIdent(s)}.${quoteIdent(t)}`;
}

function hasRows(st: TableState): boolean {
  if ('batches' in st) return Object.values(st.batches).some((n) => n > 0);
  return 'rows' in st && st.rows > 0;
}

/** The state of each table, computed once per run and shared by every rule that reads it. */
export class TableStateCache {
  private readonly cache = new Map<string, Promise<TableState>>();
  private catalog?: Promise<Set<string>>;
  private readonly memos = new Map<string, Promise<unknown>>();
  /** The states the prefetch has read, for answers that need not wait for it. */
  private readonly settled = new Map<string, TableState>();
  constructor(private readonly store: Store) {}

  /**
   * A parameterless check (e.g. "treasury.payments is not empty") answered once per run:
   * many rules share the same one.
   */
  check(sql: string, run: () => Promise<boolean>): Promise<boolean> {
    return this.memo(`check\u0000${sql}`, run);
  }

  /** Any read answered once per run under `key` (e.g. the keys new batches touched, shared by rules with the same key). */
  memo<T>(key: string, run: () => Promise<T>): Promise<T> {
    let p = this.memos.get(key) as Promise<T> | undefined;
    if (!p) {
      p = run();
      this.memos.set(key, p);
    }
    return p;
  }

  /**
   * Whether a table exists. The catalog is read once per run (one query per rule and table cost
   * ~0.3 s of a pack run), and only its table names: every run waits on it, and DuckDB's
   * duckdb_columns() took 9-17 ms at 100k payments, duckdb_tables() 2-4 ms.
   */
  async exists(name: string): Promise<boolean> {
    this.catalog ??= this.store.all<{ t: string }>(this.store.dialect.tablesQuery).then((rows) => new Set(rows.map((r) => r.t)));
    const [schema, table] = splitName(name);
    return (await this.catalog).has(`${schema}.${table}`);
  }

  /**
   * Whether the table's rows carry `_batch_id`: a feed table does (migrations create every
   * FEEDS table with the system columns, engine/feeds.ts), an engine table does not.
   */
  async batched(name: string): Promise<boolean> {
    return feedTable(name) !== undefined && (await this.exists(name));
  }

  get(name: string): Promise<TableState> {
    let p = this.cache.get(name);
    if (!p) {
      p = this.compute(name);
      this.cache.set(name, p);
    }
    return p;
  }

  /**
   * The states of many batched tables in one query, ahead of the rules that ask for them: one
   * query per table took ~2–5 ms each on the Store's one connection, which every rule waits on.
   */
  prefetch(names: readonly string[]): Promise<void> {
    const todo = [...new Set(names)].filter((n) => !this.cache.has(n)).sort();
    const all = (async () => {
      const batched: string[] = [];
      for (const n of todo) if (await this.batched(n)) batched.push(n);
      if (batched.length === 0) return new Map<string, TableState>();
      const rows = await this.store.all<{ t: string; b: string; n: string | number }>(
        `SELECT t, b, n FROM (${batched.map((n) => `SELECT ${sqlString(n)} AS t, _batch_id AS b, count(*) AS n FROM ${sqlName(n)} GROUP BY _batch_id`).join('\nUNION ALL\n')}) AS __s ORDER BY t, b`,
      );
      const out = new Map<string, TableState>(batched.map((n) => [n, { batches: {} }]));
      for (const r of rows) {
        (out.get(r.t) as { batches: Record<string, number> }).batches[r.b] = Number(r.n);
      }
      for (const [n, st] of out) this.settled.set(n, st);
      return out;
    })();
    for (const n of todo) {
      this.cache.set(n, all.then((m) => m.get(n) ?? this.compute(n)));
    }
    return all.then(() => undefined);
  }

  /**
   * Does the table hold a row (false when it does not exist)? From its state when that has been
   * read. Before then, with `probe` (a query on the caller's own connection), one EXISTS query per
   * table and run instead of waiting: the state query of every table at once took ~15 ms at 100k
   * payments, and every rule's "input not empty" precondition waited on it before its own query.
   */
  async nonEmpty(name: string, probe?: (sql: string) => Promise<boolean>): Promise<boolean> {
    const known = this.settled.get(name);
    if (known || !probe) return hasRows(known ?? (await this.get(name)));
    if (!(await this.exists(name))) return false;
    return this.memo(`nonEmpty\u0000${name}`, () => probe(`SELECT EXISTS (SELECT 1 FROM ${sqlName(name)}) AS ok`));
  }

  async states(names: readonly string[]): Promise<TablesState> {
    const out: TablesState = {};
    for (const n of [...names].sort()) out[n] = await this.get(n);
    return out;
  }

  private async compute(name: string): Promise<TableState> {
    if (!(await this.exists(name))) return { missing: true };
    if (await this.batched(name)) {
      const rows = await this.store.all<{ b: string; n: string | number }>(
        `SELECT _batch_id AS b, count(*) AS n FROM ${sqlName(name)} GROUP BY _batch_id ORDER BY 1`,
      );
      return { batches: Object.fromEntries(rows.map((r) => [r.b, Number(r.n)])) };
    }
    const r = await this.store.one<{ n: string | number; h: string | null }>(
      `SELECT count(*) AS n, coalesce(CAST(sum(${this.store.dialect.rowHash('t')}) AS VARCHAR), '0') AS h FROM ${sqlName(name)} t`,
    );
    return { rows: Number(r?.n ?? 0), hash: r?.h ?? '0' };
  }
}

/** Every rule's last fingerprint, by rule id: one query per run, not one per rule (~1 ms each). */
export async function readFingerprints(store: Store): Promise<Map<string, Fingerprint>> {
  const rows = await store.all<{ rule_id: string; rule_version: number; rule_hash: string; as_of: string; tables: string; run_id: string; flags_raised: number }>(
    `SELECT rule_id, rule_version, rule_hash, CAST(as_of AS VARCHAR) AS as_of, CAST(tables AS VARCHAR) AS tables, run_id, flags_raised
     FROM fiscus.rule_fingerprints`,
  );
  return new Map(rows.map((r) => [r.rule_id, { ...r, tables: JSON.parse(r.tables) as TablesState }]));
}

/** Replace the fingerprints of these rules, set-wise (inside the run's write transaction). */
export async function writeFingerprints(store: Store, fps: readonly Fingerprint[]): Promise<void> {
  if (fps.length === 0) return;
  await stage(store, 'rr_fingerprints', [
    ['rule_id', 'VARCHAR'], ['rule_version', 'INTEGER'], ['rule_hash', 'VARCHAR'], ['as_of', 'VARCHAR'],
    ['tables', 'VARCHAR'], ['run_id', 'VARCHAR'], ['flags_raised', 'INTEGER'],
  ], fps.map((fp) => ({ ...fp, tables: canonicalJson(fp.tables) })));
  await store.run('DELETE FROM fiscus.rule_fingerprints WHERE rule_id IN (SELECT rule_id FROM rr_fingerprints)');
  await store.run(
    `INSERT INTO fiscus.rule_fingerprints
     SELECT rule_id, rule_version, rule_hash, as_of::DATE, tables::JSON, run_id, flags_raised, now() FROM rr_fingerprints`,
  );
  await store.run('DROP TABLE IF EXISTS rr_fingerprints');
}

/** Flag columns an incremental scope can be matched on (a partition must be visible on the flag). */
export const SCOPE_FLAG_COLUMNS = ['agency_code', 'region_code'] as const;

export type Decision =
  | { mode: 'full'; why: string }
  | { mode: 'unchanged'; since: string; flagsRaised: number }
  | { mode: 'incremental'; scope: string[]; newBatches: string[] }
  /**
   * Only the rows of these keys can have changed: `keys`, the tuples the new batches touched (the delta SQL and
   * the merge read them from the batches, `$delta_batches`). A window rule's delta is bounded by dates too:
   * `dates` (the first and last date the batches touched, bound as `$delta_dates`) and `periods` (the window
   * starts it re-evaluates: flags of touched keys starting elsewhere stay as they are).
   */
  | { mode: 'delta'; keys: TouchedSet; newBatches: string[]; dates?: [string, string]; periods?: [string, string] };

/**
 * The batches new in `table` since `before`, when that is all that changed: no batch gained
 * rows, and rows left an old batch only by being replaced (a correction, kept in row_history).
 */
async function newBatchesOnly(store: Reads, table: string, before: TableState | undefined, after: TableState | undefined): Promise<{ batches: string[] } | { why: string }> {
  if (!before || !after || !('batches' in before) || !('batches' in after)) return { why: `${table} has no batch ids` };
  const newBatches = Object.keys(after.batches).filter((b) => !(b in before.batches));
  if (newBatches.length === 0) return { why: `rows of ${table} changed without a new batch` };
  const shrunk: Record<string, number> = {};
  for (const [b, n] of Object.entries(before.batches)) {
    const m = after.batches[b] ?? 0;
    if (m > n) return { why: `batch ${b} gained rows` };
    if (m < n) shrunk[b] = n - m;
  }
  if (Object.keys(shrunk).length) {
    const hist = await store.all<{ b: string; n: string | number }>(
      `SELECT old_batch_id AS b, count(*) AS n FROM fiscus.row_history
       WHERE table_name = $t AND ${store.dialect.inJsonStrings('replaced_by_batch', '$nb')} GROUP BY old_batch_id`,
      { t: table, nb: JSON.stringify(newBatches) },
    );
    const replaced = new Map(hist.map((h) => [h.b, Number(h.n)]));
    for (const [b, n] of Object.entries(shrunk)) {
      if ((replaced.get(b) ?? 0) < n) return { why: `rows of batch ${b} disappeared without history` };
    }
  }
  return { batches: newBatches.sort() };
}

/**
 * The first and last value of date column `column` among the rows the new batches of `table`
 * touched (their rows, and the old version of the rows they replaced: the touched tuples of
 * that one column, touched.ts), as ISO text; undefined when none is dated (an undated row belongs to no window).
 */
async function touchedDates(store: Reads, table: string, column: string, newBatches: readonly string[]): Promise<[string, string] | undefined> {
  const { sql, params } = touchedFrom(store, { [table]: [column] }, newBatches);
  const r = await store.one<{ lo: string | null; hi: string | null }>(
    `SELECT CAST(min(CAST(k0 AS DATE)) AS VARCHAR) AS lo, CAST(max(CAST(k0 AS DATE)) AS VARCHAR) AS hi FROM ${sql}`,
    params,
  );
  return r?.lo && r.hi ? [r.lo.slice(0, 10), r.hi.slice(0, 10)] : undefined;
}

/** A window rule's length in days (a literal, or its parameter's value), or undefined when it is no whole number ≥ 1. */
function windowDays(rule: CompiledRule, within: WindowLength): number | undefined {
  const n = 'days' in within ? within.days : Number(rule.params[within.param]);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** The tuples of `columns` the new batches of `table` touched, counted once per run (rules sharing a table and key). */
function touchedOnce(store: Reads, table: string, columns: readonly string[], batches: readonly string[], cache?: TableStateCache): Promise<TouchedSet & { hasNull: boolean }> {
  return once(cache, `touched\u0000${table}\u0000${columns.join(',')}\u0000${batches.join(',')}`, () => touchedStats(store, { [table]: columns }, batches));
}

/** Above this share of a column's values touched, a delta or scoped run is a full one (RunOptions.deltaMaxShare). */
const MAX_TOUCHED_SHARE = 0.5;

/** `run()`, answered once per run under `key` when there is a run's cache. */
function once<T>(cache: TableStateCache | undefined, key: string, run: () => Promise<T>): Promise<T> {
  return cache ? cache.memo(key, run) : run();
}

/** How many distinct values `column` of `table` holds (counted once per run). */
function distinctValues(store: Reads, table: string, column: string, cache?: TableStateCache): Promise<number> {
  return once(cache, `distinct\u0000${table}\u0000${column}`, async () =>
    Number((await store.one<{ n: string | number }>(`SELECT count(DISTINCT ${quoteIdent(column)}) AS n FROM ${sqlName(table)}`))?.n ?? 0));
}

/**
 * Why restricting a run to `touched` values of `column` gains nothing: they are more than `share`
 * of the values the table holds. The restriction costs a join, so past that a full run is cheaper.
 */
async function mostlyTouched(
  store: Reads, table: string, column: string, touched: number, share: number, cache?: TableStateCache,
): Promise<string | undefined> {
  const total = await distinctValues(store, table, column, cache);
  return touched > total * share ? `new batches touch ${touched} of ${total} ${column} values` : undefined;
}

/**
 * Why restricting a run to the key tuples (of several columns) a batch touched gains nothing: by
 * estimate (touched-share.ts), they are more than `share` of the table's tuples. The estimate
 * takes the batch for a sample of the table; a batch of one agency's rows piles onto few tuples
 * too, so a key column holding many more values than the batch touched tuples refutes it (the
 * table has at least that many tuples). Measured at 10M payments after a 1% batch (all in the
 * newest year): treasury.over_budget's batch touched 43k of the table's 169k budget lines, 43% of
 * its rows, which the estimate put at 86%; but the delta took 800 ms against 420 ms in full,
 * probing every row's four key columns costing about what it saved.
 */
async function mostlyTouchedTuples(
  store: Reads, table: string, columns: readonly string[], newBatches: readonly string[], now: TableState | undefined, share: number,
  cache?: TableStateCache,
): Promise<string | undefined> {
  const rows = newBatches.reduce((n, b) => n + (now && 'batches' in now ? (now.batches[b] ?? 0) : 0), 0);
  const touched = (await touchedOnce(store, table, columns, newBatches, cache)).count;
  const est = estimatedTouchedShare(rows, touched);
  if (est <= share) return undefined;
  for (const c of columns) {
    if (touched <= (await distinctValues(store, table, c, cache)) * share) return undefined;
  }
  return `new batches' ${rows} rows touch ${touched} (${columns.join(', ')}) tuples: about ${Math.round(est * 100)}% of the table's (estimated)`;
}

/** Delta evaluation when every changed table is one the rule's delta key covers and only gained batches. */
async function deltaDecision(
  store: Reads, rule: CompiledRule, prev: Fingerprint, now: TablesState, changed: readonly string[], cache?: TableStateCache,
  maxShare = MAX_TOUCHED_SHARE,
): Promise<Decision | undefined> {
  const delta = rule.delta;
  if (!delta || !changed.every((t) => t in delta.tables)) return undefined;
  const found: TouchedSet[] = [];
  const batches: string[] = [];
  const batchesOf = new Map<string, string[]>();
  for (const t of changed) {
    const before = prev.tables[t];
    const only = await once(cache, `batches\u0000${t}\u0000${canonicalJson(before ?? null)}`, () => newBatchesOnly(store, t, before, now[t]));
    if ('why' in only) return { mode: 'full', why: only.why };
    batches.push(...only.batches);
    batchesOf.set(t, only.batches);
    const cols = delta.tables[t]!;
    // A batch touches few of a primary key's tuples, one per row: no estimate needed.
    if (cols.length > 1 && maxShare < 1 && !isPrimaryKey(requireFeedTable(t), cols)) {
      const why = await mostlyTouchedTuples(store, t, cols, only.batches, now[t], maxShare, cache);
      if (why) return { mode: 'full', why };
    }
    const keys = await touchedOnce(store, t, cols, only.batches, cache);
    // A NULL part matches no key: findings of such rows are not reachable key by key.
    if (keys.hasNull) return { mode: 'full', why: `a changed row of ${t} has no ${delta.keys.join(', ')}` };
    found.push(keys);
  }
  // A key over two changed tables: the union of their tuples, counted once.
  const keys = found.length === 1 ? found[0]! : await touchedStats(store, Object.fromEntries(changed.map((t) => [t, delta.tables[t]!])), batches);
  // A batch touching most values of a one-column key (a December batch reaches every agency) gains
  // nothing from the restriction, which costs a join: measured at 10M payments, execution_lag took
  // 2.4 s as a delta over all 498 agencies and 1.6 s in full. Primary keys are never counted (a
  // batch touches few of them, and counting them means reading them all).
  if (delta.keys.length === 1 && maxShare < 1) {
    for (const t of changed) {
      const col = delta.tables[t]![0]!;
      if (isPrimaryKey(requireFeedTable(t), [col])) continue;
      const why = await mostlyTouched(store, t, col, keys.count, maxShare, cache);
      if (why) return { mode: 'full', why };
    }
  }
  const w = delta.window;
  if (!w) return { mode: 'delta', keys, newBatches: batches.sort() };
  const days = windowDays(rule, w.within);
  if (days === undefined) return { mode: 'full', why: `the window's length ${JSON.stringify(w.within)} is no whole number of days` };
  const tb = batchesOf.get(w.table) ?? [];
  const range = tb.length ? await once(cache, `dates\u0000${w.table}\u0000${w.column}\u0000${tb.join(',')}`, () => touchedDates(store, w.table, w.column, tb)) : undefined;
  // No touched row is dated: no window changed. An empty range (first after last) re-evaluates none.
  const dates: [string, string] = range ?? ['9999-12-31', '0001-01-01'];
  const span = days - 1;
  return { mode: 'delta', keys, newBatches: batches.sort(), dates, periods: [addDaysIso(dates[0], -span), addDaysIso(dates[1], span)] };
}

/**
 * Compare the last evaluation with now. Anything not provably "only new
 * batches in tables the rule's delta key (or scope) covers" is a full evaluation:
 * being wrong here would silently leave stale flags.
 */
export async function decide(
  /** Where its reads go: the Store, or a rule lane's connection (readsOn). */
  store: Reads,
  rule: CompiledRule,
  prev: Fingerprint | undefined,
  now: { rule_hash: string; as_of: string; tables: TablesState },
  /** The run's cache: rules sharing a table and key read the touched keys once. */
  cache?: TableStateCache,
  deltaMaxShare?: number,
): Promise<Decision> {
  if (!prev) return { mode: 'full', why: 'first run' };
  if (prev.rule_hash !== now.rule_hash) return { mode: 'full', why: 'rule, parameters or allow-list changed' };
  if (prev.as_of !== now.as_of) return { mode: 'full', why: `last evaluated at as-of ${prev.as_of}` };
  const changed = Object.keys({ ...prev.tables, ...now.tables }).filter(
    (t) => canonicalJson(prev.tables[t] ?? null) !== canonicalJson(now.tables[t] ?? null),
  );
  if (changed.length === 0) return { mode: 'unchanged', since: prev.run_id, flagsRaised: prev.flags_raised };
  const delta = await deltaDecision(store, rule, prev, now.tables, changed, cache, deltaMaxShare);
  if (delta) return delta;
  const scope = rule.scope;
  if (!scope) return { mode: 'full', why: `input changed: ${changed.join(', ')}` };
  if (!(SCOPE_FLAG_COLUMNS as readonly string[]).includes(scope.column)) {
    return { mode: 'full', why: `scope column ${scope.column} is not a flag column` };
  }
  if (changed.length > 1 || changed[0] !== scope.table) return { mode: 'full', why: `changed: ${changed.join(', ')}` };
  const only = await newBatchesOnly(store, scope.table, prev.tables[scope.table], now.tables[scope.table]);
  if ('why' in only) return { mode: 'full', why: only.why };
  const newBatches = only.batches;
  // The partitions touched: a one-column key of the scope table.
  const touched = await touchedValues(store, scope.table, scope.column, newBatches);
  if (touched.includes(null)) return { mode: 'full', why: `a changed row has no ${scope.column}` };
  const values = touched as string[];
  // A batch touching most partitions gains nothing from scoping, and the scope filter costs extra:
  // measured at 10M payments, a 1% batch spread over every agency ran slower scoped than full.
  const why = await mostlyTouched(store, scope.table, scope.column, values.length, MAX_TOUCHED_SHARE, cache);
  if (why) return { mode: 'full', why };
  return { mode: 'incremental', scope: [...values].sort(), newBatches };
}
