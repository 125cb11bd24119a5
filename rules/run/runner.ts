/**
 * The rule runner: evaluate compiled rules as of a date, turn their rows into
 * flags, store them (new / existing / no longer reproduced / reproduced
 * again), and say for every rule what happened and why.
 *
 * One rule's failure never stops the others: it writes nothing and is
 * reported as `error` with the message. Backtests (`dryRun`) evaluate and
 * count but write nothing at all.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { DuckDBConnection } from '@duckdb/node-api';
import { invalidDateMessage, isIsoDate } from '../../engine/dates.ts';
import { duckdbMemoryLimit, sizeBytes, type Store } from '../../engine/db.ts';
import { UsageError } from '../../engine/errors.ts';
import { appendFlagEvents, canonicalJson, type NewFlagEvent } from '../../engine/flag-events.ts';
import type { CompiledRule, RuleResultRow, Severity } from '../types.ts';
import { activeAllowEntries, EMPTY_CONFIG, matchAllow, type FiscusConfig } from './config.ts';
import {
  decide, inputTables, readFingerprints, ruleHash, SCOPE_FLAG_COLUMNS, TableStateCache, writeFingerprints,
  type Decision, type TablesState,
} from './fingerprint.ts';
import { checkRuleDialect, queryRule, readsOn, RuleReaders } from './execute.ts';
import { inputShareWarning, noteInputCounts, type InputCountCache, type NotJudged, type ShareWarning } from './input-counts.ts';
import { checkResultColumns, flagId, toResultRow } from './result-rows.ts';
import { mergeRules, stage } from './store-flags.ts';
import type { FlagFinding } from '../../flags/row.ts';
import { renderTemplate, type TemplateVars } from './template.ts';

export interface RunOptions {
  /** YYYY-MM-DD: nothing after it is seen. */
  asOf: string;
  /** Who started the run (recorded in fiscus.rule_runs). */
  actor?: string;
  /** Evaluate only these partition values of scoped rules (not-reproduced bookkeeping stays inside them). */
  scope?: string[];
  /** Evaluate and count, write nothing (backtests). */
  dryRun?: boolean;
  /** Ignore input fingerprints: evaluate every rule fully. */
  full?: boolean;
  /** Deployment config: enabled, severity overrides and the allow-list (params are applied at compile time). */
  config?: FiscusConfig;
  /** Keep each rule's flags in the summary (tests, backtests). */
  collect?: boolean;
  /** The run's clock; defaults to now. */
  now?: Date;
  /** Rules evaluated at once, each on a read connection of its own (default: `defaultConcurrency()`, fewer for a file too big for its memory limit). */
  concurrency?: number;
  /**
   * When findings are written. `at-end` (default): every rule's in one transaction once all are
   * evaluated, the events chained in rule order. `as-found` (the folder watcher): the rules whose
   * last evaluation was quickest run first, and whatever has been evaluated is written while the
   * rest are still running, so the first alerts reach the feed without waiting for the slowest
   * rule. The run's row is written first (finished_at empty until the end).
   */
  publish?: 'at-end' | 'as-found';
  /**
   * A delta touching more than this share of a one-column key's values runs in full instead
   * (default 0.5: the restriction then costs more than it saves). 1 keeps every delta (tests).
   */
  deltaMaxShare?: number;
}

export type Outcome = 'evaluated' | 'skipped' | 'error';
export type Mode = 'full' | 'incremental' | 'delta' | 'unchanged';

export interface RuleOutcome {
  rule_id: string;
  rule_version: number;
  title: string;
  outcome: Outcome;
  mode: Mode | null;
  /** Why it was skipped or failed, or how it was evaluated ("zh / en"). */
  reason: string | null;
  flags_raised: number;
  flags_new: number;
  flags_existing: number;
  flags_reproduced: number;
  flags_not_reproduced: number;
  suppressed: number;
  suppressed_reasons: { reason: string; count: number }[];
  /** Rows of the rule's main input visible at the as-of date (null: not counted). */
  input_rows: number | null;
  /** Rows the rule could not judge because a figure it `requires:` is missing. */
  not_judged: NotJudged[];
  by_severity: Record<Severity, number>;
  /** Partition values (incremental) or delta keys (delta) evaluated. */
  scope_size: number | null;
  millis: number;
  flags?: FlagFinding[];
}

