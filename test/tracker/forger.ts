/**
 * The attacker of issue 10: someone who can write the database file but does
 * not hold the deployment's log key. Opens the DuckDB file directly (no Store,
 * no key file), rewrites the event log and recomputes the chain with the public
 * algorithm (the legacy SHA-256 of engine/flag-events.ts), or with a key of its
 * own under the real key id.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { isPostgresUrl, namedToPositional, pgClientConfig } from '../../engine/pg-store.ts';
import { POSTGRES_SQL } from '../../engine/sql-dialect.ts';
import { canonicalJson, eventHash, GENESIS_HASH, type FlagEvent } from '../../engine/flag-events.ts';

type Row = FlagEvent;

/** How the forger recomputes hashes: drop key_id and use SHA-256, or keep key_id and HMAC with a guessed secret. */
export type Recompute = 'legacy' | 'guessed-key';

type Run = (sql: string, p?: Record<string, unknown>) => Promise<Record<string, unknown>[]>;

/** On PostgreSQL: a plain client on the database (a psql shell), no Store, no key file. */
async function withPostgres<T>(url: string, fn: (run: Run) => Promise<T>): Promise<T> {
  const c = new pg.Client(pgClientConfig(url));
  await c.connect();
  try {
    const run: Run = async (sql, p) => {
      // The attacker speaks PostgreSQL: the two DuckDB functions the forgeries use, translated.
      const pgSql = sql
        .replace('make_timestamptz($at::BIGINT * 1000)', 'to_timestamp($at::BIGINT / 1000.0)')
        .replace('epoch_ms(occurred_at)', POSTGRES_SQL.epochMs('occurred_at'));
      const { text, values } = namedToPositional(pgSql, p as never);
      return (await c.query(values.length ? { text, values } : text)).rows as Record<string, unknown>[];
    };
    return await fn(run);
  } finally {
    await c.end();
  }
}

