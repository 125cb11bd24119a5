/**
 * Forward-only schema migrations.
 *
 * `fiscus.schema_version` records every applied migration. A migration is
 * applied once, in order, inside a transaction; a database newer than this
 * code is refused rather than guessed at. Never edit a released migration:
 * add the next one.
 */
import type { Store } from './db.ts';
import { FiscusError } from './errors.ts';
import { FEEDS, SYSTEM_COLUMNS, qualifiedName, quoteIdent, sqlType, systemColumnType, type TableDef } from './feeds.ts';
import { calendarTooShort, refreshCalendar } from './calendar.ts';

export interface Migration {
  version: number;
  description: string;
  up: (store: Store) => Promise<void>;
}

/**
 * A feed table's CREATE TABLE: with its primary key (released migrations) or, `as` another name,
 * without. `types` picks the system columns' types: `'released'` for the migrations that ran
 * before migration 11 changed `_row_hash` (they must keep creating what they created), an engine
 * for a new migration that rebuilds a table as it is now.
 */
function feedTableDDL(t: TableDef, types: 'released' | 'duckdb' | 'postgres', rebuild?: { as: string }): string {
  const cols = t.columns.map(
    (c) => `${quoteIdent(c.name)} ${sqlType(c.type)}${c.nullable ? '' : ' NOT NULL'}`,
  );
  const sys = SYSTEM_COLUMNS.map((c) => `${quoteIdent(c.name)} ${systemColumnType(c, types)}`);
  const key = rebuild ? [] : [`PRIMARY KEY (${t.key.map(quoteIdent).join(', ')})`];
  const name = rebuild ? `${quoteIdent(t.schema)}.${quoteIdent(rebuild.as)}` : qualifiedName(t);
  return `CREATE TABLE ${name} (\n  ${[...cols, ...sys, ...key].join(',\n  ')}\n)`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'feed tables, batches, quarantine, row history, calendar, flags, rule runs, flag event log',
    up: async (s) => {
      for (const schema of new Set(FEEDS.map((t) => t.schema))) {
        await s.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      }
      for (const t of FEEDS) await s.run(feedTableDDL(t, 'released'));

      // One row per ingest batch: the report FEEDS.md asks for.
      await s.run(`CREATE TABLE fiscus.batches (
        batch_id VARCHAR PRIMARY KEY,
        table_name VARCHAR NOT NULL,
        source VARCHAR NOT NULL,            -- file path or URL
        source_kind VARCHAR NOT NULL,       -- file | http
        format VARCHAR,                     -- csv | jsonl | parquet
        encoding VARCHAR,                   -- utf-8 | utf-8-bom | gb18030
        sha256 VARCHAR,
        mapping VARCHAR,                    -- mapping profile applied, if any
        status VARCHAR NOT NULL,            -- committed | rolled_back | noop | failed
        message VARCHAR,
        rows_read BIGINT NOT NULL DEFAULT 0,
        accepted BIGINT NOT NULL DEFAULT 0,
        rejected BIGINT NOT NULL DEFAULT 0,
        inserted BIGINT NOT NULL DEFAULT 0,
        corrected BIGINT NOT NULL DEFAULT 0,
        unchanged BIGINT NOT NULL DEFAULT 0,
        control_sums JSON,                  -- {"amount": "123.45", ...} of accepted rows
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ
      )`);
      // Every rejected row, with what a clerk needs to fix it.
      await s.run(`CREATE TABLE fiscus.quarantine (
        batch_id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        line BIGINT,                         -- 1-based line in the file (header is line 1)
        column_name VARCHAR,
        raw_value VARCHAR,
        reason VARCHAR NOT NULL,
        raw_row JSON
      )`);
      // Old versions of corrected rows: nothing accepted is ever lost.
      await s.run(`CREATE TABLE fiscus.row_history (
        table_name VARCHAR NOT NULL,
        row_key VARCHAR NOT NULL,            -- primary key, composite parts joined with |
        old_row JSON NOT NULL,
        old_batch_id VARCHAR NOT NULL,
        replaced_by_batch VARCHAR NOT NULL,
        replaced_at TIMESTAMPTZ NOT NULL
      )`);
      // Conditional GET state for pulled feeds.
      await s.run(`CREATE TABLE fiscus.http_sources (
        url VARCHAR PRIMARY KEY,
        etag VARCHAR,
        last_modified VARCHAR,
        sha256 VARCHAR,
        last_batch_id VARCHAR,
        fetched_at TIMESTAMPTZ
      )`);
      // Working-day calendar: built-in PRC holidays/调休 merged with ref.calendar overrides.
      await s.run(`CREATE TABLE fiscus.calendar_days (
        day DATE PRIMARY KEY,
        is_workday BOOLEAN NOT NULL,
        source VARCHAR NOT NULL              -- builtin | weekday | ref.calendar
      )`);

      // Flags: one finding of one rule about one entity in one period (FLAGS.md).
      await s.run(`CREATE TABLE fiscus.flags (
        flag_id VARCHAR PRIMARY KEY,
        rule_id VARCHAR NOT NULL,
        rule_version INTEGER NOT NULL,
        severity VARCHAR NOT NULL,           -- high | medium | low
        title VARCHAR NOT NULL,              -- zh-CN
        title_en VARCHAR NOT NULL,
        entity_type VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        entity_name VARCHAR,
        region_code VARCHAR,
        agency_code VARCHAR,
        fiscal_year INTEGER,
        period_start DATE,
        period_end DATE,
        measure_name VARCHAR,
        measure_value VARCHAR,               -- decimal string
        measure_threshold VARCHAR,
        amount DECIMAL(18,2),
        evidence JSON NOT NULL,              -- [{"table": "...", "key": "..."}]
        evidence_query VARCHAR,              -- for aggregate findings with thousands of rows
        status VARCHAR NOT NULL,             -- tracker state, kept in step with fiscus.flag_events
        reproduced BOOLEAN NOT NULL DEFAULT true,  -- false: the last run no longer raised it
        first_seen_at TIMESTAMPTZ NOT NULL,
        last_seen_at TIMESTAMPTZ NOT NULL,
        first_run_id VARCHAR,
        last_run_id VARCHAR,
        due_date DATE,                       -- set by the tracker on assignment
        assigned_to VARCHAR                  -- agency code the flag is assigned to
      )`);
      await s.run(`CREATE TABLE fiscus.rule_runs (
        run_id VARCHAR PRIMARY KEY,
        as_of DATE NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        actor VARCHAR
      )`);
      await s.run(`CREATE TABLE fiscus.rule_run_results (
        run_id VARCHAR NOT NULL,
        rule_id VARCHAR NOT NULL,
        rule_version INTEGER NOT NULL,
        outcome VARCHAR NOT NULL,            -- evaluated | skipped | error
        reason VARCHAR,
        flags_raised INTEGER NOT NULL DEFAULT 0,
        flags_new INTEGER NOT NULL DEFAULT 0,
        flags_existing INTEGER NOT NULL DEFAULT 0,
        flags_not_reproduced INTEGER NOT NULL DEFAULT 0,
        millis ${s.dialect.double} NOT NULL DEFAULT 0
      )`);
      // Append-only, hash-chained log of everything that happens to a flag.
      // seq is the alert-feed cursor; hash = sha256(prev_hash + canonical event).
      await s.run(`CREATE TABLE fiscus.flag_events (
        seq BIGINT PRIMARY KEY,
        event_id VARCHAR NOT NULL UNIQUE,
        flag_id VARCHAR NOT NULL,
        event_type VARCHAR NOT NULL,
        from_status VARCHAR,
        to_status VARCHAR,
        actor VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        note VARCHAR,
        data JSON,
        prev_hash VARCHAR NOT NULL,
        hash VARCHAR NOT NULL
      )`);
    },
  },
  {
    version: 2,
    description: 'rule input fingerprints for incremental re-runs; more per-rule run outcome columns',
    up: async (s) => {
      // The inputs of each rule's last flag-writing evaluation (rules/run/fingerprint.ts):
      // a re-run at the same as-of with the same inputs is skipped; one that only
      // added batches is evaluated on the partitions those batches touched.
      await s.run(`CREATE TABLE fiscus.rule_fingerprints (
        rule_id VARCHAR NOT NULL,            -- one row per rule (delete + insert)
        rule_version INTEGER NOT NULL,
        rule_hash VARCHAR NOT NULL,          -- sha256 of id, version, SQL, params, severity, templates, allow-list
        as_of DATE NOT NULL,
        tables JSON NOT NULL,                -- {"treasury.payments": {"batches": {"B1": 1200}} | {"rows": n, "hash": h}}
        run_id VARCHAR NOT NULL,
        flags_raised INTEGER NOT NULL,
        evaluated_at TIMESTAMPTZ NOT NULL
      )`);
      await s.run('ALTER TABLE fiscus.rule_run_results ADD COLUMN mode VARCHAR');             // full | incremental | unchanged
      await s.run('ALTER TABLE fiscus.rule_run_results ADD COLUMN flags_reproduced INTEGER DEFAULT 0');
      await s.run('ALTER TABLE fiscus.rule_run_results ADD COLUMN flags_suppressed INTEGER DEFAULT 0');
      await s.run('ALTER TABLE fiscus.rule_run_results ADD COLUMN details JSON');             // suppression reasons, scope size
    },
  },
  {
    version: 3,
    description: 'webhook delivery log and per-endpoint cursors (api/webhooks.ts)',
    up: async (s) => {
      // Where each configured endpoint is in the alert feed: advances only after a 2xx (at-least-once).
      await s.run(`CREATE TABLE fiscus.webhook_cursors (
        endpoint_id VARCHAR PRIMARY KEY,
        last_seq BIGINT NOT NULL,            -- flag_events.seq delivered (or skipped as out of scope) up to
        updated_at TIMESTAMPTZ NOT NULL
      )`);
      // Every delivery attempt, successful or not.
      await s.run(`CREATE TABLE fiscus.webhook_deliveries (
        endpoint_id VARCHAR NOT NULL,
        message_id VARCHAR NOT NULL,         -- webhook-id header = flag_events.event_id
        event_seq BIGINT NOT NULL,
        attempt INTEGER NOT NULL,
        attempted_at TIMESTAMPTZ NOT NULL,
        status_code INTEGER,                 -- null: no HTTP response (timeout, refused)
        ok BOOLEAN NOT NULL,
        error VARCHAR,
        duration_ms INTEGER
      )`);
    },
  },
  {
    version: 4,
    description: 'debt.positions budget figures are optional (FEEDS.md): drop NOT NULL',
    up: async (s) => {
      // A debt panel row with only the limit and the balance must load (debt.over_limit
      // judges it). Dropping NOT NULL from an already nullable column is a no-op.
      for (const c of ['fiscal_capacity', 'interest_paid', 'general_expenditure', 'new_debt']) {
        await s.run(`ALTER TABLE debt.positions ALTER COLUMN ${quoteIdent(c)} DROP NOT NULL`);
      }
    },
  },
  {
    version: 5,
    description: 'flag event log keyed: key_id of the log key version that keyed each event (engine/log-key.ts)',
    up: async (s) => {
      // NULL: a legacy event hashed with plain SHA-256 before the log was keyed.
      await s.run('ALTER TABLE fiscus.flag_events ADD COLUMN key_id VARCHAR');
    },
  },
  {
    version: 6,
    description: 'livelihood projects (projects/README.md): projects, milestones, progress, supervision groups',
    up: async (s) => {
      // A fresh database already has them (version 1 creates every FEEDS table); an older one gets them here.
      await s.run('CREATE SCHEMA IF NOT EXISTS projects');
      for (const t of FEEDS.filter((f) => f.schema === 'projects')) {
        await s.run(feedTableDDL(t, 'released').replace(/^CREATE TABLE /, 'CREATE TABLE IF NOT EXISTS '));
      }
    },
  },
  {
    version: 7,
    description: 'fiscus.calendar_days.workday_ord: the running count of working days, so working-day arithmetic in rules is a key lookup',
    up: async (s) => {
      // Filled by refreshCalendar, which migrate runs after any migration. Rules computed this
      // ordinal with a window over the whole calendar in every query; PostgreSQL then scanned that
      // materialised CTE once per payment (is_workday at 1M payments: minutes), with no index to use.
      await s.run('ALTER TABLE fiscus.calendar_days ADD COLUMN workday_ord INTEGER');
    },
  },
  {
    version: 8,
    description: 'fiscus.flag_delta_keys: the delta key of each flag, so a run after new batches re-evaluates only the keys they touched',
    up: async (s) => {
      // Written by the runner with each evaluation (rules/run/store-flags.ts). A delta run may call
      // "not reproduced" only flags whose key it re-evaluated; a flag without a row here never is.
      await s.run(`CREATE TABLE fiscus.flag_delta_keys (
        flag_id VARCHAR PRIMARY KEY,
        rule_id VARCHAR NOT NULL,
        delta_key VARCHAR NOT NULL           -- key parts joined by U+001F, as the rule's delta_key column
      )`);
    },
  },
  {
    version: 9,
    description: 'PostgreSQL: an index on agency_code of every feed table that has one',
    up: async (s) => {
      // PostgreSQL runs a correlated subquery once per outer row; DuckDB decorrelates it into a hash
      // join. A rule's evidence list (the rows of one finding's group or window) and an anti-join the
      // planner misestimates then scan the whole table per finding: three_public_rise spent 50 s of
      // its 51 s at 1M payments in 144 such scans. Every treasury rule's group is within one agency,
      // so an index on agency_code turns each into an index scan of that agency's rows. DuckDB
      // needs none (and would pay for one on every ingest).
      if (s.engine !== 'postgres') return;
      for (const t of FEEDS.filter((f) => f.columns.some((c) => c.name === 'agency_code') && f.key.join() !== 'agency_code')) {
        await s.run(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${t.table}_agency_code`)} ON ${qualifiedName(t)} (agency_code)`);
      }
    },
  },
  {
    version: 10,
    description: 'DuckDB: feed tables without a primary-key index (ingest enforces keys set-wise)',
    up: async (s) => {
      // DuckDB keeps a primary key as an ART index that must fit in memory: at 10M payments it
      // took half the load's time, and at 30M the load failed with "Out of Memory" under the
      // default 1.5 GiB limit. Keys stay unique because only ingest writes feed tables and it
      // checks them (ingest/fast-path.ts keysClash; the full path flags duplicates and joins on
      // the key). DuckDB cannot drop a primary key in place, so each table is rebuilt.
      // PostgreSQL keeps its primary keys: a B-tree lives on disk and its upsert relies on it.
      if (s.engine !== 'duckdb') return;
      for (const t of FEEDS) {
        const tmp = `${t.table}__rebuild`;
        const rebuilt = `${quoteIdent(t.schema)}.${quoteIdent(tmp)}`;
        const names = [...t.columns.map((c) => c.name), ...SYSTEM_COLUMNS.map((c) => c.name)].map(quoteIdent).join(', ');
        await s.run(feedTableDDL(t, 'released', { as: tmp }));
        await s.run(`INSERT INTO ${rebuilt} (${names}) SELECT ${names} FROM ${qualifiedName(t)}`);
        await s.run(`DROP TABLE ${qualifiedName(t)}`);
        await s.run(`ALTER TABLE ${rebuilt} RENAME TO ${quoteIdent(t.table)}`);
      }
    },
  },
  {
    version: 11,
    description: 'DuckDB: _row_hash of feed tables is the hash itself (UBIGINT), not its decimal text',
    up: async (s) => {
      // Nothing compares the hash as text: ingest compares the columns, and the hash is kept for
      // readers. As text, each load stored one more incompressible string column: DuckDB's
      // string compression of 5M random 20-digit strings took 1.5 s of insert against 0.1 s for
      // the numbers, ~7% of a 1M-row load. Every stored value is the decimal text of a UBIGINT
      // (CAST(hash(...) AS VARCHAR)); a value written by hand that is not gets the hash of its
      // text. PostgreSQL has no unsigned 64-bit type and keeps the text (COPY writes the same digits).
      if (s.engine !== 'duckdb') return;
      for (const t of FEEDS) {
        await s.run(`ALTER TABLE ${qualifiedName(t)} ALTER _row_hash TYPE UBIGINT
          USING coalesce(TRY_CAST(_row_hash AS UBIGINT), hash(_row_hash))`);
      }
    },
  },
];