export interface RunSummary {
  run_id: string;
  as_of: string;
  dry_run: boolean;
  actor: string | null;
  started_at: string;
  finished_at: string;
  millis: number;
  rules: RuleOutcome[];
  /** Rules that flagged more than the configured share of their input rows. */
  warnings: ShareWarning[];
  totals: {
    rules: number; evaluated: number; skipped: number; errors: number;
    flags_raised: number; flags_new: number; flags_existing: number; flags_reproduced: number;
    flags_not_reproduced: number; suppressed: number;
  };
}


export function newRunId(now: Date): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `run_${ts}_${randomBytes(3).toString('hex')}`;
}

function blankOutcome(rule: CompiledRule): RuleOutcome {
  return {
    rule_id: rule.meta.id, rule_version: rule.meta.version, title: rule.meta.title.zh, outcome: 'evaluated', mode: null,
    reason: null, flags_raised: 0, flags_new: 0, flags_existing: 0, flags_reproduced: 0, flags_not_reproduced: 0,
    suppressed: 0, suppressed_reasons: [], by_severity: { high: 0, medium: 0, low: 0 }, scope_size: null, millis: 0,
    input_rows: null, not_judged: [],
  };
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Run `rules` as of `opts.asOf`. Never throws for one rule's failure; throws for a bad call (e.g. bad date).
 * A writing run holds the Store's exclusive section (tracker actions, scans and ingests wait for it);
 * a dry run writes nothing and does not.
 *
 * Two phases. (1) Every rule is evaluated (decision, preconditions, its SQL, input counts) on
 * read connections of the run's own, several at once: reads only, so they see exactly the
 * committed data the exclusive section keeps still. (2) Every rule's findings, events,
 * fingerprint and result are written in one transaction, set-wise for all rules (a dozen
 * statements, not a dozen per rule), the events appended as one piece of the chain. A rule
 * whose SQL failed has nothing to write; if storing one rule's findings fails, that
 * transaction rolls back and the rules are written one transaction each, so only that rule
 * fails. With `publish: 'as-found'` phase 2 runs during phase 1, a write for whatever has
 * been evaluated so far (see RunOptions.publish).
 */
export async function runRules(store: Store, rules: readonly CompiledRule[], opts: RunOptions): Promise<RunSummary> {
  return opts.dryRun ? runRulesNow(store, rules, opts) : store.exclusive(() => runRulesNow(store, rules, opts));
}

/**
 * Rules evaluated at once by default: one lane more than cores, up to 4. DuckDB parallelises each
 * query too, but a query has single-threaded stretches (planning, finalising an aggregate, a
 * window's merge) in which another lane's query can use the core. Measured on 2 cores, the
 * pack's full run with 2 lanes against 3: 100k payments 335 -> 318 ms, 10M 7.1-7.4 -> 6.3-6.6 s,
 * the same peak RSS; 4 lanes gained nothing more.
 *
 * With `dbBytes` and `memoryBytes` (a DuckDB file and its memory limit), no more lanes than
 * leave each at least half the file's size of buffer memory: the lanes' hash tables share one
 * limit, and at 30M payments (a 1.26 GB file, a 1.5 GiB limit) three lanes spilled each
 * other's: 32.3 s against 25.0 s with two and 24.3 s with one, peak RSS 2.45 / 2.19 / 2.36 GB.
 */
export function defaultConcurrency(dbBytes?: number, memoryBytes?: number): number {
  const byCores = Math.max(2, Math.min(4, availableParallelism() + 1));
  if (!dbBytes || !memoryBytes) return byCores;
  return Math.max(1, Math.min(byCores, Math.floor(memoryBytes / (dbBytes / 2))));
}

/** The default lanes for a run on `store` (its file's size against DuckDB's memory limit). */
function lanesFor(store: Store): number {
  if (store.engine !== 'duckdb' || store.path === ':memory:') return defaultConcurrency();
  const bytes = [store.path, `${store.path}.wal`].reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
  return defaultConcurrency(bytes, sizeBytes(duckdbMemoryLimit()));
}

async function runRulesNow(store: Store, rules: readonly CompiledRule[], opts: RunOptions): Promise<RunSummary> {
  if (!isIsoDate(opts.asOf)) throw new UsageError(invalidDateMessage('as-of', opts.asOf));
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.meta.id)) throw new Error(`rule ${r.meta.id} is given twice`);
    ids.add(r.meta.id);
    checkRuleDialect(store, r);
  }
  const started = opts.now ?? new Date();
  const runId = newRunId(started);
  const config = opts.config ?? EMPTY_CONFIG;
  const dry = opts.dryRun ?? false;
  const resolved: Resolved = { ...opts, config, dryRun: dry };
  const tables = new TableStateCache(store);
  const inputCounts: InputCountCache = new Map();
  // Elapsed time is measured on the real clock: `now` may be a simulated day (demo, imports).
  const runT0 = performance.now();

  const ctx: WriteContext = { runId, started, asOf: opts.asOf, actor: opts.actor ?? null, manualScope: Boolean(opts.scope), runT0, runRowWritten: false };
  const asFound = !dry && opts.publish === 'as-found';
  const order = asFound ? await quickestFirst(store, rules) : await slowestFirst(store, rules);
  const writer = asFound ? new AsFoundWriter(store, ctx, rules) : undefined;
  if (writer) await writeRunRow(store, ctx);
  // Every input table's state at once, while the readers open (dry runs record no fingerprints).
  const prefetched = dry ? undefined : tables.prefetch(rules.flatMap((r) => inputTables(r)));
  prefetched?.catch(() => undefined);
  const readers = await RuleReaders.open(store, Math.min(rules.length, opts.concurrency ?? lanesFor(store)));
  let inOrder: Evaluated[];
  try {
    inOrder = await readers.map(order, async (rule, via) => {
      const e = await evaluate(store, rule, resolved, tables, inputCounts, via);
      writer?.add(e);
      return e;
    });
  } finally {
    readers.close();
    await writer?.drained();
  }
  // The summary lists the rules as given, whatever order they ran in.
  const byRule = new Map(inOrder.map((e) => [e.rule, e]));
  const evaluated = rules.map((r) => byRule.get(r)!);

  let finished: Date;
  if (dry) {
    for (const e of evaluated) e.out.millis = round1(e.millis);
    finished = new Date(started.getTime() + Math.round(performance.now() - runT0));
  } else if (writer) {
    finished = await store.transaction(() => recordRun(store, evaluated, ctx));
  } else {
    finished = await writeAll(store, evaluated, ctx);
  }
  const outcomes = evaluated.map((e) => e.out);
  const warnings: ShareWarning[] = [];
  for (const e of evaluated) {
    const w = await inputShareWarning(store, e.rule, e.out, config);
    if (w) warnings.push(w);
  }
  const elapsed = finished.getTime() - started.getTime();
  const sum = (k: keyof RuleOutcome) => outcomes.reduce((a, o) => a + (o[k] as number), 0);
  return {
    run_id: runId,
    as_of: opts.asOf,
    dry_run: dry,
    actor: opts.actor ?? null,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    millis: elapsed,
    rules: outcomes,
    warnings,
    totals: {
      rules: outcomes.length,
      evaluated: outcomes.filter((o) => o.outcome === 'evaluated').length,
      skipped: outcomes.filter((o) => o.outcome === 'skipped').length,
      errors: outcomes.filter((o) => o.outcome === 'error').length,
      flags_raised: sum('flags_raised'), flags_new: sum('flags_new'), flags_existing: sum('flags_existing'),
      flags_reproduced: sum('flags_reproduced'), flags_not_reproduced: sum('flags_not_reproduced'), suppressed: sum('suppressed'),
    },
  };
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

