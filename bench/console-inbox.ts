/**
 * The console inbox at 100,000 flags: `npx tsx bench/console-inbox.ts [flags=100000] [pages=50]`.
 *
 * Builds a throwaway database with N flags (60 agencies under 12 departments, mixed statuses,
 * due dates, amounts), starts the real server and times GET /v1/console/inbox over HTTP:
 * the first page, page `pages` reached by following keyset cursors, each sort, and the
 * filters (agency subtree, overdue, text, period). Baseline: the same page read with
 * LIMIT/OFFSET in SQL (what a page-number pager would run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../engine/db.ts';
import { buildServer } from '../api/server.ts';

const N = Number(process.argv[2] ?? 100_000);
const PAGES = Number(process.argv[3] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'fiscus-inbox-bench-'));
const store = await openStore(join(dir, 'db.duckdb'));
const token = 'bench-analyst-token-0123456789';

await store.run(`INSERT INTO ref.agencies (agency_code, agency_name, dept_code, region_code, _batch_id, _row_hash, _ingested_at)
  SELECT 'A' || lpad(i::VARCHAR, 4, '0'), '单位' || i, 'A' || lpad((i % 12)::VARCHAR, 4, '0'), '370800', 'b', i, now() FROM range(60) t(i)`);
const t0 = performance.now();
await store.run(`INSERT INTO fiscus.flags (flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name,
    region_code, agency_code, fiscal_year, period_start, period_end, measure_name, measure_value, measure_threshold, amount,
    evidence, status, reproduced, first_seen_at, last_seen_at, due_date, assigned_to)
  SELECT md5(i::VARCHAR), ['treasury.split_payment','treasury.no_budget','debt.ratio','asset.idle'][1 + i % 4], 1,
    ['high','medium','low'][1 + i % 3], '拆分支付：单位' || (i % 60) || ' 第' || i || '号', 'Split payment ' || i, 'payment', 'P' || i, '供应商' || (i % 997),
    '370800', 'A' || lpad((i % 60)::VARCHAR, 4, '0'), 2025, DATE '2025-01-01' + (i % 360)::INTEGER, DATE '2025-01-01' + (i % 360)::INTEGER + 3,
    'window_total', '612000.00', '200000.00', ((i * 7919) % 10000000) / 100.0,
    '[]', ['discovered','confirmed','assigned','rectifying','rectified','verified'][1 + i % 6], true,
    TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i * 60), TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i * 60),
    CASE WHEN i % 6 IN (2, 3) THEN DATE '2026-01-01' + (i % 400)::INTEGER END, CASE WHEN i % 6 >= 2 THEN 'A' || lpad((i % 60)::VARCHAR, 4, '0') END
  FROM range(${N}) t(i)`);
console.error(`inserted ${N} flags in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const app = await buildServer({ store, tokens: [{ token, role: 'analyst', name: 'bench' }], logger: false, rateLimitPerMinute: false, responseCacheEntries: 0 });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const get = async (q: string) => {
  const t = performance.now();
  const res = await fetch(`${url}/v1/console/inbox?${q}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { items: unknown[]; next_cursor: string | null; total: number };
  if (res.status !== 200) throw new Error(`${q}: ${res.status} ${JSON.stringify(body)}`);
  return { ms: performance.now() - t, body };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(label: string, q: string, runs = 7) {
  await get(q);
  const ms: number[] = [];
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const r = await get(q);
    ms.push(r.ms);
    total = r.body.total;
  }
  console.log(`${label.padEnd(44)} ${median(ms).toFixed(1).padStart(7)} ms  (total ${total})`);
}

console.log(`GET /v1/console/inbox, ${N} flags, limit 20, median of 7 over HTTP`);
for (const sort of ['newest', 'severity', 'amount', 'due']) await time(`first page, sort=${sort}`, `limit=20&sort=${sort}`);
await time('agency subtree (department A0003)', 'limit=20&agency=A0003');
await time('overdue only', 'limit=20&overdue=true');
await time('text search (供应商42)', `limit=20&q=${encodeURIComponent('供应商42')}`);
await time('period 2025-06-01..2025-06-30 + status', 'limit=20&period_from=2025-06-01&period_to=2025-06-30&status=assigned,rectifying');

// Follow the keyset cursors to page PAGES, then time that page.
let cursor: string | null = null;
for (let p = 1; p < PAGES; p++) {
  const r = await get(`limit=20&sort=amount${cursor ? `&cursor=${cursor}` : ''}`);
  cursor = r.body.next_cursor;
}
await time(`page ${PAGES} by keyset cursor, sort=amount`, `limit=20&sort=amount&cursor=${cursor}`);

// Baseline: the same page by OFFSET (what a numbered pager would run), straight on the database.
const offset = async (page: number) => {
  const t = performance.now();
  await store.all(`SELECT flag_id FROM fiscus.flags ORDER BY coalesce(amount, -1) DESC, flag_id DESC LIMIT 20 OFFSET ${(page - 1) * 20}`);
  return performance.now() - t;
};
for (const page of [PAGES, Math.floor(N / 20)]) {
  const ms: number[] = [];
  for (let i = 0; i < 7; i++) ms.push(await offset(page));
  console.log(`${`baseline: OFFSET page ${page}, SQL only`.padEnd(44)} ${median(ms).toFixed(1).padStart(7)} ms`);
}
await app.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
