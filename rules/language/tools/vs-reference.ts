/**
 * Cross-check and benchmark: run every built-in rule and its hand-written
 * reference query (rules/reference/<id>.sql) on a loaded database, compare the
 * findings (entity + period start) and the time (best of N runs).
 *
 *   npx tsx rules/language/tools/vs-reference.ts <db.duckdb> [as_of=2025-12-31] [runs=2] [rule-substring]
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATE, dateValue } from '@duckdb/node-api';
import { openStore } from '../../../engine/db.ts';
import { referenceSql } from '../../reference/run-reference.ts';
import { bindValues } from '../../run/bind.ts';
import { compileRule, loadBuiltinPack } from '../index.ts';

const REFERENCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../reference');
const [db, asOf = '2025-12-31', runsArg = '2', only] = process.argv.slice(2);
if (!db) {
  process.stderr.write('usage: vs-reference.ts <db.duckdb> [as_of] [runs] [rule-substring]\n');
  process.exit(2);
}
const runs = Number(runsArg);
const store = await openStore(db, { readOnly: true });
const [y, m, d] = asOf.split('-').map(Number);
const asOfValue = dateValue({ year: y, month: m, day: d });
let totalOurs = 0;
let totalRef = 0;
let mismatches = 0;
for (const def of await loadBuiltinPack()) {
  if (only && !def.meta.id.includes(only)) continue;
  // Rules without a hand-written reference query (e.g. the livelihood-project rules) are not compared.
  if (!existsSync(join(REFERENCE_DIR, `${def.meta.id}.sql`))) {
    process.stdout.write(`${def.meta.id.padEnd(32)} no reference query, skipped\n`);
    continue;
  }
  const c = compileRule(def);
  let ours = Infinity;
  let ref = Infinity;
  let ourKeys: string[] = [];
  let refKeys: string[] = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    const r1 = await store.withConnection((conn) => conn.runAndReadAll(c.sql, bindValues(c, asOf, null)), { writes: false });
    ours = Math.min(ours, performance.now() - t0);
    ourKeys = r1.getRowObjectsJson().map((r) => `${String(r.entity_id)}@${String(r.period_start)}`).sort();
    t0 = performance.now();
    const r2 = await store.withConnection((conn) => conn.runAndReadAll(referenceSql(def.meta.id), { as_of: asOfValue }, { as_of: DATE }), { writes: false });
    ref = Math.min(ref, performance.now() - t0);
    refKeys = r2.getRowObjectsJson().map((r) => `${String(r.entity_id)}@${String(r.period_start)}`).sort();
  }
  totalOurs += ours;
  totalRef += ref;
  const onlyOurs = ourKeys.filter((k) => !refKeys.includes(k));
  const onlyRef = refKeys.filter((k) => !ourKeys.includes(k));
  if (onlyOurs.length || onlyRef.length) mismatches++;
  process.stdout.write(
    `${def.meta.id.padEnd(32)} ours ${ours.toFixed(0).padStart(6)} ms  ref ${ref.toFixed(0).padStart(6)} ms  ×${(ours / Math.max(ref, 1)).toFixed(2)}  ` +
      `flags ${ourKeys.length}/${refKeys.length}${onlyOurs.length || onlyRef.length ? `  only ours: ${onlyOurs.slice(0, 3).join(' ')}  only ref: ${onlyRef.slice(0, 3).join(' ')}` : ''}\n`,
  );
}
process.stdout.write(`TOTAL ours ${totalOurs.toFixed(0)} ms  ref ${totalRef.toFixed(0)} ms  ×${(totalOurs / totalRef).toFixed(2)}  rules disagreeing: ${mismatches}\n`);
await store.close();