/** What evaluating one rule (phase 1, reads only) leaves for the write phase. */
interface Evaluated {
  rule: CompiledRule;
  out: RuleOutcome;
  /** Milliseconds spent evaluating it (its reads). */
  millis: number;
  /** Its findings to store; absent when it was skipped or failed, or in a dry run. */
  write?: PendingWrite;
}

interface PendingWrite {
  flags: FlagFinding[];
  suppressedIds: string[];
  /** The partition values evaluated (incremental), or null for all. */
  scope: string[] | null;
  /** Each finding's delta key (rules with one), to record beside the flag. */
  deltaKeys: [string, string][];
  decision: Decision;
  hash: string;
  state: TablesState;
}

interface WriteContext {
  runId: string;
  started: Date;
  asOf: string;
  actor: string | null;
  /** A manual --scope run does not describe the whole input: it keeps the last full fingerprint. */
  manualScope: boolean;
  runT0: number;
  /** fiscus.rule_runs has the run's row already (as-found publishing writes it first). */
  runRowWritten: boolean;
}

async function evaluate(
  store: Store, rule: CompiledRule, opts: Resolved, tables: TableStateCache, inputCounts: InputCountCache, via: DuckDBConnection | undefined,
): Promise<Evaluated> {
  const t0 = performance.now();
  let ev: Evaluated;
  try {
    ev = await evaluateOne(store, rule, opts, tables, via);
    await noteInputCounts(store, rule, ev.out, opts.asOf, inputCounts, via);
  } catch (err) {
    ev = { rule, out: { ...blankOutcome(rule), outcome: 'error', reason: errMessage(err) }, millis: 0 };
  }
  ev.millis = performance.now() - t0;
  return ev;
}

