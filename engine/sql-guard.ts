/**
 * Read-only SQL for analysts: exactly one statement, and it must be a SELECT
 * (or EXPLAIN of one). DuckDB parses the text itself, so comments, string
 * literals and odd spacing cannot smuggle a second statement past us.
 */
import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { FiscusError } from './errors.ts';

export class SqlRejected extends FiscusError {
  constructor(message: string) {
    super(message, { code: 'SQL_REJECTED', exitCode: 1, httpStatus: 400 });
  }
}

/** Prepare `sql` after checking it is a single read-only statement. */
export async function prepareReadOnly(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  let extracted;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (err) {
    throw new SqlRejected(`SQL does not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (extracted.count !== 1) {
    throw new SqlRejected(`exactly one statement is allowed (got ${extracted.count})`);
  }
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    throw new SqlRejected(err instanceof Error ? err.message : String(err));
  }
  const type = prepared.statementType;
  if (type !== StatementType.SELECT && type !== StatementType.EXPLAIN) {
    throw new SqlRejected(`only SELECT queries are allowed (this is a ${StatementType[type] ?? type} statement)`);
  }
  return prepared;
}
