/**
 * robust_z's floor (passes/prefilter.ts `zFloor`): with `value: ln(x)`, `having: z > k` and a
 * literal scale, rows whose x lies below exp(median + k·scale·MAD) are dropped before the
 * z-score is computed. The floor must never drop a row the exact test keeps: on the test
 * engine's real database, thresholds equal to rows' own z-scores (to the last bit) find
 * exactly the rows a rule without the floor finds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { Rng } from '../../../fixtures/generate/prng.ts';
import { compileRule, parseRuleText } from '../../../rules/language/index.ts';
import { addPayments, standingFlags, tempStore, type Pay } from '../run/helpers.ts';

/**
 * An outlier rule per agency. `scale: literal` takes the floor; `scale: $s` (the same 1.4826,
 * as a parameter) cannot, since a parameter could be negative. The entity name is z as text:
 * DuckDB and PostgreSQL print a double as the shortest text that reads back as the same double.
 */
function rule(engine: Store['engine'], o: { id: string; scale: 'literal' | 'param'; op: '>' | '>='; k: string }) {
  const text = `id: local.${o.id}
version: 1
status: test
severity: low
title: { zh: "异常 {payment_id}", en: "Outlier {payment_id}" }
params:
  k: { type: number, default: ${o.k} }${o.scale === 'param' ? '\n  s: { type: number, default: 1.4826 }' : ''}
reads: [treasury.payments]
robust_z:
  from: treasury.payments as p
  where: amount > 0
  peer_group: [agency_code]
  value: ln(amount)
  min_size: 5
  scale: ${o.scale === 'literal' ? '1.4826' : '$s'}
  having: z ${o.op} $k
let:
  payment_id: p.payment_id
entity: { type: payment, id: p.payment_id, name: text(z) }
measure: { name: robust_z, value: z, threshold: $k }
`;
  return compileRule(parseRuleText(text, `rules/local/${o.id}.rule.yaml`), { dialect: engine });
}

/** Three agencies of 40 log-normal payments each, a few of them far above their peers. */
function payments(): Pay[] {
  const rng = new Rng('z-floor');
  const rows: Pay[] = [];
  for (const agency of ['A01', 'A02', 'A03']) {
    for (let i = 0; i < 40; i++) {
      const yuan = Math.exp(7 + rng.next() * 2 + (i % 13 === 0 ? 4 : 0));
      rows.push({ id: `${agency}-${String(i).padStart(2, '0')}`, agency, amount: yuan.toFixed(2), date: '2025-03-01' });
    }
  }
  return rows;
}

describe('robust_z with a floor', () => {
  let store: Store;
  /** Every payment's exact z-score, from the rule without a floor. */
  let z: Map<string, number>;

  beforeAll(async () => {
    store = await tempStore('fiscus-z-floor-');
    await addPayments(store, 'B1', payments());
    const all = rule(store.engine, { id: 'all', scale: 'param', op: '>', k: '-1e9' });
    expect(all.sql).not.toContain('__xmin');
    const rows = await standingFlags<{ entity_id: string; entity_name: string }>(store, all, '2025-12-31', 'entity_id, entity_name');
    z = new Map(rows.map((r) => [r.entity_id, Number(r.entity_name)]));
  });
  afterAll(async () => {
    await store.close();
  });

  it('is taken only with a literal scale', () => {
    expect(rule(store.engine, { id: 'a', scale: 'literal', op: '>', k: '3' }).sql).toContain('> zs.__xmin');
    expect(rule(store.engine, { id: 'b', scale: 'param', op: '>', k: '3' }).sql).not.toContain('__xmin');
  });

  it('survives thresholds whose floor would overflow or underflow exp()', async () => {
    // PostgreSQL raises on exp(1e6) and exp(-1e6); the floor clamps them.
    const none = rule(store.engine, { id: 'huge', scale: 'literal', op: '>', k: '1e6' });
    expect(await standingFlags(store, none, '2025-12-31', 'entity_id')).toEqual([]);
    const every = rule(store.engine, { id: 'tiny', scale: 'literal', op: '>', k: '-1e6' });
    expect((await standingFlags(store, every, '2025-12-31', 'entity_id')).length).toBe(120);
  });

  it('keeps a row whose z-score equals the threshold under >=, and drops it under >', async () => {
    expect(z.size).toBe(120);
    // The five highest z-scores and one near the median: each as its own threshold.
    const sorted = [...z.entries()].sort((a, b) => b[1] - a[1]);
    for (const [id, k] of [...sorted.slice(0, 5), sorted[60]!]) {
      for (const op of ['>', '>='] as const) {
        const want = sorted.filter(([, v]) => (op === '>' ? v > k : v >= k)).map(([p]) => p).sort();
        const floored = rule(store.engine, { id: `t${op === '>' ? 'gt' : 'ge'}`, scale: 'literal', op, k: String(k) });
        expect(floored.sql).toContain('> zs.__xmin');
        const got = (await standingFlags<{ entity_id: string }>(store, floored, '2025-12-31', 'entity_id')).map((r) => r.entity_id);
        expect(got, `${op} ${k} (${id})`).toEqual(want);
        expect(got.includes(id)).toBe(op === '>=');
      }
    }
  });
});