/**
 * Phase 2: every rule's findings, the run's events (one append, chained in rule order),
 * fingerprints and results, in one transaction. Returns when the run finished.
 */
async function writeAll(store: Store, evaluated: Evaluated[], ctx: WriteContext): Promise<Date> {
  const pending = evaluated.filter((e) => e.write);
  try {
    return await store.transaction(async () => {
      await writeRules(store, pending, ctx);
      return recordRun(store, evaluated, ctx);
    });
  } catch {
    await writeOneByOne(store, pending, ctx);
    return store.transaction(() => recordRun(store, evaluated, ctx));
  }
}

/**
 * One rule's findings could not be stored (the batch rolled back whole): write rule by rule, so
 * only the rule at fault fails. A failure that is no rule's (the disk) fails each, then the run.
 */
async function writeOneByOne(store: Store, pending: readonly Evaluated[], ctx: WriteContext): Promise<void> {
  for (const e of pending) {
    try {
      await store.transaction(() => writeRules(store, [e], ctx));
    } catch (err) {
      e.out = { ...blankOutcome(e.rule), outcome: 'error', reason: `写入失败 / storing its findings failed: ${errMessage(err)}` };
      e.write = undefined;
    }
  }
}

/**
 * As-found publishing: every evaluated rule is queued; one write at a time takes all that
 * are queued (in the pack's order) into one transaction, so rules finishing while a write is
 * in progress share the next one.
 */
class AsFoundWriter {
  #queue: Evaluated[] = [];
  #tail: Promise<void> = Promise.resolve();
  readonly #rank: Map<CompiledRule, number>;

  constructor(private readonly store: Store, private readonly ctx: WriteContext, rules: readonly CompiledRule[]) {
    this.#rank = new Map(rules.map((r, i) => [r, i]));
  }

  add(e: Evaluated): void {
    if (!e.write) return;
    this.#queue.push(e);
    this.#tail = this.#tail.then(() => this.#flush());
  }

  /** Resolves once everything queued is written (a write never rejects: failures are the rule's outcome). */
  drained(): Promise<void> {
    return this.#tail;
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0).sort((a, b) => this.#rank.get(a.rule)! - this.#rank.get(b.rule)!);
    if (batch.length === 0) return;
    try {
      await this.store.transaction(() => writeRules(this.store, batch, this.ctx));
    } catch {
      await writeOneByOne(this.store, batch, this.ctx);
    }
  }
}

/** How long each rule took when last evaluated (rules never evaluated are absent). */
async function lastMillis(store: Store, rules: readonly CompiledRule[]): Promise<Map<string, number>> {
  const recent = await store.all<{ rule_id: string; millis: number | string | null }>(
    `SELECT r.rule_id, r.millis FROM fiscus.rule_run_results r JOIN fiscus.rule_runs u ON u.run_id = r.run_id
      WHERE r.outcome = 'evaluated' ORDER BY u.started_at DESC LIMIT ${Math.max(1, rules.length) * 4}`,
  );
  const last = new Map<string, number>();
  for (const r of recent) if (!last.has(r.rule_id) && r.millis !== null) last.set(r.rule_id, Number(r.millis));
  return last;
}

/**
 * The rules ordered by how long each took when last evaluated, quickest first (never
 * evaluated: last; ties keep the given order): with a few lanes, the quick rules' findings
 * are written, and reach the feed, before the slow aggregates finish.
 */
