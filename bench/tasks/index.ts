/**
 * The measured work of every scenario side, each run in its own child process
 * (bench/child.ts) so that its peak RSS is its own. Every task returns the
 * seconds of the measured part only — process start and module loading are
 * outside the clock — plus details.
 */
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbMemoryLimit, openStore, type Store } from '../../engine/db.ts';
import { defaultCheckpointsPath, defaultKeyPath } from '../../engine/log-key.ts';
import { requireFeedTable } from '../../engine/feeds.ts';
import { need } from '../optional.ts';
import { chooseLoader, committed, loadDir, loadFile, readCsvSql, type Loader } from './load.ts';

export interface TaskResult {
  seconds: number;
  details?: Record<string, unknown>;
}

type Args = Record<string, unknown>;
const str = (a: Args, k: string): string => {
  const v = a[k];
  if (typeof v !== 'string') throw new Error(`task argument ${k} missing`);
  return v;
};

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/**
 * Copy a closed deployment: the DuckDB file, its WAL, and the event log's key and checkpoints
 * beside it (a copy that writes flag events without the key fails every rule with findings).
 */
export function copyDb(from: string, to: string): void {
  const dest = deploymentFiles(to);
  deploymentFiles(from).forEach((f, i) => {
    rmSync(dest[i]!, { force: true });
    if (existsSync(f)) copyFileSync(f, dest[i]!);
  });
}

/** Remove what copyDb made. */
export function removeDb(db: string): void {
  for (const f of deploymentFiles(db)) rmSync(f, { force: true });
}

/** A deployment's files beside its database: the file, its WAL, the log key and the checkpoints. */
function deploymentFiles(db: string): string[] {
  return [db, `${db}.wal`, defaultKeyPath(db), defaultCheckpointsPath(defaultKeyPath(db))];
}

// ---- compiled pack, shared by the rule tasks ----
interface RunSummaryLike {
  totals: { rules: number; evaluated: number; skipped: number; errors: number; flags_raised: number; flags_new: number };
  rules: { rule_id: string; outcome: string; mode: string | null; reason: string | null; flags_raised: number; millis: number }[];
}
type RunRules = (store: Store, rules: readonly unknown[], opts: { asOf: string; full?: boolean; actor?: string }) => Promise<RunSummaryLike>;

async function compiledPack(): Promise<unknown[]> {
  const loadBuiltinPack = await need<() => Promise<unknown[]>>('rules/language/index.ts', 'loadBuiltinPack');
  const compileRule = await need<(def: unknown) => unknown>('rules/language/index.ts', 'compileRule');
  return (await loadBuiltinPack()).map((d) => compileRule(d));
}

/**
 * A run in which a rule failed measured less work than the pack: it is no measurement.
 * (2026-12-03: the incremental copy lacked the log key, so rules with findings failed to
 * store them and the re-run looked faster than it was.)
 */
function measured(s: RunSummaryLike, what: string): RunSummaryLike {
  const failed = s.rules.filter((r) => r.outcome === 'error');
  if (failed.length) {
    throw new Error(`${what}: ${failed.length} rule(s) failed, so the time is not the pack's: ${failed.map((r) => `${r.rule_id}: ${r.reason ?? ''}`.slice(0, 160)).join('; ')}`);
  }
  return s;
}

/**
 * What a rule run left in fiscus.flags, reduced to one digest (and a count): incremental and
 * full runs on the same data must leave the same flags, measures, amounts, evidence and
 * reproduced marks.
 */
async function flagDigest(store: Store): Promise<{ flags: number; reproduced: number; digest: string }> {
  const r = await store.one<{ n: string; rep: string; d: string }>(
    `SELECT count(*)::VARCHAR AS n, count(*) FILTER (WHERE reproduced)::VARCHAR AS rep,
            coalesce(md5(string_agg(concat_ws('|', flag_id, reproduced, measure_value, amount, evidence), '\n' ORDER BY flag_id)), '') AS d
       FROM fiscus.flags`,
  );
  return { flags: Number(r?.n ?? 0), reproduced: Number(r?.rep ?? 0), digest: r?.d ?? '' };
}

