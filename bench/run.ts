/**
 * `fiscus bench`: every scenario side by side with its baseline, at several
 * sizes, each side in its own child process; writes bench-results.json.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { median } from 'simple-statistics';
import { duckdbMemoryLimit } from '../engine/db.ts';
import { describeMachine } from './machine.ts';
import { REPO } from './optional.ts';
import { finalize, growth, sizeLabel, skipped, type BenchResults, type ScenarioResult } from './results.ts';
import { copyDb, removeDb } from './tasks/index.ts';
import { BENCH_TOKEN } from './tasks/servers.ts';

export interface BenchOptions {
  sizes: number[];
  mode: BenchResults['mode'];
  /** Scratch folder for fixtures and databases. */
  workDir: string;
  /** Where bench-results.json goes. */
  resultsFile: string;
  apiSeconds: number;
  connections: number;
  keep: boolean;
  /** Only these scenario names (default: all). */
  only?: string[];
  /** Measured pairs (ours, then the baseline) per timed scenario and size; default: by the first pair's time (pairsAfter). */
  pairs?: number;
  log: (line: string) => void;
}

export const QUICK_SIZES = [20_000, 50_000, 100_000];
export const FULL_SIZES = [100_000, 1_000_000, 10_000_000];
const AS_OF_YEAR = 2025;
const AS_OF = `${AS_OF_YEAR}-12-31`;

interface ChildOutcome {
  kind: 'result' | 'skip' | 'error';
  seconds?: number;
  peak_rss_mb?: number;
  details?: Record<string, unknown>;
  reason?: string;
}

interface Running {
  ready: Promise<{ port: number }>;
  done: Promise<ChildOutcome>;
  stop: () => void;
  stderrTail: () => string;
}

function startChild(task: string, args: Record<string, unknown>, log: (l: string) => void): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench', 'child.ts'), task, JSON.stringify(args)], {
    cwd: REPO,
    env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let outcome: ChildOutcome | undefined;
  let readyResolve!: (v: { port: number }) => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<{ port: number }>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  ready.catch(() => undefined);
  const errTail: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => {
    errTail.push(l);
    if (errTail.length > 20) errTail.shift();
    if (process.env.FISCUS_BENCH_VERBOSE) log(`  [${task}] ${l}`);
  });
  createInterface({ input: child.stdout }).on('line', (l) => {
    const m = /^@@(\w+) (.*)$/.exec(l);
    if (!m) return;
    const v = JSON.parse(m[2]!) as Record<string, unknown>;
    if (m[1] === 'ready') readyResolve(v as { port: number });
    else if (m[1] === 'result') outcome = { kind: 'result', ...(v as object) };
    else if (m[1] === 'skip') outcome = { kind: 'skip', reason: String(v.reason) };
    else if (m[1] === 'error') outcome = { kind: 'error', reason: String(v.message) };
  });
  const done = new Promise<ChildOutcome>((resolve) => {
    child.on('close', (code) => {
      const o = outcome ?? { kind: 'error', reason: `child exited with code ${code}: ${errTail.slice(-3).join(' | ')}` };
      readyReject(new Error(o.reason ?? 'child ended before it was ready'));
      resolve(o);
    });
  });
  const stop = () => {
    child.stdin.end('stop\n');
    // A child whose exit waits on a running DuckDB query would hold the bench forever.
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 60_000).unref();
  };
  return { ready, done, stop, stderrTail: () => errTail.slice(-5).join(' | ') };
}

async function runChild(task: string, args: Record<string, unknown>, log: (l: string) => void): Promise<ChildOutcome> {
  const t0 = performance.now();
  const o = await startChild(task, args, log).done;
  log(`  ${task}: ${o.kind}${o.seconds !== undefined ? ` ${o.seconds.toFixed(3)} s` : ''}${o.peak_rss_mb ? `, ${o.peak_rss_mb} MB` : ''}${o.reason ? ` (${o.reason})` : ''} [${((performance.now() - t0) / 1000).toFixed(1)} s wall]`);
  return o;
}

