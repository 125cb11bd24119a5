/**
 * Writing one rule's findings into fiscus.flags, set-wise.
 *
 * The findings are appended to a temp staging table (DuckDB Appender, no
 * per-row INSERT) and merged with a handful of statements, so 100k flags cost
 * the same number of round trips as 10. The flag-event log gets one event per
 * state change, in the same transaction as the change (engine/flag-events.ts).
 */
import type { Store } from '../../engine/db.ts';
import { appendFlagEvents, type NewFlagEvent } from '../../engine/flag-events.ts';
import type { FlagFinding } from '../../flags/row.ts';

const STAGE_COLUMNS: [keyof FlagFinding, 'VARCHAR' | 'INTEGER'][] = [
  ['flag_id', 'VARCHAR'], ['rule_id', 'VARCHAR'], ['rule_version', 'INTEGER'], ['severity', 'VARCHAR'],
  ['title', 'VARCHAR'], ['title_en', 'VARCHAR'], ['entity_type', 'VARCHAR'], ['entity_id', 'VARCHAR'],
  ['entity_name', 'VARCHAR'], ['region_code', 'VARCHAR'], ['agency_code', 'VARCHAR'], ['fiscal_year', 'INTEGER'],
  ['period_start', 'VARCHAR'], ['period_end', 'VARCHAR'], ['measure_name', 'VARCHAR'], ['measure_value', 'VARCHAR'],
  ['measure_threshold', 'VARCHAR'], ['amount', 'VARCHAR'], ['evidence', 'VARCHAR'], ['evidence_query', 'VARCHAR'],
];

export interface MergeInput {
  ruleId: string;
  runId: string;
  /** The run's clock, ISO 8601 UTC: first_seen_at / last_seen_at. */
  now: string;
  flags: readonly FlagFinding[];
  /** Allow-listed findings: not raised, but not "gone" either. */
  suppressedIds: readonly string[];
  /** Incremental run: only flags whose `column` is in `values` were evaluated. */
  scope?: { column: 'agency_code' | 'region_code'; values: readonly string[] };
  /** Each finding's delta key (rules with one): recorded in fiscus.flag_delta_keys. */
  deltaKeys?: readonly (readonly [string, string])[];
  /** Delta run: only flags whose recorded delta key is one of these were evaluated. */
  touchedKeys?: readonly string[];
  /** Collect the events here instead of appending them: the caller appends many rules' at once, in the same transaction. */
  events?: NewFlagEvent[];
}

export interface MergeCounts {
  new: number;
  existing: number;
  reproduced: number;
  notReproduced: number;
}

async function stage(store: Store, name: string, columns: [string, 'VARCHAR' | 'INTEGER'][], rows: readonly Record<string, unknown>[]): Promise<void> {
  const cols = columns.map(([c, t]) => `${c} ${t}`).join(', ');
  if (store.engine === 'duckdb') await store.run(`CREATE OR REPLACE TEMP TABLE ${name} (${cols})`);
  else await store.run(`DROP TABLE IF EXISTS pg_temp.${name}; CREATE TEMP TABLE ${name} (${cols})`);
  if (rows.length === 0) return;
  const cell = (r: Record<string, unknown>, i: number) => {
    const v = r[columns[i]![0]];
    return v === null || v === undefined ? null : columns[i]![1] === 'INTEGER' ? Number(v) : String(v);
  };
  if (store.engine !== 'duckdb') {
    // PostgreSQL: COPY FROM STDIN into the temp table.
    await store.append({ table: name, catalog: 'temp' }, rows.map((r) => columns.map((_, i) => cell(r, i))));
    return;
  }
  // Chunk-wise appending (STACK-NOTES: ~2.5x faster than value by value), through the Store.
  await store.withAppender({ table: name, schema: 'main', catalog: 'temp' }, (writer) => {
    const buf: (string | number | null)[] = new Array(columns.length);
    for (const r of rows) {
      for (let i = 0; i < columns.length; i++) buf[i] = cell(r, i);
      writer.appendRow(buf);
    }
  });
}

async function ids(store: Store, sql: string, params?: Record<string, string>): Promise<string[]> {
  return (await store.all<{ flag_id: string }>(sql, params)).map((r) => r.flag_id);
}

