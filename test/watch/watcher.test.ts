/**
 * The folder watcher on real folders and a real database: arrivals are ingested once and
 * moved to .fiscus-done, half-written files wait, links and the database's own files are
 * refused, a burst gets one rule run, a re-sent file is a no-op (also after a restart), a
 * bad file lands in .fiscus-failed with its reason and the watcher carries on.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../../engine/db.ts';
import { DONE_DIR, FAILED_DIR, startWatcher, type WatchEvent, type Watcher } from '../../watch/index.ts';
import { batches, ofType, paymentsCsv, RULES, setup, sleep, waitFor } from './helpers.ts';
import { testEngine } from '../helpers/postgres.ts';

let root: string;
let dir: string;
let store: Store;
let cleanup: () => Promise<void>;
let watcher: Watcher | undefined;
let events: WatchEvent[];

const SETTLE = 150;

async function start(extra: Partial<Parameters<typeof startWatcher>[0]> = {}): Promise<Watcher> {
  watcher = await startWatcher({ store, dir, settleMs: SETTLE, rescanMs: 300, rules: RULES, onEvent: (e) => events.push(e), ...extra });
  return watcher;
}

beforeEach(async () => {
  ({ root, dir, store, cleanup } = await setup());
  events = [];
});

afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  await cleanup();
});

async function flagCount(): Promise<number> {
  const r = await store.one<{ n: string }>("SELECT count(*)::VARCHAR AS n FROM fiscus.flags WHERE rule_id = 'treasury.nonworking_day'");
  return Number(r?.n ?? 0);
}

describe('fiscus watch (library)', () => {
  it('ingests a copied file once, moves it to .fiscus-done and runs the rules after it', async () => {
    const w = await start();
    writeFileSync(join(root, 'p.csv'), paymentsCsv('A', 5, 2));
    // "copied in": written outside, then renamed into place, as cp/mv into a drop folder does.
    writeFileSync(join(dir, 'treasury.payments_2025-06.csv'), readFileSync(join(root, 'p.csv')));
    await waitFor('the rule run', () => ofType(events, 'rules')[0]);
    await w.idle();
    const b = await batches(store);
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ status: 'committed', accepted: '7' });
    expect(b[0]!.source).toBe(join(w.dir, 'treasury.payments_2025-06.csv'));
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual([]);
    expect(readFileSync(join(dir, DONE_DIR, 'treasury.payments_2025-06.csv'), 'utf8')).toBe(paymentsCsv('A', 5, 2));
    expect(await flagCount()).toBe(2);
    const [ingested] = ofType(events, 'ingested');
    expect(ingested!.moved_to).toBe(join(DONE_DIR, 'treasury.payments_2025-06.csv'));
    expect(ofType(events, 'rules')[0]!.summary.totals.flags_new).toBe(2);
    // Rescans after the move see nothing new: still one batch, one run.
    await sleep(700);
    expect(await batches(store)).toHaveLength(1);
    expect(ofType(events, 'rules')).toHaveLength(1);
  });

  it('prunes .fiscus-done only when asked, and never .fiscus-failed or what a link there points to', async () => {
    mkdirSync(join(dir, DONE_DIR, 'treasury'), { recursive: true });
    mkdirSync(join(dir, FAILED_DIR), { recursive: true });
    writeFileSync(join(dir, DONE_DIR, 'treasury', 'payments_2025-01.csv'), paymentsCsv('OLD', 2));
    writeFileSync(join(dir, FAILED_DIR, 'treasury.payments_bad.csv'), 'not a feed\n');
    writeFileSync(join(root, 'elsewhere.csv'), 'kept\n');
    symlinkSync(join(root, 'elsewhere.csv'), join(dir, DONE_DIR, 'link.csv'));
    // Not asked: a watcher keeps every archived file.
    await (await start({ rules: false })).stop();
    expect(existsSync(join(dir, DONE_DIR, 'treasury', 'payments_2025-01.csv'))).toBe(true);
    // Asked, with "a day" shortened to 1 s so the test need not wait one.
    await sleep(1100);
    const w = await start({ rules: false, pruneDoneAfterDays: 1 / 86_400 });
    const [pruned] = await waitFor('the prune', () => (ofType(events, 'pruned').length ? ofType(events, 'pruned') : undefined));
    expect(pruned!.files).toEqual([join(DONE_DIR, 'treasury', 'payments_2025-01.csv')]);
    expect(existsSync(join(dir, DONE_DIR, 'treasury'))).toBe(false); // left empty, removed
    expect(readdirSync(join(dir, DONE_DIR))).toEqual(['link.csv']);
    expect(readFileSync(join(root, 'elsewhere.csv'), 'utf8')).toBe('kept\n');
    expect(existsSync(join(dir, FAILED_DIR, 'treasury.payments_bad.csv'))).toBe(true);
    await w.idle();
  });

  it('does not read a file that is still being written until it has been still for the settle interval', async () => {
    await start();
    const path = join(dir, 'treasury.payments.csv');
    const full = paymentsCsv('S', 40, 1).split('\n');
    writeFileSync(path, `${full.slice(0, 5).join('\n')}\n`);
    // Append a few lines at intervals shorter than the settle time, for well over a settle interval.
    for (let i = 5; i < full.length - 1; i += 4) {
      await sleep(SETTLE / 3);
      appendFileSync(path, `${full.slice(i, i + 4).join('\n')}\n`);
    }
    expect(await batches(store)).toEqual([]);
    await waitFor('the batch', async () => ((await batches(store)).length ? true : undefined));
    await watcher!.idle();
    const b = await batches(store);
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ status: 'committed', accepted: '41' });
  });

  it('refuses a symbolic link to a file outside DIR (and the database file under another name), once each', async () => {
    writeFileSync(join(root, 'outside.csv'), paymentsCsv('X', 3, 1));
    symlinkSync(join(root, 'outside.csv'), join(dir, 'treasury.payments_link.csv'));
    symlinkSync('/etc/passwd', join(dir, 'treasury.payments_passwd.csv'));
    if (testEngine() === 'duckdb') linkSync(store.path, join(dir, 'treasury.payments_db.csv'));
    const w = await start();
    await sleep(SETTLE * 3 + 700); // several rescans
    await w.idle();
    expect(await batches(store)).toEqual([]);
    const ignored = ofType(events, 'ignored');
    expect(ignored.filter((e) => e.rel === 'treasury.payments_link.csv')).toEqual([{ type: 'ignored', rel: 'treasury.payments_link.csv', reason: 'symlink' }]);
    expect(ignored.filter((e) => e.rel === 'treasury.payments_passwd.csv')).toHaveLength(1);
    if (testEngine() === 'duckdb') expect(ignored.filter((e) => e.rel === 'treasury.payments_db.csv')).toEqual([{ type: 'ignored', rel: 'treasury.payments_db.csv', reason: 'protected' }]);
    // Left where they are, untouched; the target is not moved.
    expect(existsSync(join(root, 'outside.csv'))).toBe(true);
    expect(readdirSync(join(dir, DONE_DIR))).toEqual([]);
  });

  it('ignores temporary names until they are renamed into place', async () => {
    await start();
    for (const n of ['treasury.payments.csv.part', 'treasury.payments.csv.tmp', 'treasury.payments.csv~', '.treasury.payments.csv']) writeFileSync(join(dir, n), paymentsCsv('T', 2));
    await sleep(SETTLE * 3 + 400);
    expect(await batches(store)).toEqual([]);
    expect(ofType(events, 'ignored')).toEqual([]);
    const { renameSync } = await import('node:fs');
    renameSync(join(dir, 'treasury.payments.csv.part'), join(dir, 'treasury.payments.csv'));
    await waitFor('the batch', async () => ((await batches(store)).length ? true : undefined));
    expect(await batches(store)).toHaveLength(1);
  });

  it('gives a burst of three files one rule run', async () => {
    await start();
    for (const k of ['1', '2', '3']) writeFileSync(join(dir, `treasury.payments_${k}.csv`), paymentsCsv(`B${k}`, 3, 1));
    await waitFor('the rule run', () => ofType(events, 'rules')[0]);
    await watcher!.idle();
    await sleep(500);
    expect((await batches(store)).map((b) => b.status)).toEqual(['committed', 'committed', 'committed']);
    const runs = ofType(events, 'rules');
    expect(runs).toHaveLength(1);
    expect([...runs[0]!.files].sort()).toEqual(['treasury.payments_1.csv', 'treasury.payments_2.csv', 'treasury.payments_3.csv']);
    expect(runs[0]!.summary.totals.flags_new).toBe(3);
    const r = await store.one<{ n: string }>('SELECT count(*)::VARCHAR AS n FROM fiscus.rule_runs');
    expect(r?.n).toBe('1');
  });

  it('treats the same file again as a no-op, also after a restart that finds it back in DIR', async () => {
    const body = paymentsCsv('D', 4, 1);
    await start();
    writeFileSync(join(dir, 'treasury.payments.csv'), body);
    await waitFor('the rule run', () => ofType(events, 'rules')[0]);
    await watcher!.idle();
    writeFileSync(join(dir, 'treasury.payments.csv'), body);
    await waitFor('the second file', () => ofType(events, 'ingested')[1]);
    await watcher!.idle();
    expect((await batches(store)).map((b) => b.status)).toEqual(['committed', 'noop']);
    // The second copy is kept beside the first under a new name; no second rule run for a no-op.
    expect(readdirSync(join(dir, DONE_DIR)).sort()).toHaveLength(2);
    expect(ofType(events, 'rules')).toHaveLength(1);
    // A restart (the process stopped after ingesting, before the move): the file is found again, changes nothing.
    await watcher!.stop();
    writeFileSync(join(dir, 'treasury.payments.csv'), body);
    events = [];
    await start();
    await waitFor('the re-seen file', () => ofType(events, 'ingested')[0]);
    await watcher!.idle();
    expect(ofType(events, 'ingested')[0]!.report.status).toBe('noop');
    expect(await flagCount()).toBe(1);
    const rows = await store.one<{ n: string }>('SELECT count(*)::VARCHAR AS n FROM treasury.payments');
    expect(rows?.n).toBe('5');
  });

  it('moves a bad file to .fiscus-failed with its reason, and keeps watching', async () => {
    await start();
    // More than 5% bad amounts: the batch is rolled back whole.
    const bad = paymentsCsv('F', 9).replace(/,1002\.00,/, ',12,3a4.00,').replace(/,1003\.00,/, ',"x",');
    writeFileSync(join(dir, 'treasury.payments_bad.csv'), bad);
    writeFileSync(join(dir, 'nobody-knows-this.csv'), 'a,b\n1,2\n');
    await waitFor('two files', () => ofType(events, 'ingested')[1]);
    await watcher!.idle();
    const failed = readdirSync(join(dir, FAILED_DIR)).sort();
    expect(failed).toEqual(['nobody-knows-this.csv', 'nobody-knows-this.csv.reason.txt', 'treasury.payments_bad.csv', 'treasury.payments_bad.csv.reason.txt']);
    const reason = readFileSync(join(dir, FAILED_DIR, 'treasury.payments_bad.csv.reason.txt'), 'utf8');
    expect(reason).toMatch(/status: rolled_back/);
    expect(reason).toMatch(/fiscus quarantine --batch B/);
    expect(readFileSync(join(dir, FAILED_DIR, 'nobody-knows-this.csv.reason.txt'), 'utf8')).toMatch(/cannot tell the table/);
    expect(ofType(events, 'rules')).toHaveLength(0); // nothing committed: nothing to re-run
    // Still watching: a good file afterwards is loaded.
    writeFileSync(join(dir, 'treasury.payments_good.csv'), paymentsCsv('G', 2, 1));
    await waitFor('the good file', () => ofType(events, 'rules')[0]);
    expect((await batches(store)).map((b) => b.status).sort()).toEqual(['committed', 'failed', 'rolled_back']);
  });

  it('runs the rules once at start when a batch committed after the last run (a stop between ingest and run)', async () => {
    const { ingestPath } = await import('../../ingest/index.ts');
    writeFileSync(join(root, 'treasury.payments.csv'), paymentsCsv('U', 2, 1));
    await ingestPath(store, join(root, 'treasury.payments.csv'));
    await start();
    await waitFor('the catch-up run', () => ofType(events, 'rules')[0]);
    expect(ofType(events, 'rules')[0]!.files).toEqual([]);
    expect(await flagCount()).toBe(1);
    // Caught up: a restart does not run them again.
    await watcher!.stop();
    events = [];
    await start();
    await sleep(400);
    await watcher!.idle();
    expect(ofType(events, 'rules')).toEqual([]);
  });

  it('reads the folder-feed layout: a schema folder names the table', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'treasury'));
    await start();
    writeFileSync(join(dir, 'treasury', 'payments_2025-06.csv'), paymentsCsv('L', 2, 1));
    await waitFor('the rule run', () => ofType(events, 'rules')[0]);
    expect(existsSync(join(dir, DONE_DIR, 'treasury', 'payments_2025-06.csv'))).toBe(true);
    expect(await flagCount()).toBe(1);
  });
});