const r3 = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 1000) / 1000);

/**
 * How many pairs to measure, from the first pair's measured seconds (both sides): five under
 * 2 s, three under 6 s, else one. At 100k payments, six single pairs of the same code gave the
 * pack 1.22–1.55x on this 2-core machine, a spread wider than the gap to the goal; a median
 * of five costs seconds there, while at 10M one pair takes ~20 s and varies by a few percent.
 */
export function pairsAfter(firstPairSeconds: number): number {
  return firstPairSeconds < 2 ? 5 : firstPairSeconds < 6 ? 3 : 1;
}

/** What measuring a scenario gave: the combined sides, and each pair as measured. */
interface Measured {
  ours: ChildOutcome;
  base: ChildOutcome;
  pairs: { ours_seconds: number; baseline_seconds: number; ratio: number }[];
}

/**
 * Measure `once` (our side, then the baseline's, each from its own fresh inputs) `count` times,
 * or as pairsAfter says. Each side is reported by its median seconds and its highest peak RSS;
 * the details are those of the last pair, whose databases the later scenarios use. A pair
 * that fails ends the measuring and is what is reported.
 */
async function measurePairs(count: number | undefined, once: () => Promise<[ChildOutcome, ChildOutcome]>): Promise<Measured> {
  const runs: [ChildOutcome, ChildOutcome][] = [];
  for (let want = count ?? 1; runs.length < want; ) {
    const [ours, base] = await once();
    if (ours.kind !== 'result' || base.kind !== 'result') return { ours, base, pairs: [] };
    runs.push([ours, base]);
    if (count === undefined && runs.length === 1) want = pairsAfter(ours.seconds! + base.seconds!);
  }
  const side = (i: 0 | 1): ChildOutcome => ({
    ...runs[runs.length - 1]![i],
    seconds: median(runs.map((r) => r[i].seconds!)),
    peak_rss_mb: Math.max(...runs.map((r) => r[i].peak_rss_mb ?? 0)) || undefined,
  });
  const pairs = runs.map(([o, b]) => ({ ours_seconds: r3(o.seconds)!, baseline_seconds: r3(b.seconds)!, ratio: r3(o.seconds! / b.seconds!)! }));
  return { ours: side(0), base: side(1), pairs };
}

/** Combine our side and the baseline side into one scenario row (their medians, and each pair in the details). */
function pair(name: string, rows: number, size: number, baseline: string, { ours, base, pairs }: Measured): ScenarioResult {
  const details = { size, ours: ours.details, baseline: base.details, ...(pairs.length > 1 ? { pairs } : {}) };
  if (ours.kind !== 'result') {
    return { ...skipped(name, rows, ours.reason ?? 'not run', baseline), baseline_seconds: base.kind === 'result' ? r3(base.seconds) : null, details };
  }
  if (base.kind !== 'result') {
    return { ...skipped(name, rows, `baseline: ${base.reason ?? 'not run'}`, baseline), details: { ...details, ours_seconds: r3(ours.seconds), ours_peak_rss_mb: ours.peak_rss_mb } };
  }
  return {
    name,
    rows,
    seconds: r3(ours.seconds),
    baseline,
    baseline_seconds: r3(base.seconds),
    ratio: null,
    ratio_basis: 'seconds',
    peak_rss_mb: ours.peak_rss_mb ?? null,
    baseline_peak_rss_mb: base.peak_rss_mb ?? null,
    status: 'ok',
    details,
  };
}

async function load(url: string, seconds: number, connections: number, auth: boolean): Promise<autocannon.Result> {
  const headers = auth ? { authorization: `Bearer ${BENCH_TOKEN}` } : undefined;
  // A short warm-up so JIT and caches are hot before the measured run.
  await autocannon({ url, connections, amount: 200, headers });
  return autocannon({ url, connections, duration: seconds, headers });
}