export async function quickestFirst(store: Store, rules: readonly CompiledRule[]): Promise<readonly CompiledRule[]> {
  const last = await lastMillis(store, rules);
  const cost = (r: CompiledRule) => last.get(r.meta.id) ?? Number.POSITIVE_INFINITY;
  return [...rules].sort((a, b) => cost(a) - cost(b));
}

/**
 * For a run that writes once, after every rule: the slowest first, so that the last rule to
 * start is a quick one and no lane runs alone at the end while the others wait (the pack's
 * order has the payments rules last; at 100k payments split_payment then ran its ~60 ms alone).
 * Rules never evaluated come first, largest input first by the rows the ingest committed to
 * the tables they declare; then the others by their last time. Ties keep the given order.
 */
export async function slowestFirst(store: Store, rules: readonly CompiledRule[]): Promise<readonly CompiledRule[]> {
  const last = await lastMillis(store, rules);
  const unknown = rules.filter((r) => !last.has(r.meta.id));
  const rows = new Map<string, number>();
  if (unknown.length) {
    const committed = await store.all<{ t: string; n: number | string }>(
      `SELECT table_name AS t, sum(inserted) AS n FROM fiscus.batches WHERE status = 'committed' GROUP BY table_name`,
    );
    for (const r of committed) rows.set(r.t, Number(r.n));
  }
  const size = (r: CompiledRule) => Math.max(0, ...r.meta.reads.map((t) => rows.get(t) ?? 0));
  const byRows = [...unknown].sort((a, b) => size(b) - size(a));
  const byTime = rules.filter((r) => last.has(r.meta.id)).sort((a, b) => last.get(b.meta.id)! - last.get(a.meta.id)!);
  return [...byRows, ...byTime];
}

async function writeRunRow(store: Store, ctx: WriteContext): Promise<void> {
  await store.run('INSERT INTO fiscus.rule_runs VALUES ($id, $as_of::DATE, $at::TIMESTAMPTZ, NULL, $actor)', {
    id: ctx.runId, as_of: ctx.asOf, at: ctx.started.toISOString(), actor: ctx.actor,
  });
  ctx.runRowWritten = true;
}

/**
 * Rules' findings (one set-wise merge for all of them), fingerprints, then their events as one
 * append chained in rule order (inside a write transaction). The write's time is shared equally
 * among the rules in each one's `millis`.
 */
async function writeRules(store: Store, rules: readonly Evaluated[], ctx: WriteContext): Promise<void> {
  if (rules.length === 0) return;
  const t0 = performance.now();
  const events: NewFlagEvent[] = [];
  const counts = await mergeRules(store, rules.map((e) => {
    const w = e.write!;
    return {
      ruleId: e.rule.meta.id, runId: ctx.runId, now: ctx.started.toISOString(), flags: w.flags, suppressedIds: w.suppressedIds,
      scope: w.scope ? { column: e.rule.scope!.column as 'agency_code' | 'region_code', values: w.scope } : undefined,
      deltaKeys: w.deltaKeys,
      touchedKeys: w.decision.mode === 'delta' ? w.decision.keys : undefined,
      touchedPeriods: w.decision.mode === 'delta' ? w.decision.periods : undefined,
    };
  }), events);
  if (!ctx.manualScope) {
    // A run over part of a rule's input raised part of its flags: the fingerprint keeps all it has standing.
    const partial = rules.filter((e) => e.write!.decision.mode === 'incremental' || e.write!.decision.mode === 'delta').map((e) => e.rule.meta.id);
    const standing = await countReproduced(store, partial);
    await writeFingerprints(store, rules.map((e) => {
      const w = e.write!;
      const id = e.rule.meta.id;
      return {
        rule_id: id, rule_version: e.rule.meta.version, rule_hash: w.hash, as_of: ctx.asOf, tables: w.state, run_id: ctx.runId,
        flags_raised: partial.includes(id) ? standing.get(id) ?? 0 : w.flags.length,
      };
    }));
  }
  await appendFlagEvents(store, events);
  const share = (performance.now() - t0) / rules.length;
  rules.forEach((e, i) => {
    const c = counts[i]!;
    e.out.flags_new = c.new;
    e.out.flags_existing = c.existing;
    e.out.flags_reproduced = c.reproduced;
    e.out.flags_not_reproduced = c.notReproduced;
    e.out.millis = round1(e.millis + share);
  });
}

