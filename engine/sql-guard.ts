/**
 * Read-only SQL for analysts: exactly one plain SELECT, decided by DuckDB's own
 * parser, never by looking at the text.
 *
 * Three checks, in this order, all on DuckDB's parse of the text:
 *  1. `extractStatements`: exactly one statement (comments, string literals and
 *     odd spacing cannot smuggle a second one past the parser).
 *  2. `json_serialize_sql`: DuckDB serialises SELECT statements only. PRAGMA
 *     (which DuckDB rewrites into a SELECT-typed statement), EXPLAIN (whose
 *     ANALYZE form executes its statement), SET, CALL, COPY, ATTACH and every
 *     write fail here. The parsed tree is then walked: every table function must
 *     be on an allow-list (file readers, `query()`, `checkpoint()`,
 *     `duckdb_databases()`/`duckdb_settings()`… are not), no scalar function may
 *     reveal settings or change state (`current_setting`, `nextval`, `sleep_ms`…),
 *     and no table name may be a file path (DuckDB's replacement scans read
 *     `FROM 'x.csv'`). Names are the parser's, so quoting, case and schema or
 *     catalog qualification (`system.main."READ_TEXT"`) change nothing.
 *  3. `prepare`: the prepared statement's type must be SELECT.
 * The tree is checked before `prepare`, because binding a table function already
 * runs it in part (`read_csv` sniffs its file while binding).
 *
 * Callers that run an analyst's SQL also run it in a read-only transaction
 * (`inReadOnlyTransaction`), so a writing function nobody foresaw still fails;
 * the server and `fiscus query` also lock the instance down (api/lockdown.ts).
 */
import { StatementType, type DuckDBConnection, type DuckDBExtractedStatements, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { FiscusError } from './errors.ts';

export class SqlRejected extends FiscusError {
  constructor(message: string) {
    super(message, { code: 'SQL_REJECTED', exitCode: 1, httpStatus: 400 });
  }
}

export interface GuardOptions {
  /**
   * Allow the file-reading table functions (`read_csv`, `read_parquet`, `read_text`,
   * `glob`…) and file replacement scans (`FROM 'x.csv'`). Only for a local operator who
   * asked for it (`fiscus query --allow-files DIR`); the instance's `allowed_directories`
   * still confine them.
   */
  allowFiles?: boolean;
}

const ZH = '只允许单条只读 SELECT 查询';
const EN = 'only a single read-only SELECT is allowed';
const ONLY_SELECT = `${ZH} / ${EN}`;

/** Table functions an analyst may call: generators, JSON unnesting and the schema catalogue. */
const TABLE_FUNCTIONS = new Set([
  'range',
  'generate_series',
  'unnest',
  'repeat',
  'repeat_row',
  'json_each',
  'json_tree',
  'pg_timezone_names',
  'icu_calendar_names',
  // The catalogue, which names tables and columns but no file path or setting.
  'duckdb_tables',
  'duckdb_columns',
  'duckdb_views',
  'duckdb_schemas',
  'duckdb_types',
  'duckdb_constraints',
  'duckdb_indexes',
  'duckdb_functions',
  'duckdb_keywords',
]);

/** Further table functions allowed with `allowFiles`. */
const FILE_TABLE_FUNCTIONS = new Set([
  'read_csv',
  'read_csv_auto',
  'sniff_csv',
  'read_json',
  'read_json_auto',
  'read_json_objects',
  'read_json_objects_auto',
  'read_ndjson',
  'read_ndjson_auto',
  'read_ndjson_objects',
  'read_parquet',
  'parquet_scan',
  'parquet_metadata',
  'parquet_schema',
  'parquet_file_metadata',
  'parquet_kv_metadata',
  'read_text',
  'read_blob',
  'glob',
]);

/** Scalar functions (and macros) that reveal settings, change state, or run SQL given as text. */
const DENIED_FUNCTIONS = new Map<string, string>([
  ['current_setting', 'reveals server settings'],
  ['getvariable', 'reveals server variables'],
  ['get_block_size', 'reveals storage details'],
  ['nextval', 'advances a sequence'],
  ['currval', 'reads sequence state'],
  ['setseed', 'changes the connection state'],
  ['write_log', 'writes to the log'],
  ['sleep_ms', 'only holds resources'],
  ['pg_sleep', 'only holds resources'],
  ['json_serialize_plan', 'plans SQL given as text'],
  ['json_execute_serialized_sql', 'runs SQL given as text'],
  ['query', 'runs SQL given as text'],
  ['query_table', 'runs SQL given as text'],
]);

/** A table name DuckDB would read as a file (replacement scan): a path or a name with an extension. */
const FILE_LIKE_NAME = /[/\\.:~]/;

function article(word: string): string {
  // "an UPDATE", "an EXPLAIN", but "a USE".
  return /^(?:[AEIO]|U(?!S))/i.test(word) ? 'an' : 'a';
}

/** The first keyword, only to say in a refusal what the statement is; the decision is the parser's. */
function firstKeyword(sql: string): string {
  const stripped = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)+/, '');
  return (/^[A-Za-z_]+/.exec(stripped)?.[0] ?? 'non-SELECT').toUpperCase();
}

function notSelect(kind: string): SqlRejected {
  const extra = kind === 'EXPLAIN' ? ' (EXPLAIN ANALYZE executes its statement)' : '';
  return new SqlRejected(`${ONLY_SELECT}: this is ${article(kind)} ${kind} statement${extra}`);
}