async function apiScenarios(size: number, rows: number, db: string, work: string, opts: BenchOptions): Promise<ScenarioResult[]> {
  const routes = [
    { name: 'api_alerts', path: '/v1/alerts?limit=100' },
    { name: 'api_flags', path: '/v1/flags?limit=100' },
  ].filter((r) => !opts.only || opts.only.includes(r.name));
  if (routes.length === 0) return [];
  const baselineText = 'bare fastify route returning the same bytes';
  const ours = startChild('serve_ours', { db }, opts.log);
  let port: number;
  try {
    port = (await ours.ready).port;
  } catch {
    const o = await ours.done;
    return routes.map((r) => ({ ...skipped(r.name, rows, o.reason ?? 'server did not start', baselineText), details: { size } }));
  }
  const bodies: Record<string, string> = {};
  const oursRes: Record<string, autocannon.Result> = {};
  const problems: Record<string, string> = {};
  for (const r of routes) {
    const res = await fetch(`http://127.0.0.1:${port}${r.path}`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) {
      // Give the server a moment to log the error, then quote it.
      await new Promise((res2) => setTimeout(res2, 200));
      problems[r.name] = `GET ${r.path} answered ${res.status}: ${body.toString('utf8').slice(0, 160)}; server log: ${ours.stderrTail().slice(0, 600)}`;
      continue;
    }
    const file = join(work, `${r.name}.body.json`);
    writeFileSync(file, body);
    bodies[r.path] = file;
    opts.log(`  ${r.name}: load on ours for ${opts.apiSeconds} s (${body.length} bytes per response)`);
    oursRes[r.name] = await load(`http://127.0.0.1:${port}${r.path}`, opts.apiSeconds, opts.connections, true);
  }
  ours.stop();
  const oursDone = await ours.done;
  opts.log(`  serve_ours: ${oursDone.kind}${oursDone.peak_rss_mb ? `, ${oursDone.peak_rss_mb} MB` : ''}${oursDone.reason ? ` (${oursDone.reason})` : ''}`);
  const baseRes: Record<string, autocannon.Result> = {};
  let baseDone: ChildOutcome = { kind: 'skip', reason: 'no body to serve' };
  if (Object.keys(bodies).length > 0) {
    const bare = startChild('serve_bare', { bodies }, opts.log);
    const bport = (await bare.ready).port;
    for (const r of routes) {
      if (!bodies[r.path]) continue;
      opts.log(`  ${r.name}: load on the bare baseline for ${opts.apiSeconds} s`);
      baseRes[r.name] = await load(`http://127.0.0.1:${bport}${r.path}`, opts.apiSeconds, opts.connections, false);
    }
    bare.stop();
    baseDone = await bare.done;
    opts.log(`  serve_bare: ${baseDone.kind}${baseDone.peak_rss_mb ? `, ${baseDone.peak_rss_mb} MB` : ''}${baseDone.reason ? ` (${baseDone.reason})` : ''}`);
  }
  return routes.map((r) => {
    if (problems[r.name]) return { ...skipped(r.name, rows, problems[r.name]!, baselineText), details: { size } };
    const o = oursRes[r.name]!;
    const b = baseRes[r.name]!;
    return {
      name: r.name,
      rows,
      seconds: opts.apiSeconds,
      baseline: baselineText,
      baseline_seconds: opts.apiSeconds,
      ratio: null,
      ratio_basis: 'p99_ms' as const,
      peak_rss_mb: oursDone.peak_rss_mb ?? null,
      baseline_peak_rss_mb: baseDone.peak_rss_mb ?? null,
      p50_ms: o.latency.p50,
      p99_ms: o.latency.p99,
      baseline_p50_ms: b.latency.p50,
      baseline_p99_ms: b.latency.p99,
      requests_per_sec: Math.round(o.requests.average),
      baseline_requests_per_sec: Math.round(b.requests.average),
      status: 'ok' as const,
      details: { size, path: r.path, connections: opts.connections, errors: o.errors, non2xx: o.non2xx, timeouts: o.timeouts, baseline_errors: b.errors, server_closed_cleanly: oursDone.details?.closed_cleanly ?? null },
    };
  });
}