/** fiscus.rule_runs and every rule's fiscus.rule_run_results row (inside a write transaction). */
async function recordRun(store: Store, evaluated: Evaluated[], ctx: WriteContext): Promise<Date> {
  for (const e of evaluated) if (!e.write) e.out.millis = round1(e.millis);
  const finished = new Date(ctx.started.getTime() + Math.round(performance.now() - ctx.runT0));
  if (ctx.runRowWritten) {
    await store.run('UPDATE fiscus.rule_runs SET finished_at = $fin::TIMESTAMPTZ WHERE run_id = $id', { id: ctx.runId, fin: finished.toISOString() });
  } else {
    await store.run('INSERT INTO fiscus.rule_runs VALUES ($id, $as_of::DATE, $at::TIMESTAMPTZ, $fin::TIMESTAMPTZ, $actor)', {
      id: ctx.runId, as_of: ctx.asOf, at: ctx.started.toISOString(), fin: finished.toISOString(), actor: ctx.actor,
    });
  }
  await recordResults(store, ctx.runId, evaluated.map((e) => e.out));
  return finished;
}

/** Every rule's fiscus.rule_run_results row, set-wise. */
async function recordResults(store: Store, runId: string, outcomes: readonly RuleOutcome[]): Promise<void> {
  await stage(store, 'rr_results', [
    ['run_id', 'VARCHAR'], ['rule_id', 'VARCHAR'], ['rule_version', 'INTEGER'], ['outcome', 'VARCHAR'], ['reason', 'VARCHAR'],
    ['flags_raised', 'INTEGER'], ['flags_new', 'INTEGER'], ['flags_existing', 'INTEGER'], ['flags_not_reproduced', 'INTEGER'],
    ['millis', 'VARCHAR'], ['mode', 'VARCHAR'], ['flags_reproduced', 'INTEGER'], ['flags_suppressed', 'INTEGER'], ['details', 'VARCHAR'],
  ], outcomes.map((o) => ({
    run_id: runId, rule_id: o.rule_id, rule_version: o.rule_version, outcome: o.outcome, reason: o.reason,
    flags_raised: o.flags_raised, flags_new: o.flags_new, flags_existing: o.flags_existing, flags_not_reproduced: o.flags_not_reproduced,
    millis: String(o.millis), mode: o.mode, flags_reproduced: o.flags_reproduced, flags_suppressed: o.suppressed,
    details: canonicalJson({
      suppressed_reasons: o.suppressed_reasons, by_severity: o.by_severity, scope_size: o.scope_size,
      input_rows: o.input_rows, not_judged: o.not_judged,
    }),
  })));
  await store.run(
    `INSERT INTO fiscus.rule_run_results (run_id, rule_id, rule_version, outcome, reason, flags_raised, flags_new,
       flags_existing, flags_not_reproduced, millis, mode, flags_reproduced, flags_suppressed, details)
     SELECT run_id, rule_id, rule_version, outcome, reason, flags_raised, flags_new, flags_existing, flags_not_reproduced,
       CAST(millis AS ${store.dialect.double}), mode, flags_reproduced, flags_suppressed, CAST(details AS JSON)
     FROM rr_results`,
  );
  await store.run('DROP TABLE IF EXISTS rr_results');
}

type Resolved = Required<Pick<RunOptions, 'config' | 'dryRun'>> & RunOptions;

