/** Test fixtures: a real DuckDB file, flags inserted as the rule runner would (row + flag.discovered event). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../engine/db.ts';
import { appendFlagEvents } from '../../engine/flag-events.ts';
import type { CliIO } from '../../cli/context.ts';
import { main } from '../../cli/main.ts';
import { testDbLocation } from '../helpers/postgres.ts';

/** A temp dir and a fresh database: a DuckDB file in it, or a PostgreSQL database (FISCUS_TEST_ENGINE=postgres). */
export function tempDb(): { dir: string; db: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fiscus-track-'));
  return { dir, db: testDbLocation(path.join(dir, 'track.duckdb')) };
}

export interface FlagSeed {
  flag_id: string;
  rule_id?: string;
  severity?: 'high' | 'medium' | 'low';
  agency_code?: string | null;
  region_code?: string | null;
  amount?: string | null;
  /** ISO timestamp (UTC). */
  first_seen_at?: string;
  reproduced?: boolean;
}

/** Insert flags in status discovered with their flag.discovered events, like rules/run does. */
export async function insertFlags(store: Store, seeds: FlagSeed[]): Promise<void> {
  await store.transaction(async () => {
    for (const s of seeds) {
      const seen = s.first_seen_at ?? '2026-01-05T02:00:00Z';
      await store.run(
        `INSERT INTO fiscus.flags (flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name,
           region_code, agency_code, fiscal_year, amount, evidence, status, reproduced, first_seen_at, last_seen_at, first_run_id, last_run_id)
         VALUES ($id, $rule, 1, $sev, $title, $title_en, 'payment', $id, NULL, $region, $agency, 2025, $amount::DECIMAL(18,2),
           '[{"table":"treasury.payments","key":"P1"}]', 'discovered', $rep, $seen::TIMESTAMPTZ, $seen::TIMESTAMPTZ, 'run-1', 'run-1')`,
        {
          id: s.flag_id,
          rule: s.rule_id ?? 'treasury.individual_large',
          sev: s.severity ?? 'high',
          title: `测试标记 ${s.flag_id}`,
          title_en: `Test flag ${s.flag_id}`,
          region: s.region_code === undefined ? '370811' : s.region_code,
          agency: s.agency_code === undefined ? 'A01' : s.agency_code,
          amount: s.amount === undefined ? '1000.00' : s.amount,
          rep: s.reproduced ?? true,
          seen,
        },
      );
      await appendFlagEvents(store, [
        { flag_id: s.flag_id, event_type: 'flag.discovered', to_status: 'discovered', actor: 'rules', role: 'system', at: new Date(seen) },
      ]);
    }
  });
}

/** ref.agencies: department D1 with units A01, A02; department D2 with unit B01. */
export async function insertAgencies(store: Store): Promise<void> {
  await store.run(`INSERT INTO ref.agencies (agency_code, agency_name, dept_code, region_code, _batch_id, _row_hash, _ingested_at) VALUES
    ('D1', '市教育局', 'D1', '370811', 'b', '1', now()),
    ('A01', '第一中学', 'D1', '370811', 'b', '2', now()),
    ('A02', '第二中学', 'D1', '370811', 'b', '3', now()),
    ('D2', '市卫健委', 'D2', '370811', 'b', '4', now()),
    ('B01', '人民医院', 'D2', '370811', 'b', '5', now())`);
}

export async function withStore<T>(db: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore(db);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in-process (it opens and closes the database itself). */
export async function cli(db: string, ...args: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false };
  const code = await main(['node', 'fiscus', '--db', db, ...args], io);
  return { code, out, err };
}
