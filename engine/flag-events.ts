/**
 * The append-only, keyed, hash-chained log of everything that happens to a flag.
 *
 * Rules append `flag.discovered` / `flag.not_reproduced` / `flag.reproduced`;
 * the tracker appends every closed-loop action. Each event's hash is an
 * HMAC-SHA256, under the deployment's log key (engine/log-key.ts, a file
 * outside the database), of its own content, its seq, the previous event's
 * hash and the key version's id (`key_id`). Someone who can write the database
 * file but not read the key cannot recompute the chain after an edit, a
 * deletion or an insertion. After every committed append the new head is
 * signed into the checkpoint log (engine/checkpoints.ts), which catches a
 * truncated tail. `seq` is strictly increasing and is the alert feed's cursor.
 *
 * Events written before the log was keyed (key_id NULL, plain SHA-256) are a
 * legacy prefix: verified with the old algorithm, and anchored because the
 * first keyed event's HMAC covers the last legacy hash.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { Store } from './db.ts';
import { FiscusError } from './errors.ts';
import { checkpointAfterCommit } from './checkpoints.ts';
import { keyById, keyringForAppend, loadKeyring, type LogKeyring } from './log-key.ts';

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
  /** The log key version that keyed `hash`; null for a legacy (unkeyed SHA-256) event. */
  key_id: string | null;
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

/** The legacy algorithm (events with key_id NULL): public, so it protects nothing on its own. */
export function eventHash(e: Omit<FlagEvent, 'hash' | 'key_id'>): string {
  const body = canonicalJson([
    e.seq, e.event_id, e.flag_id, e.event_type, e.from_status, e.to_status,
    e.actor, e.role, e.at_ms, e.note, e.data, e.prev_hash,
  ]);
  return createHash('sha256').update(body).digest('hex');
}

/** HMAC-SHA256 under the key version's secret, over the content, seq, prev_hash and key_id. */
export function keyedEventHash(secret: Buffer, e: Omit<FlagEvent, 'hash'> & { key_id: string }): string {
  const body = canonicalJson([
    'fiscus.flag_event.hmac-sha256.v1',
    e.seq, e.event_id, e.flag_id, e.event_type, e.from_status, e.to_status,
    e.actor, e.role, e.at_ms, e.note, e.data, e.prev_hash, e.key_id,
  ]);
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Append events in order, chained to the current tail and keyed with the
 * current log key (created on first use). Run it inside the same transaction
 * as the state change it records, so the two land together; called outside
 * one, it opens its own. The head is signed into the checkpoint log after the
 * transaction commits (never for a rolled-back append).
 */
export async function appendFlagEvents(store: Store, events: readonly NewFlagEvent[]): Promise<FlagEvent[]> {
  if (events.length === 0) return [];
  return store.transaction(() => appendInTransaction(store, events));
}

async function appendInTransaction(store: Store, events: readonly NewFlagEvent[]): Promise<FlagEvent[]> {
  const ring = await keyringForAppend(store);
  const key = ring.current;
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
      key_id: key.id,
    };
    const full: FlagEvent = { ...partial, hash: keyedEventHash(key.hmac, { ...partial, key_id: key.id }) };
    out.push(full);
    prev = full.hash;
  }
  const rows = out.map((e) => [
    BigInt(e.seq), e.event_id, e.flag_id, e.event_type, e.from_status, e.to_status,
    e.actor, e.role, timestampTZ(e.at_ms), e.note, e.data, e.prev_hash, e.hash, e.key_id,
  ]);
  // ---- The one write of the log: the Store's appender (atomic, in this transaction). ----
  // Chunked appends: several times faster than value-by-value for the
  // thousands of events a first rule run writes (STACK-NOTES.md).
  await store.append({ table: 'flag_events', schema: 'fiscus' }, rows);
  // ---- end of the write ----
  checkpointAfterCommit(store, key, { seq: out.at(-1)!.seq, hash: out.at(-1)!.hash });
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
            ${store.dialect.epochMs('occurred_at')} AS at_ms, note, CAST(data AS VARCHAR) AS data, prev_hash, hash, key_id
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
    key_id: (r.key_id as string | null) ?? null,
  }));
}

