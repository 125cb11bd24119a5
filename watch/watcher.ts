/**
 * Watch a folder: every feed file that arrives is ingested (one batch per file, the
 * naming rules of `fiscus ingest DIR`), moved to `.fiscus-done/` or `.fiscus-failed/`,
 * then the rules re-run once for the burst, publishing as found (rules/run/runner.ts
 * `publish: 'as-found'`: quickest rules first, each write committed while slower rules
 * still run). Their flag events reach the live feed through the Store's write notifications (the server's SSE streams and webhooks wake on
 * every commit: api/server.ts `store.onWrite` → SeqNotifier.bump).
 *
 * When is a file complete? Once its size, mtime and inode have stayed the same for
 * `settleMs` (two looks that far apart). A writer that may pause for longer than that
 * should write under a temporary name (hidden, `*.tmp`, `*.part`, `*~`: ignored) and
 * rename the finished file into the folder. The ingest reads a snapshot (stage.ts), never
 * the name in DIR.
 *
 * Events come from fs.watch on DIR and its schema sub-folders; a periodic rescan catches
 * what fs.watch misses (network shares, overflowed inotify queues, editors' rename
 * dances). Nothing that goes wrong with one file, one scan or one rule run stops the
 * watcher; `stop()` lets the batch or rule run in progress finish, then returns.
 * Ingests and rule runs take the Store's exclusive section, as the API's writes do.
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { todayInShanghai } from '../engine/dates.ts';
import type { Store } from '../engine/db.ts';
import { UsageError } from '../engine/errors.ts';
import { logPaths } from '../engine/log-key.ts';
import { ingestFile } from '../ingest/batch.ts';
import { resolveTableName, sortPlanned, tableFromName } from '../ingest/discover.ts';
import type { BatchReport, IngestOptions } from '../ingest/types.ts';
import { runRules, type RunSummary } from '../rules/run/runner.ts';
import { archiveFile, DONE_DIR, FAILED_DIR, pruneDone } from './archive.ts';
import { RulePack, type PackOptions } from './pack.ts';
import { sameSignature, scanFolder, signatureOf, type IgnoreReason, type Signature } from './scan.ts';
import { stageFile, type RefuseReason } from './stage.ts';

export interface WatchOptions {
  store: Store;
  dir: string;
  /** Passed to every ingest: `--table`, `--mapping`, `--max-reject`. */
  ingest?: Pick<IngestOptions, 'table' | 'mapping' | 'maxReject'>;
  /** How long a file's size and mtime must stay unchanged before it is read (default 500 ms). */
  settleMs?: number;
  /** Full rescan interval, the fallback for events fs.watch misses (default 2000 ms). */
  rescanMs?: number;
  /**
   * Longest wait, from the first committed batch of a burst, for files still settling
   * before the rules run anyway (default 10 s): a burst gets one rule run.
   */
  burstMs?: number;
  /** Re-run the rules after committed batches (default: the built-in pack as of today in Asia/Shanghai); false: ingest only. */
  rules?: false | (PackOptions & { asOf?: string });
  /** Who the rule runs are recorded as (fiscus.rule_runs.actor). */
  actor?: string;
  /** Leave processed files in place instead of moving them to .fiscus-done / .fiscus-failed. */
  keepFiles?: boolean;
  /** Remove files from .fiscus-done this many days after they were moved there (at start, then hourly); default: keep them. */
  pruneDoneAfterDays?: number;
  onEvent?: (e: WatchEvent) => void;
}

export type WatchEvent =
  | { type: 'ready'; dir: string; files: number }
  | { type: 'ingested'; rel: string; report: BatchReport; moved_to: string | null }
  | { type: 'ignored'; rel: string; reason: IgnoreReason | RefuseReason }
  | { type: 'changed'; rel: string }
  | { type: 'pruned'; days: number; files: string[] }
  | { type: 'rules'; files: string[]; summary: RunSummary }
  | { type: 'error'; where: 'scan' | 'watch' | 'ingest' | 'archive' | 'rules'; rel?: string; message: string };

export interface Watcher {
  readonly dir: string;
  /** Resolves once nothing is settling, queued, being ingested or waiting for its rule run. */
  idle(): Promise<void>;
  /** Stop watching; the batch or rule run in progress finishes first. */
  stop(): Promise<void>;
}

/** The watcher's snapshots (and the ingest's transcodes) inside DIR: hidden, so never scanned. */
export const STAGING_DIR = '.fiscus-staging';
const MAX_TRIES = 3;
const PRUNE_EVERY_MS = 3_600_000;

