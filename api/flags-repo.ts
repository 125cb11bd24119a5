/**
 * The SQL behind the flag and alert endpoints. Every query goes through the read
 * pool (committed data only) and ANDs the caller's scope.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { JsonRow, Params } from '../engine/db.ts';
import { FEEDS, qualifiedName, quoteIdent, type TableDef } from '../engine/feeds.ts';
import { decodeFlagCursor, encodeFlagCursor, encodeSeqCursor } from './cursor.ts';
import { FLAG_ROW_SELECT, flagRowToJson, type FlagJsonExtended, type FlagRow } from './flag-json.ts';

type FlagJson = FlagJsonExtended;
const flagJson = (r: FlagRow): FlagJson => flagRowToJson(r, { extended: true });
import type { ReadPool } from './read-pool.ts';
import { flagScope } from './scope.ts';
import type { Principal } from './tokens.ts';

export interface FlagFilters {
  rule?: string;
  severity?: string;
  status?: string;
  agency?: string;
  region?: string;
  fiscal_year?: number;
  reproduced?: boolean;
  cursor?: string;
  limit: number;
}

/** `a,b` → match any of them. */
function inList(col: string, param: string): string {
  return `list_contains(string_split($${param}, ','), ${col})`;
}

export async function listFlags(
  pool: ReadPool,
  who: Principal,
  q: FlagFilters,
): Promise<{ items: FlagJson[]; next_cursor: string | null }> {
  const scope = flagScope(who);
  const conds = [scope.sql];
  const params: Params = { ...scope.params, lim: q.limit + 1 };
  if (q.rule) (conds.push(inList('f.rule_id', 'rule')), (params.rule = q.rule));
  if (q.severity) (conds.push(inList('f.severity', 'severity')), (params.severity = q.severity));
  if (q.status) (conds.push(inList('f.status', 'status')), (params.status = q.status));
  if (q.agency) (conds.push(inList('f.agency_code', 'agency')), (params.agency = q.agency));
  if (q.region) (conds.push(inList('f.region_code', 'region')), (params.region = q.region));
  if (q.fiscal_year !== undefined) (conds.push('f.fiscal_year = $fy'), (params.fy = q.fiscal_year));
  if (q.reproduced !== undefined) (conds.push('f.reproduced = $rep'), (params.rep = q.reproduced));
  if (q.cursor) {
    const c = decodeFlagCursor(q.cursor);
    conds.push('(epoch_us(f.first_seen_at) < $c_ts OR (epoch_us(f.first_seen_at) = $c_ts AND f.flag_id < $c_id))');
    params.c_ts = c.ts;
    params.c_id = c.id;
  }
  // Newest first; flag_id breaks ties so the order is total and pages never overlap.
  // Two steps: pick the page's keys from narrow columns, then format only those rows
  // (a top-N over every wide column costs more than the lookup).
  const rows = await pool.all<FlagRow & { ts_us: string; flag_id: string }>(
    `WITH k AS (SELECT f.flag_id FROM fiscus.flags f WHERE ${conds.join(' AND ')}
                ORDER BY f.first_seen_at DESC, f.flag_id DESC LIMIT $lim)
     SELECT ${FLAG_ROW_SELECT}, epoch_us(first_seen_at)::VARCHAR AS ts_us
     FROM fiscus.flags WHERE flag_id IN (SELECT flag_id FROM k)
     ORDER BY first_seen_at DESC, flag_id DESC`,
    params,
  );
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const last = page.at(-1);
  return { items: page.map(flagJson), next_cursor: more && last ? encodeFlagCursor(last.ts_us, last.flag_id) : null };
}

export async function getFlag(pool: ReadPool, who: Principal, flagId: string): Promise<FlagJson | undefined> {
  const scope = flagScope(who);
  const row = await pool.one<FlagRow>(`SELECT ${FLAG_ROW_SELECT} FROM fiscus.flags f WHERE f.flag_id = $id AND ${scope.sql}`, {
    ...scope.params,
    id: flagId,
  });
  return row ? flagJson(row) : undefined;
}

const FEED_BY_NAME = new Map<string, TableDef>(FEEDS.map((t) => [t.name, t]));
/** A flag carries at most this many evidence rows inline; beyond that, its evidence_query lists them. */
export const MAX_EVIDENCE_ROWS = 500;

export interface EvidenceRow {
  table: string;
  key: string;
  /** The source row (feed columns plus `extra`), or null when it is not in the database. */
  row: JsonRow | null;
}

/** Look up each evidence key in its feed table (composite keys split on `|`), one query per table. */
export async function evidenceRows(pool: ReadPool, refs: readonly { table: string; key: string }[]): Promise<EvidenceRow[]> {
  const byTable = new Map<string, { key: string; parts: string[] }[]>();
  for (const r of refs.slice(0, MAX_EVIDENCE_ROWS)) {
    const t = FEED_BY_NAME.get(r.table);
    if (!t) continue;
    const parts = String(r.key).split('|');
    if (parts.length !== t.key.length) continue;
    const list = byTable.get(r.table) ?? [];
    list.push({ key: String(r.key), parts });
    byTable.set(r.table, list);
  }
  const found = new Map<string, JsonRow>();
  for (const [name, keys] of byTable) {
    const t = FEED_BY_NAME.get(name)!;
    const params: Record<string, DuckDBValue> = {};
    const ors = keys.map((k, i) =>
      `(${t.key
        .map((col, j) => {
          params[`k${i}_${j}`] = k.parts[j]!;
          // Key columns may be INTEGER (fiscal_year): compare as text so the bound string matches.
          return `${quoteIdent(col)}::VARCHAR = $k${i}_${j}`;
        })
        .join(' AND ')})`,
    );
    const cols = [...t.columns.map((c) => quoteIdent(c.name)), 'extra'].join(', ');
    const keyExpr = t.key.map((c) => `${quoteIdent(c)}::VARCHAR`).join(` || '|' || `);
    const rows = await pool.all(`SELECT ${keyExpr} AS __key, ${cols} FROM ${qualifiedName(t)} WHERE ${ors.join(' OR ')}`, params as Params);
    for (const r of rows) {
      const { __key, ...rest } = r;
      if (typeof rest.extra === 'string') {
        try {
          rest.extra = JSON.parse(rest.extra);
        } catch {
          /* keep text */
        }
      }
      found.set(`${name}\u0000${String(__key)}`, rest);
    }
  }
  return refs.slice(0, MAX_EVIDENCE_ROWS).map((r) => ({ table: r.table, key: String(r.key), row: found.get(`${r.table}\u0000${String(r.key)}`) ?? null }));
}