export interface ChainCheck {
  ok: boolean;
  events: number;
  /** Events before the log was keyed (plain SHA-256, verified with the old algorithm). */
  legacy_events: number;
  /** The last event's seq and hash (seq 0 when empty). */
  head: { seq: number; hash: string };
  /** The first event that does not verify, and why. */
  broken?: { seq: number; event_id: string; reason: string };
}

/**
 * Walk the whole chain with the keyring; name the first event that was changed,
 * removed, inserted or written without the key. Key versions never go back.
 */
export function verifyEvents(events: readonly FlagEvent[], ring: LogKeyring | null): ChainCheck {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let legacy = 0;
  let version = 0;
  const fail = (e: FlagEvent, reason: string): ChainCheck => ({
    ok: false,
    events: events.length,
    legacy_events: legacy,
    head: head(events),
    broken: { seq: e.seq, event_id: e.event_id, reason },
  });
  for (const e of events) {
    if (e.seq !== expectedSeq) return fail(e, `sequence gap: expected event #${expectedSeq}, found #${e.seq} (an event was deleted)`);
    if (e.prev_hash !== prev) return fail(e, 'prev_hash does not match the previous event (an event before it was deleted or replaced)');
    const { hash, ...rest } = e;
    if (e.key_id === null) {
      if (version > 0) return fail(e, 'unkeyed event after keyed ones: written without the log key (forged with the public algorithm)');
      if (ring && legacy >= ring.legacy.events) {
        return fail(e, `unkeyed event, but the log key was created when the log had ${ring.legacy.events} unkeyed event(s): written without the key (forged with the public algorithm)`);
      }
      if (eventHash(rest) !== hash) return fail(e, 'content does not match its hash (the event was edited)');
      legacy++;
      if (ring && legacy === ring.legacy.events && hash !== ring.legacy.head_hash) {
        return fail(e, 'the last legacy event does not match the hash the log key recorded for it (the legacy prefix was rewritten)');
      }
    } else {
      if (ring && legacy < ring.legacy.events) {
        return fail(e, `keyed event where the log key records legacy event #${legacy + 1} of ${ring.legacy.events} (the legacy prefix was shortened or rewritten)`);
      }
      const key = ring ? keyById(ring, e.key_id) : undefined;
      if (!key) return fail(e, `keyed with ${e.key_id}, which is not in the log key file (forged, or the wrong key file)`);
      if (key.version < version) return fail(e, `keyed with ${e.key_id} (v${key.version}) after events keyed with v${version}: key versions never go back after a rotation`);
      if (keyedEventHash(key.hmac, { ...rest, key_id: e.key_id }) !== hash) {
        return fail(e, 'HMAC does not match its content: the event was edited, or written without the log key (forged)');
      }
      version = key.version;
    }
    prev = hash;
    expectedSeq++;
  }
  return { ok: true, events: events.length, legacy_events: legacy, head: head(events) };
}

function head(events: readonly FlagEvent[]): { seq: number; hash: string } {
  const last = events.at(-1);
  return last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
}

/** `verifyEvents` over the stored log with the store's keyring (which must exist when any event is keyed). */
export async function verifyEventChain(store: Store, ring?: LogKeyring | null): Promise<ChainCheck> {
  const events = await readFlagEvents(store);
  return verifyEvents(events, ring === undefined ? await keyringIfNeeded(store, events) : ring);
}

/** The keyring when verification needs one; loading never creates a key. */
export async function keyringIfNeeded(store: Store, events: readonly FlagEvent[], opts: { allowNeverKeyed?: boolean } = {}): Promise<LogKeyring | null> {
  try {
    return loadKeyring(store);
  } catch (err) {
    if (!(err instanceof FiscusError) || err.code !== 'LOG_KEY_MISSING') throw err;
    if (events.length === 0) return null;
    // A log from before keying (an upgraded deployment): only unkeyed events and no key yet.
    if (events.every((e) => e.key_id === null)) {
      if (opts.allowNeverKeyed) return null;
      throw new FiscusError(
        `${err.message} The log has ${events.length} unkeyed (legacy) event(s) and has never been keyed: ` +
          '`fiscus log checkpoint --write` verifies them, creates the key and signs the head (so does the next action).',
        { code: 'LOG_KEY_MISSING', exitCode: 1 },
      );
    }
    throw err;
  }
}
