/**
 * `fiscus track verify-log`: the hash chain (engine/flag-events.ts) names the
 * first edited, deleted or inserted event. A chain alone cannot see the LAST
 * event being deleted, so we also check that every flag's stored status is
 * the to_status of its latest state-changing event.
 */
import type { Store } from '../engine/db.ts';
import { verifyEventChain, type ChainCheck } from '../engine/flag-events.ts';

export interface StateMismatch {
  flag_id: string;
  status: string;
  last_event_seq: number;
  last_event_to_status: string;
}

export interface LogCheck extends ChainCheck {
  state_mismatches: StateMismatch[];
}

export async function verifyLog(store: Store): Promise<LogCheck> {
  const chain = await verifyEventChain(store);
  const rows = await store.all<{ flag_id: string; status: string; seq: string; to_status: string }>(
    `WITH last AS (
       SELECT flag_id, arg_max(to_status, seq) AS to_status, max(seq) AS seq
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
  return { ...chain, ok: chain.ok && state_mismatches.length === 0, state_mismatches };
}
