/**
 * The built-in pack on the bundled sample (fixtures/sample): its flags are
 * exactly the manifest's expected ones, no near-miss is flagged, and they agree
 * with the hand-written reference SQL (rules/reference/*.sql).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshCalendar } from '../../../engine/calendar.ts';
import { openStore, type Store } from '../../../engine/db.ts';
import { FEEDS, qualifiedName, quoteIdent, sqlType } from '../../../engine/feeds.ts';
import { compileRule, loadBuiltinPack } from '../../../rules/language/index.ts';
import { bindValues } from '../../../rules/run/bind.ts';
import { toResultRow } from '../../../rules/run/result-rows.ts';

const SAMPLE = join(import.meta.dirname, '../../../fixtures/sample');
const REFERENCE = join(import.meta.dirname, '../../../rules/reference/run-reference.ts');
const hasSample = existsSync(join(SAMPLE, 'manifest.json'));

interface Manifest {
  as_of: string;
  expected: { rule_id: string; entity_id: string; period_start: string | null; evidence: { table: string; key: string }[] }[];
  near_misses: { rule_id: string; entity_id: string; fiscal_year?: number | null }[];
}

let store: Store;
let manifest: Manifest;
type Flag = { entity_id: string; period_start: string | null; fiscal_year: number | null; evidence: { table: string; key: string }[] };
const flags = new Map<string, Flag[]>();

async function loadSample(s: Store): Promise<void> {
  for (const t of FEEDS) {
    const f = join(SAMPLE, `${t.name}.csv`);
    if (!existsSync(f)) continue;
    const cols = t.columns.map((c) => quoteIdent(c.name));
    const casts = t.columns.map((c) => `CAST(NULLIF(${quoteIdent(c.name)}, '') AS ${sqlType(c.type)})`);
    await s.run(
      `INSERT INTO ${qualifiedName(t)} (${cols.join(', ')}, _batch_id, _row_hash, _ingested_at)
       SELECT ${casts.join(', ')}, 'sample', '1', now() FROM read_csv('${f.replaceAll("'", "''")}', header = true, all_varchar = true)`,
    );
  }
  await refreshCalendar(s);
}

const key = (r: { rule_id: string; entity_id: string; period_start: string | null }) => `${r.rule_id} ${r.entity_id} ${r.period_start ?? '-'}`;

describe.skipIf(!hasSample)('built-in pack on the bundled sample', () => {
  beforeAll(async () => {
    manifest = JSON.parse(readFileSync(join(SAMPLE, 'manifest.json'), 'utf8')) as Manifest;
    store = await openStore(join(mkdtempSync(join(tmpdir(), 'fiscus-')), 'sample.duckdb'));
    await loadSample(store);
    for (const def of await loadBuiltinPack()) {
      const c = compileRule(def);
      const rows = await store.all(c.sql, bindValues(c, manifest.as_of, null) as never);
      // The runner's own reading of the result row: evidence arrives as JSON text.
      flags.set(def.meta.id, rows.map((r) => ({ ...r, evidence: toResultRow(r).evidence }) as unknown as Flag));
    }
  });
  afterAll(async () => {
    await store?.close();
  });

  const ours = () => [...flags].flatMap(([rule_id, rows]) => rows.map((r) => key({ rule_id, ...r }))).sort();

  it('raises exactly the expected flags', () => {
    // Every catalogue rule planted in the sample is in the pack.
    expect([...new Set(manifest.expected.map((e) => e.rule_id))].filter((id) => !flags.has(id))).toEqual([]);
    const expected = manifest.expected.map(key).sort();
    const got = ours();
    expect({ missing: expected.filter((k) => !got.includes(k)), unexpected: got.filter((k) => !expected.includes(k)) }).toEqual({ missing: [], unexpected: [] });
  });

  it('flags no near-miss', () => {
    const hit = manifest.near_misses.filter((n) =>
      flags.get(n.rule_id)?.some((f) => f.entity_id === n.entity_id && (n.fiscal_year == null || f.fiscal_year === n.fiscal_year)),
    );
    expect(hit.map((n) => `${n.rule_id} ${n.entity_id}`)).toEqual([]);
  });

  it('cites the expected evidence rows of the flagged table', () => {
    const problems: string[] = [];
    for (const e of manifest.expected) {
      const f = flags.get(e.rule_id)?.find((x) => x.entity_id === e.entity_id && x.period_start === e.period_start);
      if (!f || f.evidence.length === 0) continue; // evidence_query instead of keys
      const ourKeys = new Set(f.evidence.map((x) => `${x.table}:${x.key}`));
      // Our evidence cites the rows of the tables the finding is computed from; every one of them must be expected.
      const tables = new Set(f.evidence.map((x) => x.table));
      const want = e.evidence.filter((x) => tables.has(x.table)).map((x) => `${x.table}:${x.key}`);
      const missing = want.filter((k) => !ourKeys.has(k));
      if (missing.length) problems.push(`${key(e)}: missing ${missing.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it.skipIf(!existsSync(REFERENCE))('agrees with the hand-written reference SQL', async () => {
    const ref = (await import(REFERENCE)) as { runReference: (c: unknown, asOf: string) => Promise<{ rule_id: string; entity_id: string; period_start: string | null }[]> };
    const rows = await store.withConnection((conn) => ref.runReference(conn, manifest.as_of));
    const theirs = rows.filter((r) => flags.has(r.rule_id)).map(key).sort();
    const got = ours();
    expect({ onlyReference: theirs.filter((k) => !got.includes(k)), onlyOurs: got.filter((k) => !theirs.includes(k)) }).toEqual({ onlyReference: [], onlyOurs: [] });
  });
});