function summarize(s: RunSummaryLike): Record<string, unknown> {
  return {
    totals: s.totals,
    modes: s.rules.reduce<Record<string, number>>((acc, r) => {
      const k = `${r.outcome}${r.mode ? `/${r.mode}` : ''}`;
      acc[k] = (acc[k] ?? 0) + 1;
      return acc;
    }, {}),
    slowest: [...s.rules].sort((a, b) => b.millis - a.millis).slice(0, 5).map((r) => `${r.rule_id} ${r.millis} ms`),
    problems: s.rules.filter((r) => r.outcome !== 'evaluated').map((r) => `${r.rule_id}: ${r.outcome}: ${r.reason ?? ''}`.slice(0, 200)),
  };
}

export const TASKS: Record<string, (a: Args) => Promise<TaskResult>> = {
  async generate(a) {
    const { generateFixtures } = await import('../../fixtures/generate/index.ts');
    const { seconds, value } = await timed(() =>
      generateFixtures({ out: str(a, 'out'), payments: Number(a.payments), seed: String(a.seed ?? 'bench'), incrementPct: Number(a.incrementPct ?? 1) }),
    );
    return { seconds, details: { planted: value.planted.length, tables: Object.keys(value.tables).length } };
  },

  /** Ours: the real ingest of the payments CSV into a fresh fiscus database. */
  async ingest_ours(a) {
    const ingestPath = await need<(store: Store, path: string, opts?: Record<string, unknown>) => Promise<{ status: string; message?: string | null }[]>>('ingest/index.ts', 'ingestPath');
    const store = await openStore(str(a, 'db'));
    const { seconds, value } = await timed(() => ingestPath(store, str(a, 'csv'), { table: 'treasury.payments' }));
    const count = await store.one<{ n: string }>('SELECT count(*)::VARCHAR AS n FROM treasury.payments');
    await store.close();
    const reports = committed(str(a, 'csv'), value);
    return { seconds, details: { rows_in_table: Number(count?.n), report: JSON.parse(JSON.stringify(reports[0] ?? null, (_k, v) => (typeof v === 'bigint' ? String(v) : v))) } };
  },

  /** Baseline: DuckDB's own read_csv with explicit column types into a plain table, under the same memory cap. */
  async ingest_duckdb(a) {
    const db = await DuckDBInstance.create(str(a, 'db'), { memory_limit: duckdbMemoryLimit() });
    const conn = await db.connect();
    const t = requireFeedTable('treasury.payments');
    const { seconds } = await timed(() => conn.run(`CREATE TABLE payments AS SELECT * FROM ${readCsvSql(str(a, 'csv'), t)}`));
    const n = (await conn.runAndReadAll('SELECT count(*)::VARCHAR AS n FROM payments')).getRowObjectsJson()[0]?.n;
    conn.closeSync();
    db.closeSync();
    return { seconds, details: { rows_in_table: Number(n) } };
  },

  /** Preparation: every table of a fixture folder into one database (not a scenario). */
  async load_db(a) {
    const loader: Loader = (a.loader as Loader | undefined) ?? (await chooseLoader());
    const store = await openStore(str(a, 'db'));
    const { seconds } = await timed(() => loadDir(store, str(a, 'dir'), loader, 'bench'));
    await store.run('CHECKPOINT');
    await store.close();
    return { seconds, details: { loader } };
  },

  /** Ours: the whole built-in pack through the rule runner (a first, full run). */
  async rules_ours(a) {
    const runRules = await need<RunRules>('rules/run/runner.ts', 'runRules');
    const rules = await compiledPack();
    const store = await openStore(str(a, 'db'));
    const { seconds, value } = await timed(async () => measured(await runRules(store, rules, { asOf: str(a, 'asOf'), full: true, actor: 'bench' }), 'the full run'));
    const recall = typeof a.manifest === 'string' ? await checkManifest(store, a.manifest) : undefined;
    await store.run('CHECKPOINT');
    await store.close();
    return { seconds, details: { rules: rules.length, ...summarize(value), ...(recall ? { manifest_check: recall } : {}) } };
  },

  /** Baseline: the same logic as hand-written SQL (rules/reference) on the same data. */
  async rules_reference(a) {
    const runReference = await need<(conn: DuckDBConnection, asOf: string) => Promise<unknown>>('rules/reference/run-reference.ts', 'runReference');
    const store = await openStore(str(a, 'db'));
    const { seconds, value } = await timed(() => store.withConnection((conn) => runReference(conn, str(a, 'asOf'))));
    await store.close();
    return { seconds, details: { result: shortJson(value) } };
  },

  /** Ours: a 1% new batch arrives (ingested, not timed), then the pack re-runs. */
  async rules_incremental(a) {
    const runRules = await need<RunRules>('rules/run/runner.ts', 'runRules');
    const rules = await compiledPack();
    const loader: Loader = (a.loader as Loader | undefined) ?? (await chooseLoader());
    const store = await openStore(str(a, 'db'));
    const ingest = await timed(() => loadFile(store, join(str(a, 'incDir'), 'treasury.payments.csv'), loader, 'bench:increment'));
    await store.run('CHECKPOINT');
    await store.close();
    // The full-run baseline starts from exactly this state.
    copyDb(str(a, 'db'), str(a, 'fullDb'));
    const again = await openStore(str(a, 'db'));
    const { seconds, value } = await timed(async () => measured(await runRules(again, rules, { asOf: str(a, 'asOf'), actor: 'bench' }), 'the incremental re-run'));
    const flags = await flagDigest(again);
    await again.close();
    return { seconds, details: { loader, ingest_seconds: round(ingest.seconds), flags, ...summarize(value) } };
  },

  /** Baseline for incremental: a full run of the pack on the same state. */
  async rules_full(a) {
    const runRules = await need<RunRules>('rules/run/runner.ts', 'runRules');
    const rules = await compiledPack();
    const store = await openStore(str(a, 'db'));
    const { seconds, value } = await timed(async () => measured(await runRules(store, rules, { asOf: str(a, 'asOf'), full: true, actor: 'bench' }), 'the full baseline run'));
    const flags = await flagDigest(store);
    await store.close();
    return { seconds, details: { flags, ...summarize(value) } };
  },
};

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function shortJson(v: unknown): unknown {
  const s = JSON.stringify(v ?? null, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
  return s.length > 400 ? `${s.slice(0, 400)}…` : JSON.parse(s);
}

/** For the API servers: the bytes a route returned, saved by the parent. */
export function readBody(file: string): Buffer {
  return readFileSync(file);
}

/**
 * Cross-check the rule pack against the generator's manifest: which planted
 * findings were raised (rule + entity id), and — for the rules the manifest
 * lists exhaustively — which raised flags it did not expect.
 */
async function checkManifest(store: Store, manifestFile: string): Promise<Record<string, unknown>> {
  const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as { planted: { rule_id: string; entity: { id: string } }[]; exhaustive_rules: string[] };
  const flags = await store.all<{ rule_id: string; entity_id: string }>('SELECT DISTINCT rule_id, entity_id FROM fiscus.flags');
  const raised = new Map<string, Set<string>>();
  for (const f of flags) {
    if (!raised.has(f.rule_id)) raised.set(f.rule_id, new Set());
    raised.get(f.rule_id)!.add(f.entity_id);
  }
  const planted = new Map<string, Set<string>>();
  for (const p of m.planted) {
    if (!planted.has(p.rule_id)) planted.set(p.rule_id, new Set());
    planted.get(p.rule_id)!.add(p.entity.id);
  }
  const out: Record<string, unknown> = {};
  for (const [rule, ids] of [...planted.entries()].sort()) {
    const got = raised.get(rule) ?? new Set<string>();
    const missing = [...ids].filter((id) => !got.has(id));
    const row: Record<string, unknown> = { planted: ids.size, found: ids.size - missing.length };
    if (missing.length) row.missing = missing.slice(0, 3);
    if (m.exhaustive_rules.includes(rule)) {
      const extra = [...got].filter((id) => !ids.has(id));
      row.unexpected = extra.length;
      if (extra.length) row.unexpected_examples = extra.slice(0, 3);
    }
    out[rule] = row;
  }
  return out;
}
