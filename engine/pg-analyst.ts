/**
 * The analyst sandbox on PostgreSQL.
 *
 * DuckDB's sandbox is its parser plus the instance lockdown (api/lockdown.ts). On
 * PostgreSQL the server enforces it, in layers:
 * - analyst SQL runs on its own pool, logged in as `fiscus_analyst`: not a superuser (so
 *   no pg_read_file, COPY … PROGRAM, lo_import), no CREATE anywhere, SELECT only on the
 *   feed schemas and fiscus; `default_transaction_read_only` and a `statement_timeout`
 *   are set on the role itself;
 * - every query runs in `BEGIN TRANSACTION READ ONLY` with `SET LOCAL statement_timeout`,
 *   and is rolled back;
 * - the extended protocol: one statement per query (a `;`-chained second one is refused
 *   by the server's parser).
 * The role is created (or its grants refreshed) by the Store's own user, which therefore
 * needs CREATEROLE once; where fiscus may not create roles, create it by hand with the
 * statements of `analystSetupSql` and point FISCUS_PG_ANALYST_URL at it.
 */
import pg from 'pg';
import { FEEDS } from './feeds.ts';
import { FiscusError } from './errors.ts';

export const ANALYST_ROLE = 'fiscus_analyst';

/** Schemas analysts may read: every feed schema and fiscus (flags, batches, …), as on DuckDB. */
export function analystSchemas(): string[] {
  return ['fiscus', ...new Set(FEEDS.map((t) => t.schema))];
}

/** The statements that create the role and its grants in database `db` (idempotent but for CREATE ROLE). */
export function analystSetupSql(db: string, timeoutMs = 30_000): string[] {
  const schemas = analystSchemas().map((s) => `"${s}"`).join(', ');
  const role = ANALYST_ROLE;
  return [
    `ALTER ROLE ${role} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT LOGIN`,
    `ALTER ROLE ${role} SET default_transaction_read_only = on`,
    `ALTER ROLE ${role} SET statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`,
    `GRANT CONNECT ON DATABASE "${db.replaceAll('"', '""')}" TO ${role}`,
    `GRANT USAGE ON SCHEMA ${schemas} TO ${role}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${schemas} TO ${role}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schemas} GRANT SELECT ON TABLES TO ${role}`,
  ];
}

/** Create the role when missing and (re)grant it; run with the Store's main client. */
export async function setupAnalystRole(client: pg.Client | pg.PoolClient, db: string): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [ANALYST_ROLE]);
  if (exists.rowCount === 0) {
    try {
      await client.query(`CREATE ROLE ${ANALYST_ROLE} LOGIN`);
    } catch (err) {
      // Another database of the same cluster created it meanwhile.
      const code = (err as { code?: string }).code;
      if (code !== '42710' && code !== '23505') throw err;
    }
  }
  for (const sql of analystSetupSql(db)) {
    try {
      await client.query(sql);
    } catch (err) {
      // Concurrent GRANTs on one cluster can collide on the catalog row ("tuple concurrently updated"): once more.
      if ((err as { code?: string }).code !== 'XX000') throw err;
      await client.query(sql);
    }
  }
}

/** Where analysts connect: FISCUS_PG_ANALYST_URL, else the Store's URL as user fiscus_analyst without a password. */
export function analystUrl(storeUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.FISCUS_PG_ANALYST_URL) return env.FISCUS_PG_ANALYST_URL;
  const u = new URL(storeUrl);
  u.username = ANALYST_ROLE;
  u.password = '';
  return u.toString();
}

export function analystUnavailable(err: unknown): FiscusError {
  return new FiscusError(
    `the analyst role ${ANALYST_ROLE} is not usable (${(err as Error).message}); create it with CREATEROLE rights once, ` +
      'or set FISCUS_PG_ANALYST_URL to a read-only, non-superuser login (engine/pg-analyst.ts)',
    { code: 'ANALYST_ROLE' },
  );
}
