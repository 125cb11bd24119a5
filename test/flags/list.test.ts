/**
 * The one listing query and filter encoding (flags/): every filter, every sort walked
 * page by page through its keyset cursor, and the inputs an attacker controls
 * (filter values, text search, cursors) — against a real DuckDB file, or a real
 * PostgreSQL database with FISCUS_TEST_ENGINE=postgres.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { FiscusError } from '../../engine/errors.ts';
import { flagFilterQuery, normalizeFilter, type FlagFilter } from '../../flags/filter.ts';
import { FLAG_SORTS, listFlags } from '../../flags/list.ts';
import { isoUtc } from '../../flags/row.ts';
import { testDbLocation } from '../helpers/postgres.ts';
import { insertAgencies } from '../tracker/helpers.ts';
import { flagRecordSchema, flagSchema } from '../../flags/schema.ts';

let dir: string;
let store: Store;

interface Seed {
  id: string;
  rule?: string;
  sev?: 'high' | 'medium' | 'low';
  status?: string;
  agency?: string | null;
  assigned?: string | null;
  region?: string | null;
  fy?: number;
  period?: [string | null, string | null];
  amount?: string | null;
  rep?: boolean;
  seen: string;
  due?: string | null;
  title?: string;
  entityName?: string | null;
}

const SEEDS: Seed[] = [
  { id: 'F01', rule: 'treasury.split_payment', sev: 'high', agency: 'A01', region: '370811', period: ['2025-03-03', '2025-03-07'], amount: '612000.00', seen: '2026-01-05 02:00:00+00', title: '拆分支付：第一中学 100%' },
  { id: 'F02', rule: 'treasury.split_payment', sev: 'medium', agency: 'A02', region: '370811', period: ['2025-04-01', '2025-04-30'], amount: '1500.50', seen: '2026-01-05 02:00:00+00' },
  { id: 'F03', rule: 'treasury.no_budget', sev: 'low', agency: 'B01', region: '370812', period: ['2025-06-01', '2025-06-01'], amount: null, seen: '2026-01-05 02:00:00.5+00', entityName: '某某公司' },
  { id: 'F04', rule: 'treasury.no_budget', sev: 'high', status: 'assigned', agency: 'A01', assigned: 'A01', region: '370811', period: [null, null], amount: '99.99', seen: '2026-01-06 03:00:00+00', due: '2026-01-09' },
  { id: 'F05', rule: 'debt.ratio', sev: 'medium', status: 'rectifying', agency: null, assigned: 'D2', region: '370800', fy: 2024, period: ['2024-01-01', '2024-12-31'], amount: '5000000.00', seen: '2026-01-06 03:00:00+00', due: '2026-01-16' },
  { id: 'F06', rule: 'debt.ratio', sev: 'high', status: 'confirmed', agency: 'X9', region: '110000', period: ['2025-01-01', '2025-12-31'], amount: '10.00', rep: false, seen: '2026-01-07 04:00:00+00' },
  { id: 'F07', rule: 'asset.idle', sev: 'low', status: 'assigned', agency: 'B01', assigned: 'B01', region: '370812', period: ['2025-09-01', '2025-09-30'], amount: '10.00', seen: '2026-01-07 04:00:00+00', due: '2026-01-12', title: '50%_off 资产闲置' },
];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fiscus-flags-'));
  // DuckDB by default; FISCUS_TEST_ENGINE=postgres runs the same SQL on PostgreSQL.
  store = await openStore(testDbLocation(path.join(dir, 'flags.duckdb')));
  await store.run(`INSERT INTO ref.regions VALUES ('370000', '山东省', NULL, 'province', NULL, 'b', '1', now()),
    ('370800', '济宁市', '370000', 'city', NULL, 'b', '1', now()), ('370811', '任城区', '370800', 'county', NULL, 'b', '1', now()),
    ('370812', '兖州区', '370800', 'county', NULL, 'b', '1', now()), ('110000', '北京市', NULL, 'province', NULL, 'b', '1', now())`);
  await insertAgencies(store);
  for (const s of SEEDS) {
    await store.run(
      `INSERT INTO fiscus.flags (flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name,
         region_code, agency_code, fiscal_year, period_start, period_end, measure_name, measure_value, measure_threshold, amount,
         evidence, evidence_query, status, reproduced, first_seen_at, last_seen_at, due_date, assigned_to)
       VALUES ($id, $rule, 2, $sev, $title, $title_en, 'payment', $entity, $ename, $region, $agency, $fy,
         CAST($ps AS DATE), CAST($pe AS DATE), 'window_total', '612000.00', '200000.00', CAST($amount AS DECIMAL(18,2)),
         '[{"table":"treasury.payments","key":"P1"},{"table":"treasury.payments","key":"P2"}]', NULL, $status, $rep,
         CAST($seen AS TIMESTAMPTZ), CAST($seen AS TIMESTAMPTZ), CAST($due AS DATE), $assigned)`,
      {
        id: s.id, title_en: `Flag ${s.id}`, entity: `P${s.id}`, rule: s.rule ?? 'treasury.split_payment', sev: s.sev ?? 'high', title: s.title ?? `标记 ${s.id}`, ename: s.entityName ?? null,
        region: s.region ?? null, agency: s.agency ?? null, fy: s.fy ?? 2025, ps: s.period?.[0] ?? null, pe: s.period?.[1] ?? null,
        amount: s.amount ?? null, status: s.status ?? 'discovered', rep: s.rep ?? true, seen: s.seen, due: s.due ?? null, assigned: s.assigned ?? null,
      },
    );
  }
});

afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ids = async (f: FlagFilter, opts: Parameters<typeof listFlags>[2] = {}) =>
  (await listFlags(store, f, { sort: 'oldest', ...opts })).items.map((x) => x.flag_id);

describe('filters', () => {
  it('lists of rules, severities, statuses', async () => {
    expect(await ids({ rule: ['debt.ratio', 'asset.idle'] })).toEqual(['F05', 'F06', 'F07']);
    expect(await ids({ severity: ['high'] })).toEqual(['F01', 'F04', 'F06']);
    expect(await ids({ status: ['assigned', 'rectifying'] })).toEqual(['F04', 'F05', 'F07']);
    expect(await ids({ rule: ['treasury.nosuch'] })).toEqual([]);
  });

  it('agency is a subtree: own flags, flags assigned to it, and its units’ flags', async () => {
    expect(await ids({ agency: ['A01'] })).toEqual(['F01', 'F04']);
    // D1 heads A01 and A02; D2 heads B01 and has F05 assigned to it.
    expect(await ids({ agency: ['D1'] })).toEqual(['F01', 'F02', 'F04']);
    expect(await ids({ agency: ['D2'] })).toEqual(['F03', 'F05', 'F07']);
    expect(await ids({ agency: ['A02', 'D2'] })).toEqual(['F02', 'F03', 'F05', 'F07']);
  });

  it('region is a subtree of ref.regions', async () => {
    expect(await ids({ region: ['370800'] })).toEqual(['F01', 'F02', 'F03', 'F04', 'F05', 'F07']);
    expect(await ids({ region: ['370812'] })).toEqual(['F03', 'F07']);
    expect(await ids({ region: ['370000'] })).toEqual(['F01', 'F02', 'F03', 'F04', 'F05', 'F07']);
    expect(await ids({ region: ['110000', '370812'] })).toEqual(['F03', 'F06', 'F07']);
  });

  it('fiscal year, period overlap, reproduced', async () => {
    expect(await ids({ fiscal_year: 2024 })).toEqual(['F05']);
    // Overlap with [2025-04-15, 2025-06-01]: F02 (April), F03 (June 1), F06 (all 2025); F04 has no period.
    expect(await ids({ period_from: '2025-04-15', period_to: '2025-06-01' })).toEqual(['F02', 'F03', 'F06']);
    expect(await ids({ period_to: '2024-12-31' })).toEqual(['F05']);
    expect(await ids({ reproduced: false })).toEqual(['F06']);
    expect(await ids({ reproduced: true })).not.toContain('F06');
  });

  it('overdue needs the cutoff and matches only clock statuses', async () => {
    await expect(listFlags(store, { overdue: true })).rejects.toThrow(/overdueCutoff/);
    // Due on or before 2026-01-12, assigned or rectifying: F04 (01-09) and F07 (01-12); F05 is due 01-16.
    expect(await ids({ overdue: true }, { overdueCutoff: '2026-01-12' })).toEqual(['F04', 'F07']);
    expect(await ids({ overdue: false }, { overdueCutoff: '2026-01-12' })).toEqual(['F01', 'F02', 'F03', 'F05', 'F06']);
  });

  it('text search: title, entity name, exact ids; LIKE wildcards are literal', async () => {
    expect(await ids({ q: '第一中学' })).toEqual(['F01']);
    expect(await ids({ q: '某某' })).toEqual(['F03']);
    expect(await ids({ q: 'PF05' })).toEqual(['F05']);
    expect(await ids({ q: 'F02' })).toEqual(['F02']);
    expect(await ids({ q: 'flag f0' })).toEqual(SEEDS.map((s) => s.id));
    // '%' and '_' are not wildcards: only the titles that contain them literally.
    expect(await ids({ q: '%' })).toEqual(['F01', 'F07']);
    expect(await ids({ q: '_' })).toEqual(['F07']);
  });

  it('hostile values are values, not SQL', async () => {
    expect(await ids({ rule: ["x') OR 1=1 --"] })).toEqual([]);
    expect(await ids({ agency: ["A01' OR '1'='1"] })).toEqual([]);
    expect(await ids({ region: ["370800') UNION SELECT region_code FROM ref.regions --"] })).toEqual([]);
    expect(await ids({ q: "' OR 1=1 --" })).toEqual([]);
  });

  it('ANDs a scope', async () => {
    const scope = { sql: 'f.agency_code = $scope_agency', params: { scope_agency: 'A01' } };
    expect(await ids({ severity: ['high'] }, { scope })).toEqual(['F01', 'F04']);
  });
});

describe('sorts and keyset pages', () => {
  const expected: Record<(typeof FLAG_SORTS)[number], string[]> = {
    newest: ['F07', 'F06', 'F05', 'F04', 'F03', 'F02', 'F01'],
    oldest: ['F01', 'F02', 'F03', 'F04', 'F05', 'F06', 'F07'],
    // high (newest first), medium, low
    severity: ['F06', 'F04', 'F01', 'F05', 'F02', 'F07', 'F03'],
    // amount desc, null last (as -1), ties by flag_id desc
    amount: ['F05', 'F01', 'F02', 'F04', 'F07', 'F06', 'F03'],
    // due asc (none last), ties by flag_id asc
    due: ['F04', 'F07', 'F05', 'F01', 'F02', 'F03', 'F06'],
    // rule, period start (none first), entity
    rule: ['F07', 'F05', 'F06', 'F04', 'F03', 'F01', 'F02'],
  };
  for (const sort of FLAG_SORTS) {
    it(`${sort}: pages of 2 walk the whole order once`, async () => {
      const all = await listFlags(store, {}, { sort, total: true });
      expect(all.items.map((f) => f.flag_id)).toEqual(expected[sort]);
      expect(all.total).toBe(7);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await listFlags(store, {}, { sort, limit: 2, cursor, total: true });
        expect(page.total).toBe(7);
        seen.push(...page.items.map((f) => f.flag_id));
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      expect(seen).toEqual(expected[sort]);
    });
  }

  it('refuses a forged cursor, and one from another sort', async () => {
    const p = await listFlags(store, {}, { sort: 'amount', limit: 2 });
    await expect(listFlags(store, {}, { sort: 'newest', limit: 2, cursor: p.next_cursor! })).rejects.toMatchObject({ httpStatus: 400, exitCode: 2 });
    const forged = Buffer.from(JSON.stringify(['k1', 'amount', "1' OR 1=1 --", 'F01'])).toString('base64url');
    // A well-formed cursor with a hostile value is refused before any SQL runs (a 400, not a failed cast).
    await expect(listFlags(store, {}, { sort: 'amount', limit: 2, cursor: forged })).rejects.toMatchObject({ httpStatus: 400, exitCode: 2 });
    const badDay = Buffer.from(JSON.stringify(['k1', 'due', '2026-02-30', 'F01'])).toString('base64url');
    await expect(listFlags(store, {}, { sort: 'due', limit: 2, cursor: badDay })).rejects.toMatchObject({ httpStatus: 400 });
    for (const bad of ['', 'not a cursor!', Buffer.from('[1,2]').toString('base64url'), 'x'.repeat(5000)]) {
      if (bad === '') continue;
      await expect(listFlags(store, {}, { sort: 'newest', cursor: bad })).rejects.toBeInstanceOf(FiscusError);
    }
  });
});

describe('the text encoding', () => {
  const parse = (q: Record<string, string>) => normalizeFilter(flagFilterQuery.parse(q));

  it('reads comma lists, booleans, years and days', () => {
    expect(parse({ rule: 'a, b,,c', status: 'assigned,rectifying', overdue: 'true', reproduced: 'false', fiscal_year: '2025', period_from: '2025-02-28', q: '  x ' })).toEqual({
      rule: ['a', 'b', 'c'], status: ['assigned', 'rectifying'], overdue: true, reproduced: false, fiscal_year: 2025, period_from: '2025-02-28', q: 'x',
    });
    expect(parse({ rule: '', q: '   ' })).toEqual({});
  });

  it('refuses unknown statuses and severities with a did-you-mean, and impossible dates', () => {
    const r = flagFilterQuery.safeParse({ status: 'asigned' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/unknown status "asigned".*did you mean "assigned"/);
    expect(flagFilterQuery.safeParse({ severity: 'hgih' }).error!.issues[0]!.message).toMatch(/did you mean "high"/);
    expect(flagFilterQuery.safeParse({ period_to: '2026-02-30' }).success).toBe(false);
    expect(flagFilterQuery.safeParse({ period_to: '2026-13-45' }).success).toBe(false);
    expect(flagFilterQuery.safeParse({ overdue: 'yes' }).success).toBe(false);
  });
});

describe('the row mapping', () => {
  it('gives FLAGS.md objects with one timestamp format', async () => {
    const { items } = await listFlags(store, {}, { sort: 'oldest' });
    for (const f of items) {
      expect(flagRecordSchema.strict().parse(f)).toEqual(f);
      const { reproduced: _r, last_seen_at: _l, due_date: _d, assigned_to: _a, ...contract } = f;
      expect(flagSchema.strict().parse(contract)).toEqual(contract);
    }
    expect(items[0]).toMatchObject({
      flag_id: 'F01', rule_version: 2, entity: { type: 'payment', id: 'PF01', name: null }, period: { start: '2025-03-03', end: '2025-03-07' },
      amount: '612000.00', evidence: [{ table: 'treasury.payments', key: 'P1' }, { table: 'treasury.payments', key: 'P2' }],
      first_seen_at: '2026-01-05T02:00:00.000Z', due_date: null, reproduced: true,
    });
    expect(items[2]!.first_seen_at).toBe('2026-01-05T02:00:00.500Z');
    expect(items[3]!.due_date).toBe('2026-01-09');
  });

  it('isoUtc reads every form a Store or the log gives', () => {
    expect(isoUtc('2026-03-08 02:00:00+00')).toBe('2026-03-08T02:00:00.000Z');
    expect(isoUtc('2026-03-08 02:00:00.123456+00')).toBe('2026-03-08T02:00:00.123Z');
    expect(isoUtc('2026-03-08 10:00:00.9+08')).toBe('2026-03-08T02:00:00.900Z');
    expect(isoUtc('2026-03-08 10:00:00+0800')).toBe('2026-03-08T02:00:00.000Z');
    expect(isoUtc('2026-03-08T02:00:00Z')).toBe('2026-03-08T02:00:00.000Z');
    expect(isoUtc(Date.UTC(2026, 2, 8, 2))).toBe('2026-03-08T02:00:00.000Z');
    expect(() => isoUtc('yesterday')).toThrow(/not a timestamp/);
  });
});
