/**
 * passes/lookups.ts: robust_z's peer statistics (fiscus_zv) join only the lookups they read,
 * and every lookup that could change the rows they see: an inner one, one not matched on the
 * looked-up table's whole key, and one a kept lookup's ON reads. The findings join the peer
 * statistics before the lookups unless the peer group reads one. On the test engine's real
 * database, a dropped lookup changes no finding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import type { Engine } from '../../../engine/sql-dialect.ts';
import { compileRule, parseRuleText } from '../../../rules/language/index.ts';
import type { CompiledRule } from '../../../rules/types.ts';
import { addAgency, addPayments, standingFlags, tempStore } from '../run/helpers.ts';

/** An outlier rule over payments with `lookup` entries, a `where` and a peer group. */
function rule(o: { lookup: string; where?: string; peers?: string; title?: string }, engine: Engine = 'duckdb'): CompiledRule {
  const text = `id: local.outlier
version: 1
status: test
severity: low
title: { zh: "异常 ${o.title ?? '{payment_id}'}", en: "Outlier ${o.title ?? '{payment_id}'}" }
reads: [treasury.payments, ref.agencies${o.lookup.includes('ref.regions') ? ', ref.regions' : ''}]
robust_z:
  from: treasury.payments as p
  lookup:
${o.lookup}
  where: amount > 0${o.where ? ` and ${o.where}` : ''}
  peer_group: [${o.peers ?? 'econ_code'}]
  value: ln(amount)
  min_size: 5
  scale: 1.4826
  having: z > 3
let:
  payment_id: p.payment_id
entity: { type: payment, id: p.payment_id }
measure: { name: robust_z, value: z, threshold: 3 }
`;
  return compileRule(parseRuleText(text, 'rules/local/outlier.rule.yaml'), { dialect: engine });
}

/** The joins of the peer-statistics CTE. */
function peerJoins(c: CompiledRule): string[] {
  const zv = /fiscus_zv AS \(([\s\S]*?)\),\nfiscus_zs/.exec(c.sql)?.[1];
  if (!zv) throw new Error(`no fiscus_zv in\n${c.sql}`);
  return [...zv.matchAll(/(LEFT JOIN|JOIN) "ref"\."(\w+)" AS "(\w+)"/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

const AGENCY = '    ag: { table: ref.agencies, on: ag.agency_code = p.agency_code }';

describe('the peer statistics of robust_z', () => {
  it('drop a lookup on the whole key that only the findings read', () => {
    const c = rule({ lookup: AGENCY, title: '{agency_name}' });
    expect(peerJoins(c)).toEqual([]);
    // The findings still show it, joined after the peer statistics: the z-score's filter runs before it.
    expect(c.sql).toMatch(/FROM "treasury"\."payments" AS "p" JOIN fiscus_zs AS zs ON [^\n]* LEFT JOIN "ref"\."agencies" AS "ag"/);
  });

  it('keep a lookup their where, peer group or value reads', () => {
    expect(peerJoins(rule({ lookup: AGENCY, where: "ag.dept_code <> 'X'" }))).toEqual(['LEFT JOIN agencies ag']);
    const byDept = rule({ lookup: AGENCY, peers: 'ag.dept_code' });
    expect(peerJoins(byDept)).toEqual(['LEFT JOIN agencies ag']);
    // A peer group read through the lookup needs it joined before the peer statistics.
    expect(byDept.sql).toMatch(/FROM "treasury"\."payments" AS "p" LEFT JOIN "ref"\."agencies" AS "ag" ON [^\n]* JOIN fiscus_zs AS zs/);
  });

  it('keep an inner lookup, one not on the whole key, and one a kept lookup reads', () => {
    expect(peerJoins(rule({ lookup: '    ag: { table: ref.agencies, on: ag.agency_code = p.agency_code, required: true }' }))).toEqual(['JOIN agencies ag']);
    // ref.agencies's key is agency_code: matching on the region may find several agencies.
    expect(peerJoins(rule({ lookup: '    ag: { table: ref.agencies, on: ag.region_code = p.region_code }' }))).toEqual(['LEFT JOIN agencies ag']);
    const chain = `${AGENCY}\n    r: { table: ref.regions, on: r.region_code = ag.region_code }`;
    expect(peerJoins(rule({ lookup: chain, peers: 'r.region_name' }))).toEqual(['LEFT JOIN agencies ag', 'LEFT JOIN regions r']);
    expect(peerJoins(rule({ lookup: chain }))).toEqual([]);
  });
});

describe('on the test engine', () => {
  let store: Store;
  beforeAll(async () => {
    store = await tempStore('fiscus-lookups-');
    await addAgency(store, 'A01', '第一中学');
    await addAgency(store, 'A02', '第二中学');
    // Ten payments near 100 and one of 100,000, in one economic class.
    await addPayments(store, 'B1', Array.from({ length: 11 }, (_, i) => ({
      id: `P${i}`, agency: i % 2 ? 'A01' : 'A02', amount: i === 10 ? '100000.00' : `${100 + i}.00`, date: '2025-03-01',
    })));
  });
  afterAll(async () => {
    await store.close();
  });

  const flags = (c: CompiledRule) =>
    standingFlags<{ entity_id: string; title: string; measure_value: string }>(store, c, '2025-12-31', 'entity_id, title, measure_value');

  it('finds the same outliers with the dropped lookup as with it read', async () => {
    const dropped = rule({ lookup: AGENCY, title: '{agency_name}' }, store.engine);
    const read = rule({ lookup: AGENCY, where: 'ag.agency_code is null or ag.agency_code is not null', title: '{agency_name}' }, store.engine);
    expect(peerJoins(dropped)).toEqual([]);
    expect(peerJoins(read)).toEqual(['LEFT JOIN agencies ag']);
    const first = await flags(dropped);
    expect(first).toEqual([{ entity_id: 'P10', title: '异常 第二中学', measure_value: expect.stringMatching(/^\d+\.\d{4}$/) }]);
    expect(await flags(read)).toEqual(first);
  });
});
