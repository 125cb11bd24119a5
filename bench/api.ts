/**
 * Latency of the API under load, measured from a second process on loopback.
 *
 * `benchApi({ flags, seconds })` builds a temporary database with `flags` flags (one
 * flag.discovered event each, spread over agencies), starts the real server (auth,
 * rate limiter, scope, DuckDB) and a bare fastify server that returns the very same
 * bytes, and drives both with autocannon in a child process. The difference is what
 * the API itself costs: auth, validation, the DuckDB query and JSON.
 *
 * Run alone: `npx tsx bench/api.ts [flags] [seconds]`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { openStore, type Store } from '../engine/db.ts';
import { appendFlagEvents } from '../engine/flag-events.ts';
import { buildServer } from '../api/server.ts';
import { encodeSeqCursor } from '../api/cursor.ts';

export interface LoadResult {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  rps: number;
  errors: number;
  non2xx: number;
  bytes: number;
}

export interface BenchResult {
  flags: number;
  seconds: number;
  connections: number;
  /** Latencies in ms; `baseline` = bare fastify returning the same bytes. */
  endpoints: Record<string, { api: LoadResult; baseline: LoadResult; path: string }>;
  /** Convenience: GET /v1/alerts (a 100-item page) — the headline numbers. */
  p50: number;
  p99: number;
  rps: number;
  baseline: { p50: number; p99: number; rps: number };
}

const TOKEN = 'bench-analyst-token-0123456789';
const PORTAL = 'bench-portal-token-0123456789';
const AGENCY = 'bench-agency-token-0123456789';

/** Insert `n` flags in one statement and their discovered events through the engine (hash chain intact). */
export async function seedFlags(store: Store, n: number): Promise<void> {
  await store.transaction(async () => {
    await store.run(
      `INSERT INTO fiscus.flags (flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name,
         region_code, agency_code, fiscal_year, period_start, period_end, measure_name, measure_value, measure_threshold, amount,
         evidence, status, reproduced, first_seen_at, last_seen_at)
       SELECT printf('F%06d', i), ['treasury.split_payment', 'treasury.no_budget', 'debt.ratio', 'asset.idle'][i % 4 + 1], 1,
         ['high', 'medium', 'low'][i % 3 + 1],
         printf('拆分支付：单位%03d 向 某某公司 7日内支付%d笔，合计%s元', i % 200, 3 + i % 5, (200000 + i)::VARCHAR),
         printf('Split payment: agency %03d', i % 200), 'payee', printf('A%04d|6222%06d', i % 200, i), NULL,
         '370811', printf('A%04d', i % 200), 2025, DATE '2025-03-03' + (i % 300)::INTEGER, DATE '2025-03-07' + (i % 300)::INTEGER,
         'window_total', (200000 + i)::VARCHAR || '.00', '200000.00', (200000 + i)::DECIMAL(18,2),
         printf('[{"table":"treasury.payments","key":"P%07d"},{"table":"treasury.payments","key":"P%07d"}]', i * 2, i * 2 + 1)::JSON,
         'discovered', true, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i), TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i)
       FROM range(${Math.floor(n)}) t(i)`,
    );
    const ids = await store.all<{ flag_id: string }>('SELECT flag_id FROM fiscus.flags ORDER BY flag_id');
    await appendFlagEvents(
      store,
      ids.map((r) => ({ flag_id: r.flag_id, event_type: 'flag.discovered', to_status: 'discovered', actor: 'rules', role: 'system' })),
    );
  });
}

/** autocannon in a child process (a second process: the load generator does not share the server's event loop). */
function loadFromChild(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<LoadResult> {
  const script = `
    import autocannon from 'autocannon';
    const cfg = JSON.parse(process.argv[1]);
    const r = await autocannon({ url: cfg.url, headers: cfg.headers, duration: cfg.seconds, connections: cfg.connections, pipelining: 1 });
    process.stdout.write(JSON.stringify({ p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max,
      rps: r.requests.average, errors: r.errors + r.timeouts, non2xx: r.non2xx, bytes: r.throughput.average }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify({ url, headers, seconds, connections })], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`autocannon child exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as LoadResult);
    });
  });
}

