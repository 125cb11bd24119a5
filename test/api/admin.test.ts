/**
 * Admin endpoints under the DuckDB lockdown: ingest a file inside the server's ingest
 * directory (outside → refused), run the rules, and the new flags reach the alert feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { getJson, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let app: FastifyInstance;
let url: string;
let dir: string;
let cleanup: () => Promise<void>;

const post = (path: string, body: unknown, token = T.admin) =>
  getJson(`${url}${path}`, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  ({ store, dir, cleanup } = await tempStore());
  const ingestDir = join(dir, 'ingest');
  mkdirSync(ingestDir);
  // Four payments of 60,000–70,000 to one payee within 7 days: a split payment.
  const header = 'payment_id,fiscal_year,region_code,agency_code,indicator_id,func_code,econ_code,fund_source,project_code,payee_name,payee_account,payee_type,amount,pay_date,pay_method,purpose,direct_fund';
  const rows = [
    'P1,2025,370811,A0101,,20502,30201,general,,某某公司,6222000011,org,"65,000.00",2025-03-03,direct,办公设备,false',
    'P2,2025,370811,A0101,,20502,30201,general,,某某公司,6222000011,org,68000.00,2025-03-04,direct,办公设备,false',
    'P3,2025,370811,A0101,,20502,30201,general,,某某公司,6222000011,org,69000.00,2025-03-06,direct,办公设备,false',
  ];
  writeFileSync(join(ingestDir, 'treasury.payments.csv'), `${header}\n${rows.join('\n')}\n`);
  writeFileSync(join(dir, 'outside.csv'), `${header}\n${rows[0]}\n`);
  ({ app, url } = await startServer(store, { ingestDir }));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

describe('admin endpoints', () => {
  it('only admin tokens may use them', async () => {
    expect((await post('/v1/ingest', { source: 'treasury.payments.csv' }, T.analyst)).status).toBe(403);
    expect((await post('/v1/rules/run', {}, T.supervisor)).status).toBe(403);
  });

  it('ingests a file inside the ingest directory despite the lockdown; refuses paths outside it', async () => {
    const r = await post('/v1/ingest', { source: 'treasury.payments.csv' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.reports[0]).toMatchObject({ status: 'committed', accepted: 3 });
    const n = await store.one<{ n: string }>('SELECT count(*) AS n FROM treasury.payments');
    expect(n?.n).toBe('3');
    for (const source of ['../outside.csv', join(dir, 'outside.csv'), '/etc/passwd']) {
      const bad = await post('/v1/ingest', { source });
      expect([403, 404]).toContain(bad.status);
      expect(bad.type).toContain('application/problem+json');
    }
    // Analysts still cannot read the ingest directory through SQL.
    const q = await post('/v1/query', { sql: `SELECT * FROM read_csv('${join(dir, 'outside.csv')}')` }, T.analyst);
    expect(q.status).toBeGreaterThanOrEqual(400);
  });

  it('runs the rules; new flags appear in the alert feed', async () => {
    const r = await post('/v1/rules/run', { as_of: '2025-12-31', rules: ['treasury.split_payment', 'treasury.no_budget'] });
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
    const feed = await getJson(`${url}/v1/alerts?limit=1000`, T.portal);
    const rules = new Set(feed.body.items.map((i: any) => i.rule_id));
    expect(rules.has('treasury.split_payment')).toBe(true);
    expect(feed.body.items.every((i: any) => i.event.type === 'flag.discovered')).toBe(true);
  });

  it('flag detail carries the evidence rows looked up in their feed tables', async () => {
    const list = await getJson(`${url}/v1/flags?rule=treasury.split_payment`, T.analyst);
    const id = list.body.items[0].flag_id;
    const d = await getJson(`${url}/v1/flags/${id}`, T.analyst);
    expect(d.status).toBe(200);
    expect(d.body.evidence.map((e: any) => e.key).sort()).toEqual(['P1', 'P2', 'P3']);
    const rows = d.body.evidence_rows.map((e: any) => [e.table, e.key, e.row?.amount, e.row?.payee_account]);
    expect(rows.sort()).toEqual([
      ['treasury.payments', 'P1', '65000.00', '6222000011'],
      ['treasury.payments', 'P2', '68000.00', '6222000011'],
      ['treasury.payments', 'P3', '69000.00', '6222000011'],
    ]);
    expect(d.body.history[0].type).toBe('flag.discovered');
    expect(d.body.tracker.allowed_actions).toContain('confirm');
  });
});
