/**
 * The SQL behind the flag and alert endpoints. Every query goes through the read
 * pool (committed data only) and ANDs the caller's scope.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { JsonRow, Params } from '../engine/db.ts';
import { FEEDS, qualifiedName, quoteIdent, type TableDef } from '../engine/feeds.ts';
import { eventColumns, eventFromRow, type EventColumnsRow } from '../flags/events.ts';
import type { FlagFilter } from '../flags/filter.ts';
import { listFlags as listFlagPage, type FlagPage, type ListOptions } from '../flags/list.ts';
import { flagColumns, flagRecordFromRow, type FlagRowRead } from '../flags/row.ts';
import type { AlertJson, FlagEventJson, FlagRecordJson } from '../flags/schema.ts';
import { encodeSeqCursor } from './cursor.ts';
import type { ReadPool } from './read-pool.ts';
import { flagScope } from './scope.ts';
import type { Principal } from './tokens.ts';

/** GET /v1/flags: the one listing query (flags/list.ts) within the caller's scope. */
export async function listFlags(pool: ReadPool, who: Principal, filter: FlagFilter, page: Omit<ListOptions, 'scope'>): Promise<FlagPage> {
  return listFlagPage(pool, filter, { ...page, scope: flagScope(who) });
}

export async function getFlag(pool: ReadPool, who: Principal, flagId: string): Promise<FlagRecordJson | undefined> {
  const scope = flagScope(who);
  const row = await pool.one<FlagRowRead>(`SELECT ${flagColumns('f')} FROM fiscus.flags f WHERE f.flag_id = $id AND ${scope.sql}`, {
    ...scope.params,
    id: flagId,
  });
  return row ? flagRecordFromRow(row) : undefined;
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

/** How a reader names an evidence table and its columns: the feed catalogue's Chinese labels (FEEDS.md names are the English). */
export interface EvidenceLabels {
  label: string;
  columns: Record<string, string>;
}

/** The labels of the feed tables evidence rows come from, by table name (unknown tables are left out). */
export function evidenceLabels(rows: readonly { table: string }[]): Record<string, EvidenceLabels> {
  const out: Record<string, EvidenceLabels> = {};
  for (const { table } of rows) {
    const t = FEED_BY_NAME.get(table);
    if (t && !out[table]) out[table] = { label: t.label, columns: Object.fromEntries(t.columns.map((c) => [c.name, c.label])) };
  }
  return out;
}

type AlertRow = FlagRowRead & EventColumnsRow;

/** A row of a flag joined with one of its events → the alert (FLAGS.md). */
export function alertFromRow(r: AlertRow): AlertJson {
  return { ...flagRecordFromRow(r), event: eventFromRow(r) };
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
): Promise<{ items: AlertJson[]; next_cursor: string; last_seq: number }> {
  // Fast path for tail polling: nothing new, nothing to format (the cursor stays where it is).
  const top = await pool.one<{ hi: string }>('SELECT coalesce(max(seq), 0)::BIGINT AS hi FROM fiscus.flag_events');
  if (Number(top?.hi ?? 0) <= afterSeq) return { items: [], next_cursor: encodeSeqCursor(afterSeq), last_seq: afterSeq };
  const scope = flagScope(who);
  // One statement, so one snapshot: the high-water mark `hi` and the page agree. The
  // LEFT JOIN keeps one row (with a null seq) when the page is empty, to carry `hi`.
  // The page's events are picked first on the narrow event table; only their flags are formatted.
  const scoped = scope.sql === 'TRUE' ? '' : `AND e.flag_id IN (SELECT f.flag_id FROM fiscus.flags f WHERE ${scope.sql})`;
  const rows = await pool.all<AlertRow & JsonRow & { hi: string }>(
    `WITH h AS (SELECT coalesce(max(seq), 0)::BIGINT AS hi FROM fiscus.flag_events),
     ev AS (SELECT e.* FROM fiscus.flag_events e, h WHERE e.seq > $after AND e.seq <= h.hi ${scoped} ORDER BY e.seq LIMIT $lim),
     page AS (SELECT ${eventColumns('e')}, ${flagColumns('f')} FROM ev e
              JOIN (SELECT * FROM fiscus.flags WHERE flag_id IN (SELECT flag_id FROM ev)) f ON f.flag_id = e.flag_id)
     SELECT CAST(h.hi AS VARCHAR) AS hi, page.* FROM h LEFT JOIN page ON TRUE ORDER BY page.ev_seq`,
    { ...scope.params, after: afterSeq, lim: limit },
  );
  const hi = Number(rows[0]?.hi ?? 0);
  const items = rows.filter((r) => r.ev_seq !== null && r.ev_seq !== undefined).map(alertFromRow);
  const last = items.length === limit ? items[items.length - 1]!.event.seq : Math.max(hi, afterSeq);
  return { items, next_cursor: encodeSeqCursor(last), last_seq: last };
}

/** A flag's events, oldest first (for the detail view when the tracker's history is not available). */
export async function flagEvents(pool: ReadPool, flagId: string): Promise<FlagEventJson[]> {
  const rows = await pool.all<EventColumnsRow & JsonRow>(
    `SELECT ${eventColumns('e')} FROM fiscus.flag_events e WHERE e.flag_id = $id ORDER BY e.seq`,
    { id: flagId },
  );
  return rows.map(eventFromRow);
}

export async function maxSeq(pool: ReadPool): Promise<number> {
  const r = await pool.one<{ hi: string }>('SELECT coalesce(max(seq), 0)::BIGINT AS hi FROM fiscus.flag_events');
  return Number(r?.hi ?? 0);
}
