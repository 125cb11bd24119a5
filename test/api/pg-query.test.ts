/**
 * The analyst sandbox on PostgreSQL (api/pg-query.ts, engine/pg-analyst.ts), through a real
 * listening server on a PostgreSQL Store: plain reads with parameters work as on DuckDB; every
 * way through the door is refused and changes nothing — writes, a second statement, DDL,
 * sequences, server files (pg_read_file, COPY … PROGRAM, lo_import), becoming another role,
 * and a query that runs too long.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '../../engine/db.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { insertFlags, startServer, T } from './helpers.ts';

const havePg = !!process.env.FISCUS_TEST_PG_URL;

describe.skipIf(!havePg)('POST /v1/query on PostgreSQL', () => {
  let store: Store;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    store = await openStore(await freshDatabase('analyst'));
    await insertFlags(store, [{ flag_id: 'F1' }, { flag_id: 'F2', agency_code: 'A0102' }]);
    ({ app, url } = await startServer(store, { queryTimeoutMs: 1500, queryMaxRows: 1000 }));
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const query = async (sql: string, params?: Record<string, unknown>, format = 'json') => {
    const res = await fetch(`${url}/v1/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${T.analyst}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql, params, format }),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  };
  const snapshot = () => store.all('SELECT flag_id, status, CAST(amount AS VARCHAR) AS amount FROM fiscus.flags ORDER BY flag_id');

  it('answers a read with parameters, money as exact strings, and CSV', async () => {
    const r = await query('SELECT flag_id, amount, fiscal_year FROM fiscus.flags WHERE agency_code = $a ORDER BY flag_id', { a: 'A0102' });
    expect(r.status).toBe(200);
    expect(JSON.stringify(JSON.parse(r.body))).toContain('"flag_id":"F2"');
    expect(r.body).toContain('"612000.00"');
    const csv = await query('SELECT flag_id FROM fiscus.flags ORDER BY 1', undefined, 'csv');
    expect(csv.status).toBe(200);
    expect(csv.body).toBe('flag_id\nF1\nF2\n');
    const typo = await query('SELECT 1 AS x', { nope: 1 });
    expect(typo.status).toBe(400);
  });

  it('runs as a role that is not a superuser, in a read-only transaction', async () => {
    const r = await query("SELECT current_user AS u, current_setting('transaction_read_only') AS ro, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su");
    expect(r.status).toBe(200);
    expect(r.body).toContain('"u":"fiscus_analyst"');
    expect(r.body).toContain('"ro":"on"');
    expect(r.body).toContain('"su":false');
  });

  it('refuses every way through: writes, a second statement, DDL, sequences, files, programs, roles', async () => {
    const before = await snapshot();
    const attacks = [
      "UPDATE fiscus.flags SET status = 'closed'",
      "SELECT 1; UPDATE fiscus.flags SET status = 'closed'",
      "WITH x AS (UPDATE fiscus.flags SET status = 'closed' RETURNING 1) SELECT * FROM x",
      'DELETE FROM fiscus.flag_events',
      'CREATE TABLE fiscus.evil (x int)',
      'SELECT * INTO TEMP evil FROM fiscus.flags',
      "SELECT nextval('pg_catalog.pg_class_oid_seq')",
      "SELECT pg_read_file('/etc/passwd')",
      "SELECT lo_import('/etc/passwd')",
      "COPY fiscus.flags TO PROGRAM 'id'",
      "SELECT set_config('role', 'postgres', false)",
      "SELECT set_config('transaction_read_only', 'off', true), (SELECT count(*) FROM fiscus.flags)",
      'SET ROLE postgres',
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename <> current_user",
    ];
    for (const sql of attacks) {
      const r = await query(sql);
      expect(r.status, `${sql} → ${r.status} ${r.body}`).toBeGreaterThanOrEqual(400);
      expect(r.type).toContain('application/problem+json');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('cancels a query that runs past the time limit with a 422, and keeps serving', async () => {
    const t0 = Date.now();
    const r = await query('SELECT pg_sleep(10)');
    expect(r.status).toBe(422);
    expect(r.body).toContain('QUERY_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(8000);
    expect((await query('SELECT 1 AS ok')).status).toBe(200);
  });
});