/** Phase 1 for one rule: decide, check preconditions, run its SQL and stage its findings. Reads only. */
async function evaluateOne(store: Store, rule: CompiledRule, opts: Resolved, tables: TableStateCache, via: DuckDBConnection | undefined): Promise<Evaluated> {
  const done = (o: RuleOutcome): Evaluated => ({ rule, out: o, millis: 0 });
  const out = blankOutcome(rule);
  const id = rule.meta.id;
  const settings = opts.config.rules[id];
  if (settings?.enabled === false) {
    return done({ ...out, outcome: 'skipped', reason: '配置中已停用 / disabled in config' });
  }
  for (const t of rule.meta.reads) {
    if (!(await tables.exists(t))) {
      return done({ ...out, outcome: 'skipped', reason: `表 ${t} 不存在 / table ${t} does not exist` });
    }
  }
  const severity: Severity = settings?.severity ?? rule.meta.severity;
  const allow = activeAllowEntries(opts.config, id, opts.asOf);

  // Which flags this evaluation is responsible for.
  let scope: string[] | null = null;
  let decision: Decision = { mode: 'full', why: opts.full ? 'full run requested' : 'dry run' };
  // The input tables' state, for the fingerprint. Only the mode decision needs it before the
  // rule's query; a full or scoped run's query starts without waiting for it (at 100k payments
  // the state query is ~20 ms the first rules would otherwise wait). Nothing writes an input
  // table meanwhile: the run holds the store's write lock (runRules), so the state is the one the
  // query read.
  let state: Promise<TablesState> | undefined;
  const hash = ruleHash(rule, severity, allow);
  // The runner's own reads for this rule (its decision, its empty-input probe) go to its lane.
  const reads = readsOn(store, via);
  if (!opts.dryRun) {
    state = tables.states(inputTables(rule));
    if (!opts.full && !opts.scope) {
      const prev = (await tables.memo('fingerprints', () => readFingerprints(store))).get(id);
      decision = await decide(reads, rule, prev, { rule_hash: hash, as_of: opts.asOf, tables: await state }, tables, opts.deltaMaxShare);
    } else {
      state.catch(() => undefined); // awaited below; a rule that fails first must not leave it unhandled
    }
  }
  if (opts.scope && rule.scope && (SCOPE_FLAG_COLUMNS as readonly string[]).includes(rule.scope.column)) {
    decision = { mode: 'incremental', scope: [...opts.scope].sort(), newBatches: [] };
  }
  if (decision.mode === 'unchanged') {
    return done({
      ...out, outcome: 'skipped', mode: 'unchanged', flags_raised: decision.flagsRaised,
      reason: `自运行 ${decision.since} 以来输入未变 / unchanged since run ${decision.since}`,
    });
  }
  if (decision.mode === 'incremental') scope = decision.scope;

  // Preconditions ask whether the rule can be evaluated at all, so they see all
  // the data even in an incremental run (a scoped "too few rows" would skip wrongly).
  // Those a finding implies are checked only when the rule found nothing.
  const probe = via && (async (sql: string) => (await reads.one<{ ok: boolean }>(sql))?.ok === true);
  const unmet = async (implied: boolean): Promise<string | undefined> => {
    for (const pre of rule.preconditions.filter((x) => Boolean(x.impliedByFindings) === implied)) {
      const evaluate = async () => (await queryRule(store, rule, pre, { asOf: opts.asOf, scope: null }, via)).rows[0]?.ok === true;
      const ok = pre.nonEmpty ? await tables.nonEmpty(pre.nonEmpty, probe) : pre.sql.includes('$') ? await evaluate() : await tables.check(pre.sql, evaluate);
      if (!ok) return pre.reason;
    }
    return undefined;
  };
  const gate = await unmet(false);
  if (gate) return done({ ...out, outcome: 'skipped', reason: gate });

  // Delta: only the keys the new batches touched (rules/language/passes/delta.ts).
  const result = decision.mode === 'delta'
    ? await queryRule(store, rule, rule.delta!, { asOf: opts.asOf, scope: null, deltaBatches: decision.newBatches, deltaDates: decision.dates }, via)
    : await queryRule(store, rule, rule, { asOf: opts.asOf, scope }, via);
  checkResultColumns(result.columns);
  const raw = result.rows;
  if (raw.length === 0) {
    const cannot = await unmet(true);
    if (cannot) return done({ ...out, outcome: 'skipped', reason: cannot });
  }

  const staged = new Map<string, FlagFinding>();
  const deltaKeys: [string, string][] = [];
  const suppressedIds: string[] = [];
  const suppressedSet = new Set<string>();
  const suppressedReasons = new Map<string, number>();
  let duplicates = 0;
  for (let i = 0; i < raw.length; i++) {
    let row: RuleResultRow;
    try {
      row = toResultRow(raw[i]!);
    } catch (err) {
      throw new Error(`result row ${i + 1}: ${errMessage(err)}`);
    }
    const fid = flagId(id, row.entity_type, row.entity_id, row.period_start, row.period_end);
    if (staged.has(fid) || suppressedSet.has(fid)) {
      duplicates++;
      continue;
    }
    const allowed = allow.length ? matchAllow(allow, { flag_id: fid, row }) : undefined;
    if (allowed) {
      suppressedIds.push(fid);
      suppressedSet.add(fid);
      suppressedReasons.set(allowed.reason, (suppressedReasons.get(allowed.reason) ?? 0) + 1);
      continue;
    }
    staged.set(fid, toStaged(rule, row, fid, severity));
    const key = raw[i]!.delta_key;
    if (typeof key === 'string') deltaKeys.push([fid, key]);
  }
  const flags = [...staged.values()];
  for (const f of flags) out.by_severity[f.severity as Severity]++;
  out.flags_raised = flags.length;
  out.suppressed = suppressedIds.length;
  // In the order of the allow-list, not of the result rows (which the engine may return in any order).
  const allowOrder = (reason: string) => allow.findIndex((a) => a.reason === reason);
  out.suppressed_reasons = [...suppressedReasons]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => allowOrder(a.reason) - allowOrder(b.reason));
  out.mode = decision.mode;
  out.scope_size = decision.mode === 'delta' ? decision.keys.count : scope ? scope.length : null;
  const notes: string[] = [];
  if (decision.mode === 'delta') {
    const p = decision.periods;
    notes.push(`增量：${decision.keys.count} 个键（${rule.delta!.keys.join(', ')}）${p ? `，起始于 ${p[0]}…${p[1]} 的时间窗` : ''} / delta: ${decision.keys.count} key(s) of (${rule.delta!.keys.join(', ')})${p ? `, windows starting ${p[0]}…${p[1]}` : ''}`);
  }
  if (decision.mode === 'incremental') notes.push(`增量：${scope!.length} 个分区 / incremental: ${scope!.length} partition(s) of ${rule.scope!.column}`);
  else if (decision.mode === 'full' && !opts.dryRun) notes.push(`全量 / full: ${decision.why}`);
  if (duplicates) notes.push(`${duplicates} 条重复结果已合并 / ${duplicates} duplicate result row(s) merged`);
  out.reason = notes.length ? notes.join('; ') : null;
  if (opts.collect) out.flags = flags;
  if (opts.dryRun) return done(out);
  return { rule, out, millis: 0, write: { flags, suppressedIds, scope, deltaKeys, decision, hash, state: (await state)! } };
}