interface Finding {
  kind: 'function' | 'table_function' | 'file';
  name: string;
  why: string;
}

/** Walk DuckDB's serialised parse tree; return the first thing an analyst may not use. */
function findForbidden(node: unknown, opts: GuardOptions): Finding | undefined {
  if (Array.isArray(node)) {
    for (const child of node) {
      const f = findForbidden(child, opts);
      if (f) return f;
    }
    return undefined;
  }
  if (node === null || typeof node !== 'object') return undefined;
  const o = node as Record<string, unknown>;
  if (o.type === 'TABLE_FUNCTION') {
    const fn = o.function as Record<string, unknown> | undefined;
    const name = String(fn?.function_name ?? '').toLowerCase();
    if (!TABLE_FUNCTIONS.has(name) && !(opts.allowFiles && FILE_TABLE_FUNCTIONS.has(name))) {
      const why = FILE_TABLE_FUNCTIONS.has(name) ? 'reads files' : DENIED_FUNCTIONS.get(name) ?? 'is not on the list of table functions analysts may use';
      return { kind: 'table_function', name, why };
    }
  }
  if ((o.type === 'BASE_TABLE' || o.type === 'SHOW_REF') && typeof o.table_name === 'string' && !opts.allowFiles) {
    // SHOW_REF names arrive quoted ("tables"); a file path has / . : \ or ~ in it either way.
    const bare = o.table_name.replace(/^"(.*)"$/, '$1');
    if (FILE_LIKE_NAME.test(bare)) return { kind: 'file', name: o.table_name, why: 'is read as a file' };
  }
  if (typeof o.function_name === 'string') {
    const name = o.function_name.toLowerCase();
    const why = DENIED_FUNCTIONS.get(name);
    if (why) return { kind: 'function', name, why };
  }
  for (const v of Object.values(o)) {
    if (v !== null && typeof v === 'object') {
      const f = findForbidden(v, opts);
      if (f) return f;
    }
  }
  return undefined;
}

function refusal(f: Finding): SqlRejected {
  if (f.kind === 'file') {
    return new SqlRejected(`${ZH}，不可读取文件 ${JSON.stringify(f.name)} / ${EN}: the table name ${JSON.stringify(f.name)} ${f.why}; analysts' SQL reads the database only`);
  }
  const what = f.kind === 'table_function' ? 'table function' : 'function';
  return new SqlRejected(`${ZH}，不可使用 ${f.name}() / ${EN}: the ${what} ${f.name}() ${f.why}`);
}

/**
 * Check `sql` with DuckDB's parser (see the module comment) without binding it.
 * Throws SqlRejected with the reason.
 */
export async function checkReadOnly(conn: DuckDBConnection, sql: string, opts: GuardOptions = {}): Promise<DuckDBExtractedStatements> {
  let extracted: DuckDBExtractedStatements;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (err) {
    if (sql.trim() === '') throw new SqlRejected(`SQL 为空 / ${EN}: the SQL is empty`);
    throw new SqlRejected(`SQL 无法解析 / SQL does not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (extracted.count !== 1) {
    throw new SqlRejected(`${ONLY_SELECT}: exactly one statement is allowed (got ${extracted.count})`);
  }
  const r = await conn.runAndReadAll('SELECT json_serialize_sql($sql::VARCHAR) AS tree', { sql });
  const tree = JSON.parse(String(r.getRowObjectsJson()[0]?.tree)) as { error?: boolean; statements?: unknown[] };
  if (tree.error || !Array.isArray(tree.statements) || tree.statements.length !== 1) throw notSelect(firstKeyword(sql));
  const f = findForbidden(tree.statements, opts);
  if (f) throw refusal(f);
  return extracted;
}

/** Prepare `sql` after checking it is one read-only SELECT (checkReadOnly, then the prepared type). */
export async function prepareReadOnly(conn: DuckDBConnection, sql: string, opts: GuardOptions = {}): Promise<DuckDBPreparedStatement> {
  const extracted = await checkReadOnly(conn, sql, opts);
  return selectOnly(() => extracted.prepare(0));
}

/**
 * Prepare SQL that needs no tree walk (the rule compiler's own output, rules/language/emit/provenance.ts):
 * DuckDB refuses to prepare more than one statement, and the prepared type must be SELECT.
 */
export async function prepareSelect(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  return selectOnly(() => conn.prepare(sql));
}

async function selectOnly(prepare: () => Promise<DuckDBPreparedStatement>): Promise<DuckDBPreparedStatement> {
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await prepare();
  } catch (err) {
    throw new SqlRejected(err instanceof Error ? err.message : String(err));
  }
  const type = prepared.statementType;
  if (type !== StatementType.SELECT) {
    prepared.destroySync();
    throw notSelect(StatementType[type] ?? String(type));
  }
  return prepared;
}

/**
 * Run `fn` on `conn` inside `BEGIN TRANSACTION READ ONLY` (DuckDB 1.5 refuses every
 * write in it: "transaction is launched in read-only mode"), rolled back afterwards.
 * `conn` must be a connection of its own, not one inside another transaction.
 */
export async function inReadOnlyTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION READ ONLY');
  try {
    return await fn();
  } finally {
    await conn.run('ROLLBACK').catch(() => undefined);
  }
}