async function withFile<T>(file: string, fn: (run: Run) => Promise<T>): Promise<T> {
  if (isPostgresUrl(file)) return withPostgres(file, fn);
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    await conn.run(`ATTACH '${file.replaceAll("'", "''")}' AS victim`);
    await conn.run('USE victim');
    const run = async (sql: string, p?: Record<string, unknown>) => (await conn.runAndReadAll(sql, p as never)).getRowObjectsJson() as Record<string, unknown>[];
    return await fn(run);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

async function readAll(run: (sql: string) => Promise<Record<string, unknown>[]>): Promise<Row[]> {
  const rows = await run(
    `SELECT seq, event_id, flag_id, event_type, from_status, to_status, actor, role, epoch_ms(occurred_at) AS at_ms, note,
            data::VARCHAR AS data, prev_hash, hash, key_id FROM fiscus.flag_events ORDER BY seq`,
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

const guessed = randomBytes(32);

/** Recompute seq, prev_hash and hash from index `from` on (the prefix stays as it was, so it still verifies). */
function rehash(events: Row[], how: Recompute, from = 0): Row[] {
  let prev = from === 0 ? GENESIS_HASH : events[from - 1]!.hash;
  return events.map((e, i) => {
    if (i < from) return e;
    const base: Row = { ...e, seq: i + 1, prev_hash: prev, key_id: how === 'legacy' ? null : e.key_id };
    const out = { ...base, hash: recomputeOne(base, how) };
    prev = out.hash;
    return out;
  });
}

async function rewrite(run: (sql: string, p?: Record<string, unknown>) => Promise<Record<string, unknown>[]>, events: Row[]): Promise<void> {
  await run('BEGIN TRANSACTION');
  await run('DELETE FROM fiscus.flag_events');
  for (const e of events) {
    await run(
      `INSERT INTO fiscus.flag_events (seq, event_id, flag_id, event_type, from_status, to_status, actor, role, occurred_at, note, data, prev_hash, hash, key_id)
       VALUES ($seq, $id, $flag, $type, $from, $to, $actor, $role, make_timestamptz($at::BIGINT * 1000), $note, $data::JSON, $prev, $hash, $key)`,
      {
        seq: e.seq, id: e.event_id, flag: e.flag_id, type: e.event_type, from: e.from_status, to: e.to_status, actor: e.actor, role: e.role,
        at: e.at_ms, note: e.note, data: e.data, prev: e.prev_hash, hash: e.hash, key: e.key_id,
      },
    );
  }
  await run('COMMIT');
}

/** Forgery 1: change an event's note and recompute the whole chain. */
export async function forgeEditNote(file: string, seq: number, note: string, how: Recompute = 'legacy', opts: { wholeChain?: boolean } = {}): Promise<void> {
  await withFile(file, async (run) => {
    const events = await readAll(run);
    events[seq - 1] = { ...events[seq - 1]!, note };
    await rewrite(run, rehash(events, how, opts.wholeChain ? 0 : seq - 1));
  });
}

/** Recompute every hash with the public algorithm, changing nothing else (also: what an older, unkeyed fiscus wrote). */
export async function rehashAllLegacy(file: string): Promise<void> {
  await withFile(file, async (run) => {
    await rewrite(run, rehash(await readAll(run), 'legacy', 0));
  });
}

/** Forgery 2: delete an event, renumber the rest and recompute. */
export async function forgeDeleteRenumber(file: string, seq: number, how: Recompute = 'legacy'): Promise<void> {
  await withFile(file, async (run) => {
    const events = (await readAll(run)).filter((e) => e.seq !== seq);
    await rewrite(run, rehash(events, how, seq - 1));
  });
}

/** Forgery 3: delete the last event and put its flag back in the status before it. */
export async function forgeTruncateTail(file: string): Promise<void> {
  await withFile(file, async (run) => {
    const events = await readAll(run);
    const last = events.at(-1)!;
    await run('DELETE FROM fiscus.flag_events WHERE seq = $s', { s: last.seq });
    if (last.from_status) await run('UPDATE fiscus.flags SET status = $st WHERE flag_id = $f', { st: last.from_status, f: last.flag_id });
  });
}

/** Forgery 4: append a forged "explanation accepted" for an explained flag and close it. */
export async function forgeAppendAccepted(file: string, flagId: string, how: Recompute = 'legacy'): Promise<void> {
  await withFile(file, async (run) => {
    const events = await readAll(run);
    const last = events.at(-1)!;
    const forged: Row = {
      seq: last.seq + 1, event_id: '00000000-0000-4000-8000-000000000001', flag_id: flagId, event_type: 'flag.explanation_accepted',
      from_status: 'explained', to_status: 'closed_explained', actor: '主任', role: 'committee', at_ms: last.at_ms + 1000, note: '说明已认可',
      data: null, prev_hash: last.hash, hash: '', key_id: last.key_id,
    };
    // Only the new event is hashed: the rest of the chain is left as it was.
    const row: Row = { ...forged, key_id: how === 'legacy' ? null : forged.key_id };
    row.hash = recomputeOne(row, how);
    await rewrite(run, [...events, row]);
    await run("UPDATE fiscus.flags SET status = 'closed_explained' WHERE flag_id = $f", { f: flagId });
  });
}

function recomputeOne(e: Row, how: Recompute): string {
  if (how === 'legacy') {
    const { hash: _h, key_id: _k, ...rest } = e;
    return eventHash(rest);
  }
  const body = canonicalJson([
    'fiscus.flag_event.hmac-sha256.v1', e.seq, e.event_id, e.flag_id, e.event_type, e.from_status, e.to_status,
    e.actor, e.role, e.at_ms, e.note, e.data, e.prev_hash, e.key_id,
  ]);
  return createHmac('sha256', guessed).update(body).digest('hex');
}

/** A plain SQL statement on the file, as an attacker with a DuckDB shell would run it. */
export async function forgeSql(file: string, sql: string): Promise<void> {
  await withFile(file, async (run) => {
    await run(sql);
  });
}