export async function benchApi(opts: { flags?: number; seconds?: number; connections?: number; warmupSeconds?: number } = {}): Promise<BenchResult> {
  const flags = opts.flags ?? 10_000;
  const seconds = opts.seconds ?? 5;
  const connections = opts.connections ?? 10;
  const warm = opts.warmupSeconds ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'fiscus-bench-api-'));
  const store = await openStore(join(dir, 'bench.duckdb'));
  await store.run("INSERT INTO ref.agencies SELECT printf('A%04d', i), '单位' || i, printf('A%04d', i), '370811', NULL, 'b', 1, now() FROM range(200) t(i)");
  await seedFlags(store, flags);
  const app = await buildServer({
    store,
    tokens: [
      { token: TOKEN, role: 'analyst', name: 'bench' },
      { token: PORTAL, role: 'portal', name: 'portal' },
      { token: AGENCY, role: 'agency', agency_code: 'A0007', name: 'agency' },
    ],
    logger: false,
    // The limiter stays in the path (its cost is part of the API), with room for the load.
    rateLimitPerMinute: 100_000_000,
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const mid = encodeSeqCursor(Math.floor(flags / 2));
  const tail = encodeSeqCursor(flags);
  const cases: Record<string, { path: string; token: string }> = {
    'GET /v1/alerts (100 items)': { path: `/v1/alerts?limit=100&cursor=${mid}`, token: PORTAL },
    'GET /v1/alerts (tail poll, 0 items)': { path: `/v1/alerts?cursor=${tail}`, token: PORTAL },
    'GET /v1/flags (100 items)': { path: '/v1/flags?limit=100', token: TOKEN },
    'GET /v1/flags (filtered: severity+rule)': { path: '/v1/flags?limit=50&severity=high&rule=treasury.split_payment', token: TOKEN },
    'GET /v1/flags (agency token)': { path: '/v1/flags?limit=50', token: AGENCY },
  };

  // The bare baseline: same bytes, no auth, no DB, no plugins.
  const bare = Fastify({ logger: false });
  const bodies = new Map<string, string>();
  for (const [name, c] of Object.entries(cases)) {
    const res = await fetch(`${base}${c.path}`, { headers: { authorization: `Bearer ${c.token}` } });
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${await res.text()}`);
    bodies.set(name, await res.text());
  }
  let k = 0;
  const barePaths = new Map<string, string>();
  for (const [name, body] of bodies) {
    const p = `/same-bytes-${k++}`;
    barePaths.set(name, p);
    bare.get(p, (_req, reply) => {
      reply.header('content-type', 'application/json; charset=utf-8').send(body);
    });
  }
  const bareBase = await bare.listen({ host: '127.0.0.1', port: 0 });

  const endpoints: BenchResult['endpoints'] = {};
  try {
    for (const [name, c] of Object.entries(cases)) {
      const headers = { authorization: `Bearer ${c.token}` };
      if (warm > 0) await loadFromChild(`${base}${c.path}`, headers, warm, connections);
      const api = await loadFromChild(`${base}${c.path}`, headers, seconds, connections);
      if (warm > 0) await loadFromChild(`${bareBase}${barePaths.get(name)}`, {}, warm, connections);
      const baseline = await loadFromChild(`${bareBase}${barePaths.get(name)}`, {}, seconds, connections);
      endpoints[name] = { api, baseline, path: c.path };
    }
  } finally {
    await bare.close();
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const head = endpoints['GET /v1/alerts (100 items)']!;
  return {
    flags,
    seconds,
    connections,
    endpoints,
    p50: head.api.p50,
    p99: head.api.p99,
    rps: head.api.rps,
    baseline: { p50: head.baseline.p50, p99: head.baseline.p99, rps: head.baseline.rps },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flags = Number(process.argv[2] ?? 10_000);
  const seconds = Number(process.argv[3] ?? 5);
  const r = await benchApi({ flags, seconds });
  const rows = Object.entries(r.endpoints).map(([name, e]) => ({
    endpoint: name,
    'api p50 ms': e.api.p50,
    'api p99 ms': e.api.p99,
    'api req/s': Math.round(e.api.rps),
    'bare p50 ms': e.baseline.p50,
    'bare p99 ms': e.baseline.p99,
    'bare req/s': Math.round(e.baseline.rps),
    'KiB/resp': Math.round((e.api.bytes / Math.max(1, e.api.rps)) / 102.4) / 10,
    errors: e.api.errors + e.api.non2xx,
  }));
  console.table(rows);
}