type Tracked =
  | { status: 'settling'; sig: Signature; since: number; tries: number }
  | { status: 'ready'; sig: Signature; tries: number }
  | { status: 'done'; sig: Signature }
  /** `inode`: a file refused when staged stays refused while the name holds the same file, however it changes (the database). */
  | { status: 'ignored'; reason: IgnoreReason | RefuseReason; inode?: { ino: number; dev: number } };

export async function startWatcher(opts: WatchOptions): Promise<Watcher> {
  const st = await stat(opts.dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`cannot watch ${opts.dir}: not a folder (create it first) / 监视目录不存在`);
  // Everything is judged against the real path: DIR itself may be reached through a link (/tmp on macOS).
  const dir = await realpath(resolve(opts.dir));
  const settleMs = opts.settleMs ?? 500;
  const rescanMs = opts.rescanMs ?? 2000;
  const burstMs = opts.burstMs ?? 10_000;
  const emit = (e: WatchEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // A listener's failure (a closed stdout) is not the watcher's.
    }
  };
  const { stageDir, tmpDir } = await prepareStateDirs(dir);
  // The database and the event log's files are never read as a feed, whatever name a link gives them in DIR.
  const protect = protectedFiles(opts.store);
  // Compiled before the first file arrives (about a second), so an arrival does not pay for it; a bad config stops the start.
  const pack = opts.rules === false ? undefined : new RulePack(opts.store.engine, opts.rules ?? {});
  await pack?.load();

  const files = new Map<string, Tracked>();
  const watchers = new Map<string, FSWatcher>();
  let stopped = false;
  let loop: Promise<void> | undefined;
  let scanning: Promise<void> | undefined;
  let scanAgain = false;
  let scanTimer: NodeJS.Timeout | undefined;
  let burstTimer: NodeJS.Timeout | undefined;
  /** Committed batches since the last rule run, and when the first of them committed. */
  let pendingRun: { files: string[]; since: number } | undefined;
  // A batch committed after the last rule run (a watcher stopped between its ingest and its
  // run, or a plain `fiscus ingest`): its alerts are still owed, so the rules run once at start.
  if (pack && (await rulesBehind(opts.store))) pendingRun = { files: [], since: Date.now() };
  let lastError = '';

  /** When .fiscus-done was last pruned (hourly at most: a rescan runs every few seconds). */
  let prunedAt = 0;
  const prune = async () => {
    const days = opts.pruneDoneAfterDays;
    if (days === undefined || Date.now() - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = Date.now();
    try {
      const removed = await pruneDone(dir, days);
      if (removed.length) emit({ type: 'pruned', days, files: removed });
    } catch (err) {
      error('archive', err);
    }
  };

  const error = (where: Extract<WatchEvent, { type: 'error' }>['where'], err: unknown, rel?: string) => {
    const message = err instanceof Error ? err.message : String(err);
    // The same failure at every rescan (a folder gone) is said once until something else happens.
    const key = `${where}|${rel ?? ''}|${message}`;
    if (key === lastError) return;
    lastError = key;
    emit({ type: 'error', where, rel, message });
  };

  /** Refusals said once per name and reason, until the name leaves DIR. */
  const said = new Map<string, string>();
  const ignore = (rel: string, reason: IgnoreReason | RefuseReason, inode?: Signature) => {
    files.set(rel, { status: 'ignored', reason, inode: inode && { ino: inode.ino, dev: inode.dev } });
    if (said.get(rel) === reason) return;
    said.set(rel, reason);
    emit({ type: 'ignored', rel, reason });
  };

  const scheduleScan = (ms: number) => {
    if (stopped) return;
    if (scanTimer) clearTimeout(scanTimer);
    scanTimer = setTimeout(() => void scan(), ms);
  };

  const arm = (d: string) => {
    if (watchers.has(d)) return;
    try {
      // A write burst fires many events: one scan 50 ms after the latest.
      const w = fsWatch(d, { persistent: false }, () => scheduleScan(50));
      w.on('error', (err) => {
        // The folder went away or inotify gave up: drop this watcher; the rescan re-arms it if the folder is back.
        w.close();
        watchers.delete(d);
        error('watch', err);
      });
      watchers.set(d, w);
    } catch (err) {
      error('watch', err);
    }
  };

  const scanOnce = async () => {
    const found = await scanFolder(dir);
    const now = Date.now();
    const seen = new Set<string>();
    let nextSettle = Infinity;
    for (const e of found.entries) {
      seen.add(e.rel);
      const prev = files.get(e.rel);
      if (e.kind === 'ignored') {
        ignore(e.rel, e.reason);
        continue;
      }
      if (prev?.status === 'ignored' && prev.inode && prev.inode.ino === e.sig.ino && prev.inode.dev === e.sig.dev) continue;
      if (!prev || prev.status === 'ignored' || !sameSignature(prev.sig, e.sig)) {
        // New or changed (being written, or replaced): wait until it holds still.
        files.set(e.rel, { status: 'settling', sig: e.sig, since: now, tries: prev && 'tries' in prev ? prev.tries : 0 });
        nextSettle = Math.min(nextSettle, settleMs);
      } else if (prev.status === 'settling') {
        const left = prev.since + settleMs - now;
        if (left <= 0) files.set(e.rel, { status: 'ready', sig: prev.sig, tries: prev.tries });
        else nextSettle = Math.min(nextSettle, left);
      }
    }
    for (const rel of [...files.keys()]) if (!seen.has(rel)) files.delete(rel);
    for (const rel of [...said.keys()]) if (!seen.has(rel)) said.delete(rel);
    for (const d of found.dirs) arm(d);
    for (const d of [...watchers.keys()]) {
      if (!found.dirs.includes(d)) {
        watchers.get(d)!.close();
        watchers.delete(d);
      }
    }
    scheduleScan(nextSettle !== Infinity ? Math.max(10, nextSettle) : rescanMs);
    if (lastError.startsWith('scan|')) lastError = '';
  };

  const scan = async (): Promise<void> => {
    if (stopped) return;
    if (scanning) {
      scanAgain = true;
      return scanning;
    }
    scanning = (async () => {
      do {
        scanAgain = false;
        try {
          await scanOnce();
          await prune();
        } catch (err) {
          error('scan', err);
          scheduleScan(rescanMs);
        }
      } while (scanAgain && !stopped);
    })();
    try {
      await scanning;
    } finally {
      scanning = undefined;
    }
    kick();
  };

  const kick = () => {
    if (stopped || loop) return;
    loop = work()
      .catch((err: unknown) => error('ingest', err))
      .finally(() => {
        loop = undefined;
        // Something became ready while the loop was finishing.
        if (!stopped && [...files.values()].some((f) => f.status === 'ready')) kick();
      });
  };

  const ingestOne = async (rel: string, sig: Signature, tries: number) => {
    const path = join(dir, rel);
    const staged = await stageFile(path, { realDir: dir, stageDir, expect: sig, protect });
    if (staged.kind === 'gone') {
      files.delete(rel);
      return;
    }
    if (staged.kind === 'refused') {
      ignore(rel, staged.reason, sig);
      return;
    }
    if (staged.kind === 'changed') {
      files.set(rel, { status: 'settling', sig, since: Date.now(), tries });
      scheduleScan(settleMs);
      return;
    }
    let report: BatchReport;
    try {
      const t = opts.ingest?.table ?? opts.ingest?.mapping?.table;
      const guess = t ? resolveTableName(t) : tableFromName(path);
      report = await ingestFile(
        opts.store,
        {
          path: staged.path,
          source: path,
          sourceKind: 'file',
          index: 1,
          total: 1,
          ...('table' in guess ? { table: guess.table } : { tableError: guess.error }),
        },
        { ...opts.ingest, tmpDir },
      );
    } finally {
      await staged.release();
    }
    if (report.status === 'committed') {
      pendingRun ??= { files: [], since: Date.now() };
      pendingRun.files.push(rel);
    }
    // Replaced or written to since the snapshot? Then the name holds a newer version: leave it, read it once it settles.
    const after = await lstat(path).catch(() => undefined);
    if (after?.isFile() && !sameSignature(signatureOf(after), sig)) {
      emit({ type: 'ingested', rel, report, moved_to: null });
      files.set(rel, { status: 'settling', sig: signatureOf(after), since: Date.now(), tries: 0 });
      emit({ type: 'changed', rel });
      scheduleScan(settleMs);
      return;
    }
    let moved: string | null = null;
    if (!opts.keepFiles && after) {
      try {
        moved = await archiveFile(dir, rel, report);
      } catch (err) {
        error('archive', err, rel);
      }
    }
    files.set(rel, { status: 'done', sig });
    emit({ type: 'ingested', rel, report, moved_to: moved });
  };

  const runPack = async () => {
    const run = pendingRun!;
    pendingRun = undefined;
    if (!pack) return;
    try {
      const { rules, config } = await pack.load();
      const asOf = (opts.rules ? opts.rules.asOf : undefined) ?? todayInShanghai();
      // As `fiscus rules run` and POST /v1/rules/run: the runner picks incremental, skip or full per rule.
      // Findings are written as they are found, so a quick rule's alert does not wait for the slow ones.
      const summary = await runRules(opts.store, rules, { asOf, config, actor: opts.actor ?? 'fiscus watch', publish: 'as-found' });
      emit({ type: 'rules', files: run.files, summary });
    } catch (err) {
      error('rules', err);
    }
  };

  const work = async () => {
    while (!stopped) {
      const ready = [...files.entries()].filter((e): e is [string, Extract<Tracked, { status: 'ready' }>] => e[1].status === 'ready');
      if (ready.length) {
        // Dependency order, as a folder ingest: reference tables first, then by path.
        const rel = sortPlanned(ready.map(([r]) => ({ path: r, guess: tableFromName(join(dir, r)) })))[0]!.path;
        const t = files.get(rel) as Extract<Tracked, { status: 'ready' }>;
        try {
          await ingestOne(rel, t.sig, t.tries);
        } catch (err) {
          // Unexpected (the ingest reports bad files itself): retry a few times, then leave it until it changes.
          const tries = t.tries + 1;
          files.set(rel, tries < MAX_TRIES ? { status: 'settling', sig: t.sig, since: Date.now() + settleMs * 2 ** tries, tries } : { status: 'done', sig: t.sig });
          error('ingest', err, rel);
          scheduleScan(settleMs);
        }
        continue;
      }
      if (!pendingRun) return;
      const settling = [...files.values()].some((f) => f.status === 'settling');
      if (settling && Date.now() - pendingRun.since < burstMs) {
        // More of the burst is still arriving: one rule run for all of it, unless it takes too long.
        burstTimer ??= setTimeout(() => {
          burstTimer = undefined;
          kick();
        }, pendingRun.since + burstMs - Date.now());
        return;
      }
      if (burstTimer) clearTimeout(burstTimer);
      burstTimer = undefined;
      await runPack();
    }
  };

  // Files already present are settled like new arrivals (one may still be being written).
  await scan(); // then the work loop: ingests, and the rule run (a catch-up run too)
  emit({ type: 'ready', dir, files: [...files.values()].filter((f) => f.status !== 'ignored').length });

  return {
    dir,
    async idle() {
      for (;;) {
        const busy = loop || scanning || pendingRun || [...files.values()].some((f) => f.status === 'settling' || f.status === 'ready');
        if (!busy || stopped) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (scanTimer) clearTimeout(scanTimer);
      if (burstTimer) clearTimeout(burstTimer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      await scanning?.catch(() => undefined);
      await loop?.catch(() => undefined);
    },
  };
}

/** Did a batch commit after the newest finished rule run started? (A run cut off midway has no finished_at.) */
async function rulesBehind(store: Store): Promise<boolean> {
  const r = await store.one<{ behind: boolean | null }>(
    `SELECT (SELECT max(finished_at) FROM fiscus.batches WHERE status = 'committed')
            > coalesce((SELECT max(started_at) FROM fiscus.rule_runs WHERE finished_at IS NOT NULL), TIMESTAMPTZ '1900-01-01 00:00:00+00') AS behind`,
  );
  return r?.behind === true;
}

/** The database file, its WAL, the log key and the checkpoints: never read as a feed. */
function protectedFiles(store: Store): string[] {
  const out: string[] = [];
  if (store.engine === 'duckdb' && store.path !== ':memory:') out.push(store.path, `${store.path}.wal`);
  const { keyFile, checkpointsFile } = logPaths(store);
  if (keyFile) out.push(keyFile);
  if (checkpointsFile) out.push(checkpointsFile);
  return out;
}

/**
 * `DIR/.fiscus-staging` (with `tmp/` for the ingest's transcodes), `DIR/.fiscus-done`,
 * `DIR/.fiscus-failed`: our own folders, refused if something else (a link, another
 * user's folder) has taken the name.
 */
async function prepareStateDirs(dir: string): Promise<{ stageDir: string; tmpDir: string }> {
  const stageDir = join(dir, STAGING_DIR);
  const tmpDir = join(stageDir, 'tmp');
  for (const d of [stageDir, tmpDir, join(dir, DONE_DIR), join(dir, FAILED_DIR)]) {
    await mkdir(d, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw new UsageError(`cannot create ${d} (the watcher's working folder inside ${dir}): ${err.code ?? err.message}`);
    });
    const st = await lstat(d);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
      throw new UsageError(`${d} is not a folder of this user (a link or another owner's): remove it; the watcher keeps its files there`);
    }
  }
  // Snapshots left by a process that did not stop cleanly.
  for (const name of await readdir(stageDir)) if (name !== 'tmp') await rm(join(stageDir, name), { force: true, recursive: true });
  return { stageDir, tmpDir };
}