/** The worst analyst query the sandbox allows: pure CPU for as long as the time limit lets it run. */
export const HEAVY_QUERY = 'SELECT count(*) FROM range(1e12::BIGINT)';

/**
 * Fill the server's analyst query pool with worst-case queries: launch more than can run, and
 * count those not refused with 429 QUERY_BUSY. Returns how many run and a function that waits
 * for them to end (they end with the server).
 */
async function fillQueryPool(base: string, tries: number): Promise<{ running: number; refused: number; done: Promise<unknown>; endedAt: () => number[] }> {
  const statuses: (number | null)[] = new Array(tries).fill(null);
  const answeredAt: (number | null)[] = new Array(tries).fill(null);
  const all = Array.from({ length: tries }, (_, i) =>
    fetch(`${base}/v1/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: HEAVY_QUERY }),
    })
      .then(async (r) => {
        statuses[i] = r.status;
        await r.arrayBuffer();
        answeredAt[i] = Date.now();
      })
      .catch(() => undefined),
  );
  // Refusals come back at once; the accepted ones run until their time limit. Wait until the
  // refusals have arrived and nothing changed for half a second.
  const t0 = Date.now();
  let seen = -1;
  let stableSince = Date.now();
  while (Date.now() - t0 < 5000) {
    const answered = statuses.filter((s) => s !== null).length;
    if (answered !== seen) {
      seen = answered;
      stableSince = Date.now();
    } else if (answered > 0 && Date.now() - stableSince >= 500) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const refused = statuses.filter((s) => s === 429).length;
  const finished = statuses.filter((s) => s !== null && s !== 429).length;
  if (finished > 0) throw new Error(`${finished} heavy analyst queries ended before the load started (statuses ${statuses.join(',')})`);
  return {
    running: tries - refused,
    refused,
    done: Promise.all(all),
    // When the accepted queries answered (read once they are done).
    endedAt: () => answeredAt.filter((t, i): t is number => t !== null && statuses[i] !== 429),
  };
}

/**
 * GET /v1/flags p99 while the maximum allowed number of worst-case analyst queries run, against
 * the same load on the same server configuration with no analyst queries. The server runs as
 * deployed (response cache on): every request still reads DuckDB (the cache key's max(seq) goes
 * through the read pool), which is what pinned libuv threads used to stall.
 */
async function queryLoadScenario(size: number, rows: number, db: string, work: string, opts: BenchOptions): Promise<ScenarioResult> {
  const name = 'api_flags_query_load';
  const path = '/v1/flags?limit=100';
  const baselineText = 'the same /v1/flags load on the same server with no analyst queries';
  // The analyst queries must outlive warm-up and load, and end by their time limit before the
  // server stops: a process exiting while DuckDB runs a query waits for the query (hours here).
  const queryTimeoutMs = Math.round((opts.apiSeconds + 15) * 1000);
  const serverArgs = { db, queryTimeoutMs };
  const measure = async (withQueries: boolean) => {
    const dbCopy = join(work, `query-load-${withQueries ? 'ours' : 'base'}.duckdb`);
    copyDb(db, dbCopy);
    const server = startChild('serve_ours', { ...serverArgs, db: dbCopy }, opts.log);
    try {
      const port = (await server.ready).port;
      const base = `http://127.0.0.1:${port}`;
      const check = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
      await check.arrayBuffer();
      if (check.status !== 200) throw new Error(`GET ${path} answered ${check.status}; server log: ${server.stderrTail().slice(0, 400)}`);
      const pool = withQueries ? await fillQueryPool(base, 12) : undefined;
      if (pool) opts.log(`  ${name}: ${pool.running} analyst queries running (${pool.refused} more refused with 429); load for ${opts.apiSeconds} s`);
      else opts.log(`  ${name}: baseline load for ${opts.apiSeconds} s`);
      const res = await load(`${base}${path}`, opts.apiSeconds, opts.connections, true);
      const loadEnded = Date.now();
      let outlived: boolean | null = null;
      if (pool) {
        await pool.done;
        const ends = pool.endedAt();
        outlived = ends.length === pool.running && ends.every((t) => t >= loadEnded);
      }
      return { res, pool, outlived };
    } finally {
      server.stop();
      const o = await server.done;
      opts.log(`  serve_ours (${withQueries ? 'analyst load' : 'no analyst load'}): ${o.kind}${o.peak_rss_mb ? `, ${o.peak_rss_mb} MB` : ''}`);
      rmSync(dbCopy, { force: true });
      rmSync(`${dbCopy}.wal`, { force: true });
    }
  };
  try {
    const base = await measure(false);
    const ours = await measure(true);
    const o = ours.res;
    const b = base.res;
    return {
      name,
      rows,
      seconds: opts.apiSeconds,
      baseline: baselineText,
      baseline_seconds: opts.apiSeconds,
      ratio: null,
      ratio_basis: 'p99_ms',
      peak_rss_mb: null,
      baseline_peak_rss_mb: null,
      p50_ms: o.latency.p50,
      p99_ms: o.latency.p99,
      baseline_p50_ms: b.latency.p50,
      baseline_p99_ms: b.latency.p99,
      requests_per_sec: Math.round(o.requests.average),
      baseline_requests_per_sec: Math.round(b.requests.average),
      status: 'ok',
      details: {
        size,
        path,
        connections: opts.connections,
        response_cache: true,
        analyst_query: HEAVY_QUERY,
        analyst_queries_running: ours.pool?.running,
        analyst_queries_refused_429: ours.pool?.refused,
        analyst_queries_ran_through_the_load: ours.outlived,
        analyst_query_timeout_ms: queryTimeoutMs,
        uv_threadpool_size: process.env.UV_THREADPOOL_SIZE ?? '16 (bench default)',
        errors: o.errors,
        non2xx: o.non2xx,
        timeouts: o.timeouts,
        max_ms: o.latency.max,
        baseline_errors: b.errors,
        baseline_max_ms: b.latency.max,
      },
    };
  } catch (err) {
    return { ...skipped(name, rows, err instanceof Error ? err.message : String(err), baselineText), details: { size } };
  }
}

