/**
 * Watch a folder: every feed file that arrives is ingested (one batch per file, the
 * naming rules of `fiscus ingest DIR`), then the rule pack re-runs once for the
 * burst, and its flag events reach the live feed through the Store's write
 * notifications (the server's SSE streams and webhooks wake on every commit).
 *
 * When is a file complete? A file is taken once its size, mtime and inode have stayed
 * the same for `settleMs` (two looks that far apart). A file renamed into place is
 * therefore taken after one settle interval; a writer that may pause for longer than
 * that should write under a temporary name (hidden, `*.tmp`, `*.part`: ignored) and
 * rename the finished file into the folder. A file that changes while it is being read
 * is read again once it settles (the ingest is idempotent by content).
 *
 * Events come from fs.watch on every folder, and a periodic rescan catches what
 * fs.watch misses (network shares, editors' rename dances, overflowed inotify queues).
 * Every file is processed once per content: present at start, arriving twice, touched
 * again (same bytes: the ingest says `noop`). Nothing that goes wrong with one file,
 * one scan or one rule run stops the watcher; `stop()` lets the batch or run in
 * progress finish, then returns.
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { todayInShanghai } from '../engine/dates.ts';
import type { Store } from '../engine/db.ts';
import { UsageError } from '../engine/errors.ts';
import { ingestFile } from '../ingest/batch.ts';
import { resolveTableName, sortPlanned, tableFromName } from '../ingest/discover.ts';
import type { BatchReport, IngestOptions } from '../ingest/types.ts';
import { runRules, type RunSummary } from '../rules/run/runner.ts';
import { RulePack, type PackOptions } from './pack.ts';
import { sameSignature, scanFolder, signatureOf, type IgnoreReason, type Signature } from './scan.ts';
import { stageFile } from './stage.ts';

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
  onEvent?: (e: WatchEvent) => void;
}

export type WatchEvent =
  | { type: 'ready'; dir: string; files: number }
  | { type: 'ingested'; rel: string; report: BatchReport }
  | { type: 'ignored'; rel: string; reason: IgnoreReason }
  | { type: 'changed'; rel: string }
  | { type: 'rules'; files: string[]; summary: RunSummary }
  | { type: 'error'; where: 'scan' | 'watch' | 'ingest' | 'rules'; rel?: string; message: string };

export interface Watcher {
  readonly dir: string;
  /** Resolves once nothing is settling, queued, being ingested or waiting for its rule run. */
  idle(): Promise<void>;
  /** Stop watching; the batch or rule run in progress finishes first. */
  stop(): Promise<void>;
}

/** The watcher's private folder inside DIR (hidden, so never scanned). */
export const STATE_DIR = '.fiscus-watch';
const MAX_DIR_WATCHERS = 256;
const MAX_TRIES = 3;

type Tracked =
  | { status: 'settling'; sig: Signature; since: number; tries: number }
  | { status: 'ready'; sig: Signature; tries: number }
  | { status: 'done'; sig: Signature }
  | { status: 'ignored'; reason: IgnoreReason };

export async function startWatcher(opts: WatchOptions): Promise<Watcher> {
  const dir = resolve(opts.dir);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`cannot watch ${opts.dir}: not a folder (create it first) — 监视目录不存在`);
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
  const { stageDir, tmpDir } = await prepareStateDir(dir);
  // Compiled before the first file arrives (about a second), so an arrival does not pay it; a bad config stops the start.
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
  let lastError = '';

  const error = (where: Extract<WatchEvent, { type: 'error' }>['where'], err: unknown, rel?: string) => {
    const message = err instanceof Error ? err.message : String(err);
    // The same failure at every rescan (a folder gone) is said once until something else happens.
    const key = `${where}|${rel ?? ''}|${message}`;
    if (key === lastError) return;
    lastError = key;
    emit({ type: 'error', where, rel, message });
  };

  const scheduleScan = (ms: number) => {
    if (stopped) return;
    if (scanTimer) clearTimeout(scanTimer);
    scanTimer = setTimeout(() => void scan(), ms);
  };

  const arm = (d: string) => {
    if (watchers.has(d) || watchers.size >= MAX_DIR_WATCHERS) return;
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
        if (prev?.status !== 'ignored' || prev.reason !== e.reason) {
          files.set(e.rel, { status: 'ignored', reason: e.reason });
          emit({ type: 'ignored', rel: e.rel, reason: e.reason });
        }
        continue;
      }
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
    for (const d of found.dirs) arm(d);
    for (const d of [...watchers.keys()]) {
      if (!found.dirs.includes(d)) {
        watchers.get(d)!.close();
        watchers.delete(d);
      }
    }
    if (nextSettle !== Infinity) scheduleScan(Math.max(10, nextSettle));
    else scheduleScan(rescanMs);
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
    const staged = await stageFile(path, stageDir, sig);
    if (staged.kind === 'gone') {
      files.delete(rel);
      return;
    }
    if (staged.kind === 'refused') {
      files.set(rel, { status: 'ignored', reason: staged.reason });
      emit({ type: 'ignored', rel, reason: staged.reason });
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
    emit({ type: 'ingested', rel, report });
    // Written to while it was read? Then this batch may hold a part of it: read it again once it settles.
    const after = await lstat(path).catch(() => undefined);
    if (after?.isFile() && !sameSignature(signatureOf(after), sig)) {
      files.set(rel, { status: 'settling', sig: signatureOf(after), since: Date.now(), tries: 0 });
      emit({ type: 'changed', rel });
      scheduleScan(settleMs);
    } else {
      files.set(rel, { status: 'done', sig });
    }
    if (report.status === 'committed') {
      pendingRun ??= { files: [], since: Date.now() };
      pendingRun.files.push(rel);
    }
  };

  const runPack = async () => {
    const run = pendingRun!;
    pendingRun = undefined;
    if (!pack) return;
    try {
      const { rules, config } = await pack.load();
      const asOf = (opts.rules ? opts.rules.asOf : undefined) ?? todayInShanghai();
      const summary = await runRules(opts.store, rules, { asOf, config, actor: opts.actor ?? 'fiscus watch' });
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
        if (!burstTimer) {
          burstTimer = setTimeout(() => {
            burstTimer = undefined;
            kick();
          }, pendingRun.since + burstMs - Date.now());
        }
        return;
      }
      if (burstTimer) clearTimeout(burstTimer);
      burstTimer = undefined;
      await runPack();
    }
  };

  // Files already present: settled like new arrivals (one may still be being written).
  await scan();
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

/** `DIR/.fiscus-watch/{stage,tmp}`: our own folders, refused if something else (a link) has taken the name. */
async function prepareStateDir(dir: string): Promise<{ stageDir: string; tmpDir: string }> {
  const root = join(dir, STATE_DIR);
  const stageDir = join(root, 'stage');
  const tmpDir = join(root, 'tmp');
  for (const d of [root, stageDir, tmpDir]) {
    await mkdir(d, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw new UsageError(`cannot create ${d} (the watcher's working folder inside ${dir}): ${err.code ?? err.message}`);
    });
    const st = await lstat(d);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
      throw new UsageError(`${d} is not a folder of this user (a link or another owner's): remove it, the watcher keeps its staged files there`);
    }
  }
  // Staged names left by a process that did not stop cleanly.
  for (const name of await readdir(stageDir)) await rm(join(stageDir, name), { force: true, recursive: true });
  return { stageDir, tmpDir };
}