/** Merge one rule's findings. Call inside `store.transaction`. */
export async function mergeRuleFlags(store: Store, input: MergeInput): Promise<MergeCounts> {
  await stage(store, 'rr_stage', STAGE_COLUMNS, input.flags as unknown as Record<string, unknown>[]);
  await stage(store, 'rr_suppressed', [['flag_id', 'VARCHAR']], input.suppressedIds.map((flag_id) => ({ flag_id })));
  await stage(store, 'rr_scope', [['v', 'VARCHAR']], (input.scope?.values ?? []).map((v) => ({ v })));
  const p = { rule: input.ruleId, now: input.now, run: input.runId };

  const newIds = await ids(store, 'SELECT s.flag_id FROM rr_stage s WHERE NOT EXISTS (SELECT 1 FROM fiscus.flags f WHERE f.flag_id = s.flag_id) ORDER BY s.flag_id');
  const backIds = await ids(store, 'SELECT f.flag_id FROM fiscus.flags f JOIN rr_stage s ON f.flag_id = s.flag_id WHERE NOT f.reproduced ORDER BY f.flag_id');
  await stage(store, 'rr_touched', [['k', 'VARCHAR']], (input.touchedKeys ?? []).map((k) => ({ k })));
  const scopeCond = [
    input.scope ? `AND f.${input.scope.column} IN (SELECT v FROM rr_scope)` : '',
    input.touchedKeys
      ? 'AND f.flag_id IN (SELECT k.flag_id FROM fiscus.flag_delta_keys k JOIN rr_touched t ON k.delta_key = t.k WHERE k.rule_id = $rule)'
      : '',
  ].join(' ');
  const goneIds = await ids(
    store,
    `SELECT f.flag_id FROM fiscus.flags f
     WHERE f.rule_id = $rule AND f.reproduced ${scopeCond}
       AND f.flag_id NOT IN (SELECT flag_id FROM rr_stage)
       AND f.flag_id NOT IN (SELECT flag_id FROM rr_suppressed)
     ORDER BY f.flag_id`,
    { rule: input.ruleId },
  );
  const existing = input.flags.length - newIds.length;

  // Existing flags: refresh what the finding says; the tracker's fields (status, due date…) are not ours.
  await store.run(
    `UPDATE fiscus.flags AS f SET
       rule_version = s.rule_version, severity = s.severity, title = s.title, title_en = s.title_en,
       entity_name = s.entity_name, measure_name = s.measure_name, measure_value = s.measure_value,
       measure_threshold = s.measure_threshold, amount = s.amount::DECIMAL(18,2), evidence = s.evidence::JSON,
       evidence_query = s.evidence_query, reproduced = true, last_seen_at = $now::TIMESTAMPTZ, last_run_id = $run
     FROM rr_stage s WHERE f.flag_id = s.flag_id`,
    { now: p.now, run: p.run },
  );
  await store.run(
    `INSERT INTO fiscus.flags (flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id,
       entity_name, region_code, agency_code, fiscal_year, period_start, period_end, measure_name, measure_value,
       measure_threshold, amount, evidence, evidence_query, status, reproduced, first_seen_at, last_seen_at,
       first_run_id, last_run_id)
     SELECT s.flag_id, s.rule_id, s.rule_version, s.severity, s.title, s.title_en, s.entity_type, s.entity_id,
       s.entity_name, s.region_code, s.agency_code, s.fiscal_year, s.period_start::DATE, s.period_end::DATE,
       s.measure_name, s.measure_value, s.measure_threshold, s.amount::DECIMAL(18,2), s.evidence::JSON,
       s.evidence_query, 'discovered', true, $now::TIMESTAMPTZ, $now::TIMESTAMPTZ, $run, $run
     FROM rr_stage s WHERE NOT EXISTS (SELECT 1 FROM fiscus.flags f WHERE f.flag_id = s.flag_id)`,
    { now: p.now, run: p.run },
  );
  if (input.deltaKeys?.length) {
    await stage(store, 'rr_keys', [['flag_id', 'VARCHAR'], ['delta_key', 'VARCHAR']], input.deltaKeys.map(([flag_id, delta_key]) => ({ flag_id, delta_key })));
    await store.run('DELETE FROM fiscus.flag_delta_keys WHERE flag_id IN (SELECT flag_id FROM rr_keys)');
    await store.run('INSERT INTO fiscus.flag_delta_keys SELECT flag_id, $rule, delta_key FROM rr_keys', { rule: input.ruleId });
  }
  if (goneIds.length) {
    await stage(store, 'rr_gone', [['flag_id', 'VARCHAR']], goneIds.map((flag_id) => ({ flag_id })));
    await store.run('UPDATE fiscus.flags SET reproduced = false WHERE flag_id IN (SELECT flag_id FROM rr_gone)');
  }

  const at = new Date(input.now);
  const base = { actor: 'rules', role: 'system', at };
  const events: NewFlagEvent[] = [
    ...newIds.map((flag_id) => ({ ...base, flag_id, event_type: 'flag.discovered', from_status: null, to_status: 'discovered', data: { run_id: input.runId, rule_id: input.ruleId } })),
    ...backIds.map((flag_id) => ({ ...base, flag_id, event_type: 'flag.reproduced', data: { run_id: input.runId, rule_id: input.ruleId } })),
    ...goneIds.map((flag_id) => ({ ...base, flag_id, event_type: 'flag.not_reproduced', data: { run_id: input.runId, rule_id: input.ruleId } })),
  ];
  if (input.events) for (const e of events) input.events.push(e); // (no spread: a first run may raise 100k+)
  else await appendFlagEvents(store, events);
  await store.run('DROP TABLE IF EXISTS rr_stage; DROP TABLE IF EXISTS rr_suppressed; DROP TABLE IF EXISTS rr_scope; DROP TABLE IF EXISTS rr_gone; DROP TABLE IF EXISTS rr_touched; DROP TABLE IF EXISTS rr_keys');
  return { new: newIds.length, existing, reproduced: backIds.length, notReproduced: goneIds.length };
}