/** Rows of the batch dropped into the watched folder (issue 14: a 1,000-row batch). */
export const WATCH_BATCH_ROWS = 1000;

/**
 * A new payments batch of `rows` lines built from the generator's increment (new payments of
 * late December, within budget), ids made unique, the last line a planted 50,000 payment on
 * Sunday 2025-12-28 (treasury.nonworking_day), so the batch raises at least one new alert.
 */
export function watchBatch(incrementCsv: string, rows: number): string {
  const [header, ...lines] = readFileSync(incrementCsv, 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (!header?.startsWith('payment_id,fiscal_year,region_code,agency_code,indicator_id,func_code,econ_code,fund_source,')) {
    throw new Error(`${incrementCsv}: not the generator's payments layout`);
  }
  if (lines.length === 0) throw new Error(`${incrementCsv} holds no payments`);
  const out = [header];
  // payment_id is the first column and never quoted: a suffix keeps every id new.
  for (let i = 0; i < rows - 1; i++) {
    const l = lines[i % lines.length]!;
    const comma = l.indexOf(',');
    out.push(`${l.slice(0, comma)}-W${i}${l.slice(comma)}`);
  }
  // The first eight columns are codes (no quotes, no commas): reuse the first line's.
  const c = lines[0]!.split(',', 8);
  out.push(`PW-SUNDAY-1,${c[1]},${c[2]},${c[3]},${c[4]},${c[5]},${c[6]},${c[7]},,bench payee,6222000000000000001,org,50000.00,2025-12-28,direct,bench planted non-working-day payment,false`);
  return `${out.join('\n')}\n`;
}

/** Wait for the first alert (`data:` of a message without `event:`) on an SSE response; resolves with when it arrived. */
async function firstAlert(res: Response, signal: AbortSignal): Promise<{ at: number; alert: Record<string, unknown> }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    if (signal.aborted) throw new Error('no alert on SSE before the time limit');
    const { value, done } = await reader.read();
    if (done) throw new Error('the SSE stream ended before an alert');
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (/^event:/m.test(block)) continue; // checkpoints
      const data = /^data: ?(.*)$/m.exec(block);
      if (data) return { at: Date.now(), alert: JSON.parse(data[1]!) as Record<string, unknown> };
    }
  }
}

