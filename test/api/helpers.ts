/** Shared setup for the API tests: a real DuckDB file, real flags and events, a real listening server. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '../../engine/db.ts';
import { appendFlagEvents } from '../../engine/flag-events.ts';
import { buildServer, type ServerOptions } from '../../api/server.ts';
import type { TokenEntry } from '../../api/tokens.ts';
import { testDbLocation } from '../helpers/postgres.ts';

export const TOKENS: TokenEntry[] = [
  { token: 'admin-token-0123456789', role: 'admin', name: 'admin' },
  { token: 'analyst-token-0123456789', role: 'analyst', name: 'ana' },
  { token: 'supervisor-token-0123456789', role: 'supervisor', name: 'sup' },
  { token: 'portal-token-0123456789', role: 'portal', name: 'portal' },
  // A department (D01) with units A0101 and A0102, and an unrelated agency B0201.
  { token: 'dept-d01-token-0123456789', role: 'agency', agency_code: 'D01', name: 'dept-d01' },
  { token: 'unit-a0101-token-0123456789', role: 'agency', agency_code: 'A0101', name: 'unit-a0101' },
  { token: 'agency-b0201-token-0123456789', role: 'agency', agency_code: 'B0201', name: 'agency-b0201' },
];

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });
export const T = {
  admin: 'admin-token-0123456789',
  analyst: 'analyst-token-0123456789',
  supervisor: 'supervisor-token-0123456789',
  portal: 'portal-token-0123456789',
  dept: 'dept-d01-token-0123456789',
  unit: 'unit-a0101-token-0123456789',
  other: 'agency-b0201-token-0123456789',
};

/** A fresh Store: a DuckDB file in `dir`, or a PostgreSQL database (FISCUS_TEST_ENGINE=postgres); `db` is what `--db` takes. */
export async function tempStore(): Promise<{ store: Store; dir: string; db: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fiscus-api-'));
  const db = testDbLocation(join(dir, 'db.duckdb'));
  const store = await openStore(db);
  return {
    store,
    dir,
    db,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function seedAgencies(store: Store): Promise<void> {
  await store.run(`INSERT INTO ref.agencies (agency_code, agency_name, dept_code, region_code, _batch_id, _row_hash, _ingested_at) VALUES
    ('D01', '市教育局', 'D01', '370811', 'b', '1', now()),
    ('A0101', '市第一中学', 'D01', '370811', 'b', '2', now()),
    ('A0102', '市第二中学', 'D01', '370811', 'b', '3', now()),
    ('B0201', '市卫健委', 'B0201', '370812', 'b', '4', now())`);
}

export interface FlagSpec {
  flag_id: string;
  agency_code?: string | null;
  region_code?: string | null;
  rule_id?: string;
  severity?: string;
  status?: string;
  fiscal_year?: number;
  amount?: string | null;
  evidence?: { table: string; key: string }[];
  first_seen_at?: string;
  reproduced?: boolean;
}

/** Insert flags and their flag.discovered events in one transaction (as the rule runner does). */
export async function insertFlags(store: Store, specs: readonly FlagSpec[]): Promise<void> {
  await store.transaction(async () => {
    for (const f of specs) {
      await store.run(
        `INSERT INTO fiscus.flags (flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name,
           region_code, agency_code, fiscal_year, period_start, period_end, measure_name, measure_value, measure_threshold, amount,
           evidence, status, reproduced, first_seen_at, last_seen_at)
         VALUES ($id, $rule, 1, $sev, '拆分支付：' || $id, 'Split payment: ' || $id, 'payment', $id, NULL,
           $region, $agency, $fy, DATE '2025-03-03', DATE '2025-03-07', 'window_total', '612000.00', '200000.00', $amount::DECIMAL(18,2),
           $evidence, $status, $rep, $seen::TIMESTAMPTZ, $seen::TIMESTAMPTZ)`,
        {
          id: f.flag_id,
          rule: f.rule_id ?? 'treasury.split_payment',
          sev: f.severity ?? 'high',
          region: f.region_code === undefined ? '370811' : f.region_code,
          agency: f.agency_code === undefined ? 'A0101' : f.agency_code,
          fy: f.fiscal_year ?? 2025,
          amount: f.amount === undefined ? '612000.00' : f.amount,
          evidence: JSON.stringify(f.evidence ?? []),
          status: f.status ?? 'discovered',
          rep: f.reproduced ?? true,
          seen: f.first_seen_at ?? new Date().toISOString(),
        },
      );
    }
    await appendFlagEvents(
      store,
      specs.map((f) => ({ flag_id: f.flag_id, event_type: 'flag.discovered', to_status: 'discovered', actor: 'rules', role: 'system' })),
    );
  });
}

/** Append one more event to existing flags (e.g. a status change made elsewhere). */
export async function appendEvent(store: Store, flagId: string, type = 'flag.overdue'): Promise<void> {
  await store.transaction(async () => {
    await appendFlagEvents(store, [{ flag_id: flagId, event_type: type, actor: 'tracker', role: 'system', note: 'test' }]);
  });
}

export async function startServer(
  store: Store,
  opts: Partial<ServerOptions> = {},
): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildServer({ store, tokens: TOKENS, logger: false, pollIntervalMs: 50, sseHeartbeatMs: 1000, ...opts });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

export async function getJson(url: string, token: string | undefined, init: RequestInit = {}): Promise<{ status: number; type: string; body: any }> {
  const res = await fetch(url, { ...init, headers: { ...(token ? auth(token) : {}), ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/**
 * A minimal EventSource over fetch: yields parsed events until `close()`.
 * `event: checkpoint` messages (signed log checkpoints, api/routes/alerts.ts) are kept
 * apart in `checkpoints`, so `next()` yields alerts only.
 */
export function openSse(url: string, token: string, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const queue: SseEvent[] = [];
  const checkpoints: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let ended = false;
  let status = 0;
  let contentType = '';
  let comments = 0;
  const done = (async () => {
    try {
      const res = await fetch(url, { headers: { ...auth(token), accept: 'text/event-stream', ...headers }, signal: ac.signal });
      status = res.status;
      contentType = res.headers.get('content-type') ?? '';
      if (!res.body) return;
      const dec = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev: SseEvent = { data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments++;
            else if (line.startsWith('id:')) ev.id = line.slice(3).trim();
            else if (line.startsWith('event:')) ev.event = line.slice(6).trim();
            else if (line.startsWith('data:')) {
              ev.data += (hasData ? '\n' : '') + line.slice(5).replace(/^ /, '');
              hasData = true;
            }
          }
          if (hasData && ev.event === 'checkpoint') {
            checkpoints.push(ev);
            waiters.splice(0).forEach((w) => w());
          } else if (hasData) {
            queue.push(ev);
            waiters.splice(0).forEach((w) => w());
          }
        }
      }
    } catch {
      /* aborted */
    } finally {
      ended = true;
      waiters.splice(0).forEach((w) => w());
    }
  })();
  return {
    get status() {
      return status;
    },
    get contentType() {
      return contentType;
    },
    get comments() {
      return comments;
    },
    get ended() {
      return ended;
    },
    /** The `event: checkpoint` messages received so far. */
    checkpoints,
    /** Next event, or undefined when the stream ended or `timeoutMs` passed. */
    async next(timeoutMs = 10_000): Promise<SseEvent | undefined> {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0 && !ended && Date.now() < deadline) {
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, Math.max(1, deadline - Date.now()));
        });
      }
      return queue.shift();
    },
    async close() {
      ac.abort();
      await done;
    },
    done,
  };
}
