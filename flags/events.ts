/**
 * The one event mapping: a row of the flag event log (fiscus.flag_events, as
 * engine/flag-events.ts reads it or as a SQL join returns it) → the alert's
 * `event` object of FLAGS.md. The runner's and tracker's results, `fiscus track
 * show`/`scan`, the alert feed, SSE, webhooks and the flag detail all print
 * events through it; `fiscus … --api` reads the same shape back.
 */
import type { FlagEvent } from '../engine/flag-events.ts';
import { isoUtc } from './row.ts';
import type { FlagEventJson } from './schema.ts';

function parseData(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/** An event of the log (engine/flag-events.ts FlagEvent) → the alert's event. */
export function eventJson(e: Pick<FlagEvent, 'seq' | 'event_id' | 'event_type' | 'from_status' | 'to_status' | 'actor' | 'role' | 'at_ms' | 'note' | 'data'>): FlagEventJson {
  return {
    id: e.event_id,
    type: e.event_type,
    seq: Number(e.seq),
    at: isoUtc(e.at_ms),
    actor: e.actor,
    role: e.role,
    from_status: e.from_status ?? null,
    to_status: e.to_status ?? null,
    note: e.note ?? null,
    data: parseData(e.data),
  };
}

/**
 * The event columns of fiscus.flag_events aliased `alias`, renamed so they sit beside a
 * flag row's columns in one result row (`ev_seq`, `ev_id`, …); read them with eventFromRow.
 * Plain columns: the same SQL on every engine.
 */
export function eventColumns(alias = 'e'): string {
  return `${alias}.seq AS ev_seq, ${alias}.event_id AS ev_id, ${alias}.event_type AS ev_type, ${alias}.from_status AS ev_from,
    ${alias}.to_status AS ev_to, ${alias}.actor AS ev_actor, ${alias}.role AS ev_role, ${alias}.occurred_at AS ev_at,
    ${alias}.note AS ev_note, CAST(${alias}.data AS VARCHAR) AS ev_data`;
}

export interface EventColumnsRow {
  ev_seq: number | string;
  ev_id: string;
  ev_type: string;
  ev_from: string | null;
  ev_to: string | null;
  ev_actor: string;
  ev_role: string;
  /** TIMESTAMPTZ text. */
  ev_at: string;
  ev_note: string | null;
  ev_data: string | null;
}

/** A row selected with eventColumns → the alert's event. */
export function eventFromRow(r: EventColumnsRow): FlagEventJson {
  return {
    id: String(r.ev_id),
    type: String(r.ev_type),
    seq: Number(r.ev_seq),
    at: isoUtc(r.ev_at),
    actor: String(r.ev_actor),
    role: String(r.ev_role),
    from_status: r.ev_from ?? null,
    to_status: r.ev_to ?? null,
    note: r.ev_note ?? null,
    data: parseData(r.ev_data),
  };
}