export interface AlertEvent {
  id: string;
  type: string;
  seq: number;
  at: string;
  actor: string;
  role: string;
  from_status: string | null;
  to_status: string | null;
  note: string | null;
  data: unknown;
}

export type AlertItem = FlagJson & { event: AlertEvent };

const EVENT_COLUMNS = `e.seq, e.event_id, e.event_type, e.from_status, e.to_status, e.actor, e.role AS ev_role,
  strftime(e.occurred_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS ev_at, e.note AS ev_note, e.data::VARCHAR AS ev_data`;

export function alertItem(r: FlagRow): AlertItem {
  return { ...flagJson(r), event: eventJson(r) };
}

function eventJson(r: JsonRow): AlertEvent {
  let data: unknown = null;
  if (typeof r.ev_data === 'string') {
    try {
      data = JSON.parse(r.ev_data);
    } catch {
      data = r.ev_data;
    }
  }
  return {
    id: String(r.event_id),
    type: String(r.event_type),
    seq: Number(r.seq),
    at: String(r.ev_at),
    actor: String(r.actor),
    role: String(r.ev_role),
    from_status: (r.from_status as string | null) ?? null,
    to_status: (r.to_status as string | null) ?? null,
    note: (r.ev_note as string | null) ?? null,
    data,
  };
}

/**
 * Events after `afterSeq` visible to the caller, in seq order, and the cursor to
 * continue from. The page and the high-water mark are read in one snapshot: when the
 * page is not full, every event up to that mark has been considered, so the cursor can
 * skip past events the caller may not see — and an event committed after the snapshot
 * has a higher seq (seq is assigned from the committed tail), so nothing is skipped.
 */
export async function readAlerts(
  pool: ReadPool,
  who: Principal,
  afterSeq: number,
  limit: number,
): Promise<{ items: AlertItem[]; next_cursor: string; last_seq: number }> {
  // Fast path for tail polling: nothing new, nothing to format (the cursor stays where it is).
  const top = await pool.one<{ hi: string }>('SELECT coalesce(max(seq), 0)::BIGINT AS hi FROM fiscus.flag_events');
  if (Number(top?.hi ?? 0) <= afterSeq) return { items: [], next_cursor: encodeSeqCursor(afterSeq), last_seq: afterSeq };
  const scope = flagScope(who);
  // One statement, so one snapshot: the high-water mark `hi` and the page agree. The
  // LEFT JOIN keeps one row (with a null seq) when the page is empty, to carry `hi`.
  // The page's events are picked first on the narrow event table; only their flags are formatted.
  const scoped = scope.sql === 'TRUE' ? '' : `AND e.flag_id IN (SELECT f.flag_id FROM fiscus.flags f WHERE ${scope.sql})`;
  const rows = await pool.all<FlagRow & { hi: string; seq: string | null }>(
    `WITH h AS (SELECT coalesce(max(seq), 0)::BIGINT AS hi FROM fiscus.flag_events),
     ev AS (SELECT e.* FROM fiscus.flag_events e, h WHERE e.seq > $after AND e.seq <= h.hi ${scoped} ORDER BY e.seq LIMIT $lim),
     page AS (SELECT ${EVENT_COLUMNS}, f.* FROM ev e
              JOIN (SELECT ${FLAG_ROW_SELECT} FROM fiscus.flags WHERE flag_id IN (SELECT flag_id FROM ev)) f ON f.flag_id = e.flag_id)
     SELECT h.hi::VARCHAR AS hi, page.* FROM h LEFT JOIN page ON TRUE ORDER BY page.seq`,
    { ...scope.params, after: afterSeq, lim: limit },
  );
  const hi = Number(rows[0]?.hi ?? 0);
  const items = rows.filter((r) => r.seq !== null && r.seq !== undefined).map(alertItem);
  const last = items.length === limit ? items[items.length - 1]!.event.seq : Math.max(hi, afterSeq);
  return { items, next_cursor: encodeSeqCursor(last), last_seq: last };
}

/** A flag's events, oldest first (for the detail view when the tracker's history is not available). */
export async function flagEvents(pool: ReadPool, flagId: string): Promise<AlertEvent[]> {
  const rows = await pool.all<JsonRow>(
    `SELECT ${EVENT_COLUMNS} FROM fiscus.flag_events e WHERE e.flag_id = $id ORDER BY e.seq`,
    { id: flagId },
  );
  return rows.map(eventJson);
}

export async function maxSeq(pool: ReadPool): Promise<number> {
  const r = await pool.one<{ hi: string }>('SELECT coalesce(max(seq), 0)::BIGINT AS hi FROM fiscus.flag_events');
  return Number(r?.hi ?? 0);
}
