/**
 * `fiscus track verify-log`: does the event log still say what was written?
 *
 * 1. The keyed chain (engine/flag-events.ts): every event's HMAC under the log
 *    key, its seq and prev_hash. Names the first edited, deleted, inserted or
 *    forged event. Needs the key file; never creates one.
 * 2. The signed checkpoints (engine/checkpoints.ts), the store's own and any
 *    witness copies (`--witness FILE`, e.g. what the portal kept): each must be
 *    signed by a key version in the key file, and its {seq, hash} must be in
 *    the log. A log shorter than a checkpoint had its tail truncated.
 * 3. Every flag's stored status is the to_status of its latest state event
 *    (a status edited behind the log's back).
 */
import type { Store } from '../engine/db.ts';
import { checkCheckpoints, ownCheckpoints, witnessSource, type CheckpointCheck } from '../engine/checkpoints.ts';
import { FiscusError } from '../engine/errors.ts';
import { keyringIfNeeded, readFlagEvents, verifyEvents, type ChainCheck } from '../engine/flag-events.ts';
import { logPaths } from '../engine/log-key.ts';

export interface StateMismatch {
  flag_id: string;
  status: string;
  last_event_seq: number;
  last_event_to_status: string;
}

export interface LogCheck extends ChainCheck {
  key_file: string | null;
  /** Versions of the key file, oldest first. */
  key_versions: string[];
  checkpoints: CheckpointCheck;
  state_mismatches: StateMismatch[];
  /** Human-readable problems, the first bad event first. */
  problems: string[];
}

export interface VerifyOptions {
  /** Checkpoint files kept elsewhere (the portal's witness copies). */
  witnesses?: readonly string[];
  /** A log that was never keyed (no key, only legacy events) verifies by its SHA-256 chain (`fiscus log checkpoint --write`). */
  allowNeverKeyed?: boolean;
}

export async function verifyLog(store: Store, opts: VerifyOptions = {}): Promise<LogCheck> {
  const events = await readFlagEvents(store);
  const ring = await keyringIfNeeded(store, events, { allowNeverKeyed: opts.allowNeverKeyed });
  const chain = verifyEvents(events, ring);
  const own = ownCheckpoints(store);
  const sources = [own, ...(opts.witnesses ?? []).map(witnessSource)];
  const cps: CheckpointCheck = ring
    ? checkCheckpoints(ring, events, sources)
    : { sources: sources.map((s) => ({ source: s.source, exists: s.exists, checkpoints: s.lines.length })), newest: null, events_after_newest: 0, problems: [] };
  if (!ring && sources.some((s) => s.lines.length > 0)) {
    throw new FiscusError(`checkpoints exist (${sources.find((s) => s.lines.length > 0)!.source}) but there is no log key at ${logPaths(store).keyFile}: restore the key file or pass --log-key FILE`, {
      code: 'LOG_KEY_MISSING',
    });
  }
  const keyed = events.length - chain.legacy_events;
  // Every commit that appends events writes a checkpoint; none at all means the file was removed.
  if (ring && keyed > 0 && !cps.newest && cps.problems.length === 0) {
    cps.problems.push({
      source: own.source,
      line: 0,
      seq: null,
      reason: `no checkpoint found (${own.exists ? 'the file has none' : 'the file does not exist'}) although the log has ${keyed} keyed event(s): the checkpoint log was deleted or moved, so truncation cannot be ruled out. Pass --checkpoints FILE or --witness FILE`,
    });
  }

  const rows = await store.all<{ flag_id: string; status: string; seq: string; to_status: string }>(
    `WITH last AS (
       SELECT flag_id, ${store.dialect.argMax('to_status', 'seq')} AS to_status, max(seq) AS seq
       FROM fiscus.flag_events WHERE to_status IS NOT NULL GROUP BY flag_id)
     SELECT f.flag_id, f.status, last.seq, last.to_status
     FROM fiscus.flags f JOIN last USING (flag_id)
     WHERE f.status <> last.to_status ORDER BY last.seq`,
  );
  const state_mismatches = rows.map((r) => ({
    flag_id: r.flag_id,
    status: r.status,
    last_event_seq: Number(r.seq),
    last_event_to_status: r.to_status,
  }));

  const problems: string[] = [];
  if (chain.broken) {
    problems.push(`事件 #${chain.broken.seq} (${chain.broken.event_id}) 校验失败 / event #${chain.broken.seq} (${chain.broken.event_id}) is broken: ${chain.broken.reason}`);
  }
  for (const p of cps.problems) {
    const where = p.line > 0 ? `${p.source}:${p.line}` : p.source;
    problems.push(`检查点校验失败 / checkpoint ${p.seq === null ? '' : `#${p.seq} `}(${where}): ${p.reason}`);
  }
  for (const m of state_mismatches) {
    problems.push(
      `标记 ${m.flag_id} 状态为 ${m.status}，但最后一条状态事件 #${m.last_event_seq} 为 ${m.last_event_to_status} / flag ${m.flag_id} is ${m.status} but its last state event #${m.last_event_seq} says ${m.last_event_to_status} (an event was deleted or the status edited)`,
    );
  }
  return {
    ...chain,
    ok: problems.length === 0,
    key_file: ring?.path ?? logPaths(store).keyFile,
    key_versions: ring?.versions.map((v) => v.id) ?? [],
    checkpoints: cps,
    state_mismatches,
    problems,
  };
}
