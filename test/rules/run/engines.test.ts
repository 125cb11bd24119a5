/**
 * Two engines, one answer (issue 12): the bundled sample ingested into a DuckDB file and
 * into a PostgreSQL 15 database, the built-in pack run on both (DuckDB SQL on one, the
 * rule language's PostgreSQL dialect on the other), and the flags compared field by field:
 * ids, rules, severities, titles, entities, periods, measures, amounts and evidence.
 * Then a second run on both: nothing new, everything reproduced, on each engine alike.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../engine/db.ts';
import { verifyEventChain } from '../../../engine/flag-events.ts';
import { ingestPath } from '../../../ingest/index.ts';
import { compileRule } from '../../../rules/language/index.ts';
import { loadDefinitions, withConfig } from '../../../rules/run/catalog.ts';
import { runRules, type RunSummary } from '../../../rules/run/runner.ts';
import type { CompiledRule } from '../../../rules/types.ts';
import { freshDatabase } from '../../helpers/postgres.ts';

const SAMPLE = resolve(import.meta.dirname, '../../../fixtures/sample');
const AS_OF = (JSON.parse(readFileSync(join(SAMPLE, 'manifest.json'), 'utf8')) as { as_of: string }).as_of;
const NOW = new Date(`${AS_OF}T10:00:00+08:00`);

async function pack(dialect: 'duckdb' | 'postgres'): Promise<CompiledRule[]> {
  const loaded = withConfig(await loadDefinitions()).filter((r) => r.enabled);
  // compileRule is the language's own: the runner gets SQL written for the Store's engine.
  return loaded.map((r) => compileRule(r.def as Parameters<typeof compileRule>[0], { params: r.params, severity: r.severity, dialect }));
}

/** Every field a flag carries about its finding, JSON normalised (key order, spacing). */
async function flags(store: Store): Promise<Record<string, unknown>[]> {
  const rows = await store.all<Record<string, unknown>>(
    `SELECT flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name, region_code,
            agency_code, fiscal_year, CAST(period_start AS VARCHAR) AS period_start, CAST(period_end AS VARCHAR) AS period_end,
            measure_name, measure_value, measure_threshold, CAST(amount AS VARCHAR) AS amount,
            CAST(evidence AS VARCHAR) AS evidence, evidence_query, status, reproduced
     FROM fiscus.flags ORDER BY flag_id`,
  );
  return rows.map((r) => ({ ...r, evidence: JSON.parse(String(r.evidence)) }));
}

function perRule(s: RunSummary): Record<string, [string, number]> {
  return Object.fromEntries(s.rules.map((r) => [r.rule_id, [r.outcome, r.flags_raised]]));
}

const havePg = !!process.env.FISCUS_TEST_PG_URL;

describe.skipIf(!havePg)('the built-in pack on DuckDB and on PostgreSQL', () => {
  let duck: Store;
  let pg: Store;
  let first: { duck: RunSummary; pg: RunSummary };

  beforeAll(async () => {
    duck = await openStore(join(mkdtempSync(join(tmpdir(), 'fiscus-engines-')), 'sample.duckdb'));
    pg = await openStore(await freshDatabase('engines'));
    for (const s of [duck, pg]) {
      const reports = await ingestPath(s, SAMPLE);
      expect(reports.filter((r) => r.status !== 'committed').map((r) => `${r.table}: ${r.message}`)).toEqual([]);
    }
    first = {
      duck: await runRules(duck, await pack('duckdb'), { asOf: AS_OF, actor: 'test', now: NOW }),
      pg: await runRules(pg, await pack('postgres'), { asOf: AS_OF, actor: 'test', now: NOW }),
    };
  }, 600_000);

  afterAll(async () => {
    await duck?.close();
    await pg?.close();
  });

  it('loads the same rows into both', async () => {
    const q = 'SELECT count(*) AS n, CAST(sum(amount) AS VARCHAR) AS total, count(DISTINCT _row_hash) AS hashes FROM treasury.payments';
    expect(await pg.one(q)).toEqual(await duck.one(q));
    const b = "SELECT table_name, rows_read, accepted, rejected, inserted, CAST(control_sums AS VARCHAR) AS sums FROM fiscus.batches ORDER BY table_name";
    const norm = (rows: Record<string, unknown>[]) => rows.map((r) => ({ ...r, sums: JSON.parse(String(r.sums)) }));
    expect(norm(await pg.all(b))).toEqual(norm(await duck.all(b)));
  });

  it('every rule evaluates on both, with the same outcome and count', () => {
    expect(first.pg.rules.filter((r) => r.outcome === 'error').map((r) => `${r.rule_id}: ${r.reason}`)).toEqual([]);
    expect(perRule(first.pg)).toEqual(perRule(first.duck));
    expect(first.duck.totals.flags_raised).toBeGreaterThan(20);
  });

  it('raises identical flags: ids, measures, amounts, evidence', async () => {
    const [d, p] = [await flags(duck), await flags(pg)];
    expect(p.length).toBe(d.length);
    expect(p.map((f) => f.flag_id)).toEqual(d.map((f) => f.flag_id));
    for (let i = 0; i < d.length; i++) expect(p[i], `flag ${String(d[i]!.flag_id)} (${String(d[i]!.rule_id)})`).toEqual(d[i]);
  });

  it('keeps the same keyed event log, and a re-run changes nothing on either', async () => {
    const ev = `SELECT flag_id, event_type, from_status, to_status, actor, role FROM fiscus.flag_events ORDER BY seq`;
    expect(await pg.all(ev)).toEqual(await duck.all(ev));
    expect((await verifyEventChain(pg)).ok).toBe(true);
    const again = {
      duck: await runRules(duck, await pack('duckdb'), { asOf: AS_OF, actor: 'test', now: NOW }),
      pg: await runRules(pg, await pack('postgres'), { asOf: AS_OF, actor: 'test', now: NOW }),
    };
    expect(again.pg.totals.flags_new).toBe(0);
    expect(perRule(again.pg)).toEqual(perRule(again.duck));
    expect(await flags(pg)).toEqual(await flags(duck));
  });

  it('refuses a pack compiled for the other engine, saying how to fix it', async () => {
    await expect(runRules(pg, (await pack('duckdb')).slice(0, 1), { asOf: AS_OF })).rejects.toThrow(/compiled for duckdb but the database is postgres/);
  });
});