/**
 * watch_arrival_to_alert: `serve --watch` on the database with the pack's flags, an SSE client
 * subscribed from now, a 1,000-row payments batch copied into the folder; measured from the
 * start of the copy to the first alert on SSE. The goal is absolute (< 2 s): no baseline.
 */
async function watchScenario(size: number, db: string, work: string, fx: string, opts: BenchOptions): Promise<ScenarioResult> {
  const name = 'watch_arrival_to_alert';
  const baselineText = 'none: an absolute goal';
  const dir = join(work, 'watch-in');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const batch = join(work, 'treasury.payments_watch.csv');
  const server = startChild('serve_watch', { db, watchDir: dir, asOf: AS_OF }, opts.log);
  const abort = new AbortController();
  try {
    writeFileSync(batch, watchBatch(join(fx, 'increment', 'treasury.payments.csv'), WATCH_BATCH_ROWS));
    const port = (await server.ready).port;
    const res = await fetch(`http://127.0.0.1:${port}/v1/alerts/stream?from=now`, {
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    if (res.status !== 200) throw new Error(`GET /v1/alerts/stream?from=now answered ${res.status}`);
    // The stream has read max(seq) once its headers are out; give its first read a moment to park on the notifier.
    await new Promise((r) => setTimeout(r, 200));
    const timer = setTimeout(() => abort.abort(new Error('no alert on SSE within 120 s of the copy')), 120_000);
    const got = firstAlert(res, abort.signal);
    const t0 = Date.now();
    copyFileSync(batch, join(dir, 'treasury.payments_watch.csv'));
    const copied = Date.now();
    const { at, alert } = await got;
    clearTimeout(timer);
    abort.abort();
    server.stop();
    const done = await server.done;
    const events = (done.details?.watch_events ?? []) as { type: string; at: number }[];
    const ingested = events.find((e) => e.type === 'ingested');
    const rules = events.find((e) => e.type === 'rules');
    const seconds = (at - t0) / 1000;
    opts.log(`  ${name}: first alert ${Math.round(at - t0)} ms after the copy (ingested at +${ingested ? ingested.at - t0 : '?'} ms, rule run done at +${rules ? rules.at - t0 : '?'} ms)`);
    const ev = (alert.event ?? {}) as Record<string, unknown>;
    return {
      name,
      rows: WATCH_BATCH_ROWS,
      seconds: Math.round(seconds * 1000) / 1000,
      baseline: baselineText,
      baseline_seconds: null,
      ratio: null,
      peak_rss_mb: done.peak_rss_mb ?? null,
      status: 'ok',
      details: {
        size,
        batch_rows: WATCH_BATCH_ROWS,
        settle_ms: 500,
        copy_ms: copied - t0,
        ingested_after_ms: ingested ? ingested.at - t0 : null,
        rules_done_after_ms: rules ? rules.at - t0 : null,
        first_alert: { rule_id: alert.rule_id, event_type: ev.type, seq: ev.seq },
        watch_events: events.map((e) => ({ ...e, at: e.at - t0 })),
      },
    };
  } catch (err) {
    abort.abort();
    server.stop();
    const done = await server.done;
    // What the watcher said (a failed rule run, a refused file) is the reason worth reading.
    const said = ((done.details?.watch_events ?? []) as { type: string; message?: string; reason?: string }[])
      .filter((e) => e.type === 'error' || e.type === 'ignored')
      .map((e) => e.message ?? e.reason)
      .join('; ');
    const why = `${err instanceof Error ? err.message : String(err)}${said ? `; watcher: ${said}` : ''}`;
    return { ...skipped(name, WATCH_BATCH_ROWS, why.slice(0, 600), baselineText), details: { size, watch_events: done.details?.watch_events } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(batch, { force: true });
  }
}

/** The command that repeats this run (sizes as the CLI spells them). */
export function benchCommand(opts: Pick<BenchOptions, 'sizes' | 'only' | 'apiSeconds' | 'connections' | 'pairs'>): string {
  const parts = ['fiscus bench', `--sizes ${opts.sizes.map(sizeLabel).join(',')}`];
  if (opts.only) parts.push(`--only ${opts.only.join(',')}`);
  if (opts.pairs !== undefined) parts.push(`--pairs ${opts.pairs}`);
  parts.push(`--api-seconds ${opts.apiSeconds}`, `--connections ${opts.connections}`);
  return parts.join(' ');
}

export async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const machine = await describeMachine();
  const want = (n: string) => !opts.only || opts.only.includes(n);
  const scenarios: ScenarioResult[] = [];
  const preparation: Record<string, unknown>[] = [];
  mkdirSync(opts.workDir, { recursive: true });
  for (const size of opts.sizes) {
    const work = join(opts.workDir, `n${size}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const fx = join(work, 'fixtures');
    const db = (name: string) => join(work, `${name}.duckdb`);
    opts.log(`== ${size} payments ==`);
    const gen = await runChild('generate', { out: fx, payments: size, seed: 'bench', incrementPct: 1 }, opts.log);
    preparation.push({ size, step: 'generate_fixtures', seconds: r3(gen.seconds), peak_rss_mb: gen.peak_rss_mb ?? null, status: gen.kind, reason: gen.reason });
    if (gen.kind !== 'result') throw new Error(`fixture generation failed: ${gen.reason}`);
    const csv = join(fx, 'treasury.payments.csv');

    if (want('ingest_payments')) {
      const m = await measurePairs(opts.pairs, async () => {
        const sides: [ChildOutcome, ChildOutcome] = [
          await runChild('ingest_ours', { csv, db: db('ingest-ours') }, opts.log),
          await runChild('ingest_duckdb', { csv, db: db('ingest-base') }, opts.log),
        ];
        removeDb(db('ingest-ours'));
        removeDb(db('ingest-base'));
        return sides;
      });
      scenarios.push(pair('ingest_payments', size, size, 'DuckDB read_csv (explicit column types) into a plain table', m));
    }

    const needsDb = ['rules_pack', 'rules_incremental', 'api_alerts', 'api_flags', 'api_flags_query_load', 'watch_arrival_to_alert'].some(want);
    if (!needsDb) continue;
    const loaded = await runChild('load_db', { dir: fx, db: db('base') }, opts.log);
    preparation.push({ size, step: 'load_all_tables', seconds: r3(loaded.seconds), peak_rss_mb: loaded.peak_rss_mb ?? null, status: loaded.kind, reason: loaded.reason, loader: loaded.details?.loader });
    const notLoaded = loaded.kind === 'result' ? null : `loading the fixtures failed: ${loaded.reason}`;

    let rulesRan = false;
    if (['rules_pack', 'rules_incremental', 'api_alerts', 'api_flags', 'api_flags_query_load', 'watch_arrival_to_alert'].some(want)) {
      if (notLoaded) scenarios.push({ ...skipped('rules_pack', size, notLoaded, 'hand-written DuckDB SQL (rules/reference)'), details: { size } });
      else {
        // Each pair from the loaded database; the last pair's flags are what the later scenarios read.
        const ruleRun = async (): Promise<ChildOutcome> => {
          copyDb(db('base'), db('rules'));
          const ours = await runChild('rules_ours', { db: db('rules'), asOf: AS_OF, manifest: join(fx, 'manifest.json') }, opts.log);
          rulesRan = ours.kind === 'result';
          return ours;
        };
        if (want('rules_pack')) {
          const m = await measurePairs(opts.pairs, async () => {
            const ours = await ruleRun();
            if (ours.kind !== 'result') return [ours, { kind: 'skip', reason: 'our side failed' }];
            copyDb(db('base'), db('reference'));
            const base = await runChild('rules_reference', { db: db('reference'), asOf: AS_OF }, opts.log);
            removeDb(db('reference'));
            return [ours, base];
          });
          scenarios.push(pair('rules_pack', size, size, 'hand-written DuckDB SQL (rules/reference)', m));
        } else {
          await ruleRun();
        }
      }
    }
    if (want('rules_incremental')) {
      const baseText = 'a full run of the pack on the same data';
      if (!rulesRan) scenarios.push({ ...skipped('rules_incremental', size, notLoaded ?? 'the first full rule run (rules_pack) did not run', baseText), details: { size } });
      else {
        const m = await measurePairs(opts.pairs, async () => {
          copyDb(db('rules'), db('incremental'));
          const ours = await runChild('rules_incremental', { db: db('incremental'), fullDb: db('full'), incDir: join(fx, 'increment'), asOf: AS_OF }, opts.log);
          const base = ours.kind === 'result' ? await runChild('rules_full', { db: db('full'), asOf: AS_OF }, opts.log) : { kind: 'skip' as const, reason: 'incremental side failed' };
          removeDb(db('incremental'));
          removeDb(db('full'));
          return [ours, base];
        });
        scenarios.push(pair('rules_incremental', Math.round(size * 0.01), size, baseText, m));
      }
    }
    if (want('api_alerts') || want('api_flags')) {
      if (!rulesRan) {
        for (const n of ['api_alerts', 'api_flags'].filter(want)) {
          scenarios.push({ ...skipped(n, size, notLoaded ?? 'no flags to serve: the rule run (rules_pack) did not run', 'bare fastify route returning the same bytes'), details: { size } });
        }
      } else {
        copyDb(db('rules'), db('api'));
        scenarios.push(...(await apiScenarios(size, size, db('api'), work, opts)));
        rmSync(db('api'), { force: true });
      }
    }
    if (want('api_flags_query_load')) {
      if (!rulesRan) {
        scenarios.push({ ...skipped('api_flags_query_load', size, notLoaded ?? 'no flags to serve: the rule run (rules_pack) did not run', 'the same /v1/flags load with no analyst queries'), details: { size } });
      } else {
        copyDb(db('rules'), db('api-load'));
        scenarios.push(await queryLoadScenario(size, size, db('api-load'), work, opts));
        rmSync(db('api-load'), { force: true });
      }
    }
    if (want('watch_arrival_to_alert')) {
      if (!rulesRan) {
        scenarios.push({ ...skipped('watch_arrival_to_alert', WATCH_BATCH_ROWS, notLoaded ?? 'no flags: the rule run (rules_pack) did not run', 'none: an absolute goal'), details: { size } });
      } else {
        // This scenario writes (batch, flags, chained events): the copy needs the event log's key and checkpoints too.
        copyDb(db('rules'), db('watch'));
        scenarios.push(await watchScenario(size, db('watch'), work, fx, opts));
        removeDb(db('watch'));
      }
    }
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
  }
  const finalized = scenarios.map(finalize);
  const results: BenchResults & { preparation: unknown[] } = {
    machine,
    settings: {
      command: benchCommand(opts),
      duckdb_memory_limit: duckdbMemoryLimit(),
      only: opts.only ?? null,
      api_seconds: opts.apiSeconds,
      connections: opts.connections,
    },
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    mode: opts.mode,
    sizes: opts.sizes,
    scenarios: finalized,
    growth: growth(finalized, opts.sizes),
    preparation,
  };
  writeFileSync(opts.resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}