/** The flags standing (reproduced) per rule. */
async function countReproduced(store: Store, ruleIds: readonly string[]): Promise<Map<string, number>> {
  if (ruleIds.length === 0) return new Map();
  await stage(store, 'rr_rule_ids', [['rule_id', 'VARCHAR']], ruleIds.map((rule_id) => ({ rule_id })));
  const rows = await store.all<{ rule_id: string; n: string | number }>(
    'SELECT rule_id, count(*) AS n FROM fiscus.flags WHERE reproduced AND rule_id IN (SELECT rule_id FROM rr_rule_ids) GROUP BY rule_id',
  );
  await store.run('DROP TABLE IF EXISTS rr_rule_ids');
  return new Map(rows.map((r) => [r.rule_id, Number(r.n)]));
}

function toStaged(rule: CompiledRule, row: RuleResultRow, fid: string, severity: Severity): FlagFinding {
  const vars: TemplateVars = {
    entity_id: row.entity_id, entity_name: row.entity_name, agency_code: row.agency_code, region_code: row.region_code,
    fiscal_year: row.fiscal_year, period_start: row.period_start, period_end: row.period_end,
    measure_name: row.measure_name, measure_value: row.measure_value, threshold: row.threshold, amount: row.amount,
    ...row.vars,
  };
  const tz = rule.meta.titleTemplate?.zh || rule.meta.title.zh;
  const te = rule.meta.titleTemplate?.en || rule.meta.title.en;
  return {
    flag_id: fid,
    rule_id: rule.meta.id,
    rule_version: rule.meta.version,
    severity: row.severity ?? severity,
    title: renderTemplate(tz, vars),
    title_en: renderTemplate(te, vars),
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    entity_name: row.entity_name,
    region_code: row.region_code,
    agency_code: row.agency_code,
    fiscal_year: row.fiscal_year,
    period_start: row.period_start,
    period_end: row.period_end,
    measure_name: row.measure_name,
    measure_value: row.measure_value,
    measure_threshold: row.threshold,
    amount: row.amount,
    evidence: JSON.stringify(row.evidence),
    evidence_query: row.evidence_query,
  };
}
