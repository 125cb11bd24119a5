/**
 * The append-only, hash-chained log of everything that happens to a flag.
 *
 * Rules append `flag.discovered` / `flag.not_reproduced` / `flag.reproduced`;
 * the tracker appends every closed-loop action. Each event's hash covers its
 * own content and the previous event's hash, so changing or deleting any
 * stored event breaks the chain at that event (`verifyEventChain`). `seq` is
 * strictly increasing and is the alert feed's cursor.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DuckDBDataChunkWriter, DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { Store } from './db.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface NewFlagEvent {
  flag_id: string;
  event_type: string;
  from_status?: string | null;
  to_status?: string | null;
  actor: string;
  role: string;
  note?: string | null;
  data?: unknown;
  /** Defaults to now. */
  at?: Date;
}

export interface FlagEvent {
  seq: number;
  event_id: string;
  flag_id: string;
  event_type: string;
  from_status: string | null;
  to_status: string | null;
  actor: string;
  role: string;
  /** Milliseconds since the epoch (UTC). */
  at_ms: number;
  note: string | null;
  /** Canonical JSON text, or null. */
  data: string | null;
  prev_hash: string;
  hash: string;
}

/** JSON with object keys sorted, so the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return typeof v === 'bigint' ? v.toString() : v;
  });
}

export function eventHash(e: Omit<FlagEvent, 'hash'>): string {
  const body = canonicalJson([
    e.seq, e.event_id, e.flag_id, e.event_type, e.from_status, e.to_status,
    e.actor, e.role, e.at_ms, e.note, e.data, e.prev_hash,
  ]);
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Append events in order, chained to the current tail. Run it inside the same
 * transaction as the state change it records, so the two land together.
 */
export async function appendFlagEvents(store: Store, events: readonly NewFlagEvent[]): Promise<FlagEvent[]> {
  if (events.length === 0) return [];
  const tail = await store.one<{ seq: string | number; hash: string }>(
    'SELECT seq, hash FROM fiscus.flag_events ORDER BY seq DESC LIMIT 1',
  );
  let seq = tail ? Number(tail.seq) : 0;
  let prev = tail?.hash ?? GENESIS_HASH;
  const out: FlagEvent[] = [];
  for (const e of events) {
    seq += 1;
    const partial: Omit<FlagEvent, 'hash'> = {
      seq,
      event_id: randomUUID(),
      flag_id: e.flag_id,
      event_type: e.event_type,
      from_status: e.from_status ?? null,
      to_status: e.to_status ?? null,
      actor: e.actor,
      role: e.role,
      at_ms: (e.at ?? new Date()).getTime(),
      note: e.note ?? null,
      data: e.data === undefined || e.data === null ? null : canonicalJson(e.data),
      prev_hash: prev,
    };
    const full = { ...partial, hash: eventHash(partial) };
    out.push(full);
    prev = full.hash;
  }
  // Chunked appends: several times faster than value-by-value for the
  // thousands of events a first rule run writes (STACK-NOTES.md).
  const appender = await store.conn.createAppender('flag_events', 'fiscus');
  try {
    const writer = DuckDBDataChunkWriter.forAppender(appender);
    for (const e of out) {
      writer.appendRow([
        BigInt(e.seq), e.event_id, e.flag_id, e.event_type, e.from_status, e.to_status,
        e.actor, e.role, timestampTZ(e.at_ms), e.note, e.data, e.prev_hash, e.hash,
      ]);
    }
    writer.flush();
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return out;
}

function timestampTZ(ms: number) {
  // DuckDB timestamps are microseconds since the epoch.
  return new DuckDBTimestampTZValue(BigInt(ms) * 1000n);
}

/** Read events (for the feed, for a flag's history, for verification), oldest first. */
export async function readFlagEvents(
  store: Store,
  where: { flagId?: string; afterSeq?: number; limit?: number } = {},
): Promise<FlagEvent[]> {
  const conds: string[] = [];
  const params: Record<string, string | number> = {};
  if (where.flagId !== undefined) {
    conds.push('flag_id = $flag_id');
    params.flag_id = where.flagId;
  }
  if (where.afterSeq !== undefined) {
    conds.push('seq > $after');
    params.after = where.afterSeq;
  }
  const limit = where.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(where.limit))}` : '';
  const rows = await store.all<Record<string, unknown>>(
    `SELECT seq, event_id, flag_id, event_type, from_status, to_status, actor, role,
            epoch_ms(occurred_at) AS at_ms, note, data::VARCHAR AS data, prev_hash, hash
     FROM fiscus.flag_events ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''}
     ORDER BY seq ${limit}`,
    params,
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    event_id: String(r.event_id),
    flag_id: String(r.flag_id),
    event_type: String(r.event_type),
    from_status: (r.from_status as string | null) ?? null,
    to_status: (r.to_status as string | null) ?? null,
    actor: String(r.actor),
    role: String(r.role),
    at_ms: Number(r.at_ms),
    note: (r.note as string | null) ?? null,
    data: (r.data as string | null) ?? null,
    prev_hash: String(r.prev_hash),
    hash: String(r.hash),
  }));
}

export interface ChainCheck {
  ok: boolean;
  events: number;
  /** The first event that does not verify, and why. */
  broken?: { seq: number; event_id: string; reason: string };
}

/** Walk the whole chain; name the first event that was changed, removed or inserted. */
export async function verifyEventChain(store: Store): Promise<ChainCheck> {
  const events = await readFlagEvents(store);
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const e of events) {
    if (e.seq !== expectedSeq) {
      return {
        ok: false,
        events: events.length,
        broken: { seq: e.seq, event_id: e.event_id, reason: `sequence gap: expected event #${expectedSeq}, found #${e.seq} (an event was deleted)` },
      };
    }
    if (e.prev_hash !== prev) {
      return {
        ok: false,
        events: events.length,
        broken: { seq: e.seq, event_id: e.event_id, reason: 'prev_hash does not match the previous event (an event before it was deleted or replaced)' },
      };
    }
    const { hash, ...rest } = e;
    if (eventHash(rest) !== hash) {
      return { ok: false, events: events.length, broken: { seq: e.seq, event_id: e.event_id, reason: 'content does not match its hash (the event was edited)' } };
    }
    prev = hash;
    expectedSeq++;
  }
  return { ok: true, events: events.length };
}