/** Apply every migration newer than the database, in order. */
export async function migrate(store: Store, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await store.run('CREATE SCHEMA IF NOT EXISTS fiscus');
  await store.run(`CREATE TABLE IF NOT EXISTS fiscus.schema_version (
    version INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
  )`);
  const row = await store.one<{ v: number | null }>('SELECT max(version) AS v FROM fiscus.schema_version');
  const current = row?.v ?? 0;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new FiscusError(
      `database ${store.path} has schema version ${current}, newer than this fiscus (${latest}). Upgrade fiscus; ` +
        'migrations only go forward.',
      { code: 'DB_TOO_NEW' },
    );
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    // An existing database is being upgraded: say so, since a migration may rebuild tables (10 copies
    // every feed table: about 5 s per million payments) and the command would otherwise look hung.
    if (current > 0) process.stderr.write(`升级数据库 ${store.path}：第 ${m.version} 步 / upgrading the database: migration ${m.version}, ${m.description}\n`);
    await store.transaction(async () => {
      await m.up(store);
      await store.run('INSERT INTO fiscus.schema_version VALUES ($v, $d, now())', { v: m.version, d: m.description });
    });
    applied.push(m.version);
  }
  // Also when the working-day table ends too soon (made by an older fiscus, or years ago): its SQL is null past the end.
  if (applied.length > 0 || (await calendarTooShort(store))) await refreshCalendar(store);
  // A new or upgraded DuckDB file leaves its schema in the WAL (~390 KB for a new one), which the
  // first large commit would then checkpoint: a first load of 100k payments paid ~19 ms for it.
  // The file holds its whole schema from here on, and no later open replays it.
  if (applied.length > 0 && store.engine === 'duckdb') await store.run('CHECKPOINT');
  return applied;
}

export async function schemaVersion(store: Store): Promise<number> {
  const row = await store.one<{ v: number | null }>('SELECT max(version) AS v FROM fiscus.schema_version');
  return row?.v ?? 0;
}
