/** Shared setup for the watcher tests: a real DuckDB file (or PostgreSQL), a real drop folder, small payment files. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../engine/db.ts';
import { testDbLocation } from '../helpers/postgres.ts';
import type { WatchEvent } from '../../watch/index.ts';

export const HEADER = 'payment_id,fiscal_year,region_code,agency_code,indicator_id,func_code,econ_code,fund_source,project_code,payee_name,payee_account,payee_type,amount,pay_date,pay_method,purpose,direct_fund';

/** The one rule the tests run (fast): a payment of ≥ 10,000 on a non-working day. */
export const RULES = { asOf: '2025-12-31', ruleIds: ['treasury.nonworking_day'] };

/**
 * A payments file: `n` ordinary payments on working days, plus `sundays` payments of 50,000
 * on Sunday 2025-06-01 (each one a treasury.nonworking_day flag). Ids are `${prefix}-…`.
 */
export function paymentsCsv(prefix: string, n: number, sundays = 0): string {
  const rows = [HEADER];
  for (let i = 0; i < n; i++) {
    rows.push(`${prefix}-${i},2025,370800,A0101,,2050101,30201,general,,某某公司,6222000000000${i},org,${(1000 + i).toFixed(2)},2025-06-03,direct,办公用品,false`);
  }
  for (let i = 0; i < sundays; i++) {
    rows.push(`${prefix}-S${i},2025,370800,A0101,,2050101,30201,general,,某某公司,6222000000001${i},org,50000.00,2025-06-01,direct,会议费,false`);
  }
  return `${rows.join('\n')}\n`;
}

export async function setup(): Promise<{ root: string; dir: string; store: Store; cleanup: () => Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'fiscus-watch-'));
  const dir = join(root, 'in');
  mkdirSync(dir);
  const store = await openStore(testDbLocation(join(root, 'db.duckdb')));
  return {
    root,
    dir,
    store,
    cleanup: async () => {
      await store.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function batches(store: Store): Promise<{ source: string; status: string; accepted: string }[]> {
  return store.all('SELECT source, status, accepted::VARCHAR AS accepted FROM fiscus.batches ORDER BY started_at');
}

export function ofType<K extends WatchEvent['type']>(events: WatchEvent[], type: K): Extract<WatchEvent, { type: K }>[] {
  return events.filter((e): e is Extract<WatchEvent, { type: K }> => e.type === type);
}
