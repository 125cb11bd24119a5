/**
 * Delta evaluation (rules/language/passes/delta.ts, rules/run/fingerprint.ts): after each of
 * a seeded series of batches — new payments near existing ones (repeats, splits, weekend and
 * December payments), corrections (amount, payee, even the agency: a row moving to another
 * key), reversals and new budget indicators — the built-in pack run incrementally on one
 * database must leave exactly the flags, measures, titles, evidence and reproduced marks
 * that a full run leaves on another database given the same batches.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../engine/db.ts';
import { Rng } from '../../../fixtures/generate/prng.ts';
import { parseCsvRecords } from '../../../ingest/csv-text.ts';
import { ingestPath } from '../../../ingest/index.ts';
import { compileLoaded, loadDefinitions, withConfig } from '../../../rules/run/catalog.ts';
import { runRules } from '../../../rules/run/runner.ts';
import type { CompiledRule } from '../../../rules/types.ts';
import { freshDatabase } from '../../helpers/postgres.ts';

const SAMPLE = resolve(import.meta.dirname, '../../../fixtures/sample');
const AS_OF = '2026-01-31';

interface Table {
  header: string[];
  rows: string[][];
}

function readCsv(name: string): Table {
  const recs = parseCsvRecords(readFileSync(join(SAMPLE, name), 'utf8'), ',');
  return { header: recs[0]!.cells, rows: recs.slice(1).map((r) => r.cells) };
}

function csvText(t: Table, rows: string[][]): string {
  const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return [t.header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** One batch: payment rows (new, corrected, reversing) and maybe new budget indicators. */
function makeBatch(rng: Rng, n: number, payments: Table, live: Map<string, string[]>, flagged: readonly string[], indicators: Table, seq: number) {
  const col = (name: string) => payments.header.indexOf(name);
  const [id, agency, payee, account, amount, date, indicator, fy] = ['payment_id', 'agency_code', 'payee_name', 'payee_account', 'amount', 'pay_date', 'indicator_id', 'fiscal_year'].map(col) as number[];
  const ids = [...live.keys()];
  // A third of the rows start from a payment some flag names as evidence, so batches also end findings.
  const pick = () => {
    const from = flagged.length && rng.next() < 0.35 ? flagged : ids;
    return live.get(from[Math.floor(rng.next() * from.length)]!)!;
  };
  const agencies = [...new Set([...live.values()].map((r) => r[agency!]!))];
  const out = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const base = [...pick()];
    if (r < 0.35) {
      // A repeat of an existing payment a few days later: duplicate / split candidates.
      base[id!] = `PD${seq}${String(i).padStart(4, '0')}`;
      base[date!] = addDays(base[date!]!, Math.floor(rng.next() * 20) - 5);
      if (rng.next() < 0.3) base[amount!] = (Number(base[amount!]) * (0.5 + rng.next())).toFixed(2);
      if (rng.next() < 0.15) base[indicator!] = '';
    } else if (r < 0.55) {
      // A correction of an existing payment: another amount, payee account, date or agency.
      const c = rng.next();
      if (c < 0.3) base[amount!] = (Number(base[amount!]) * (0.2 + 3 * rng.next())).toFixed(2);
      else if (c < 0.5) base[account!] = `62220${Math.floor(rng.next() * 1e9)}`;
      else if (c < 0.75) base[date!] = addDays(base[date!]!, Math.floor(rng.next() * 10) - 3);
      else base[agency!] = agencies[Math.floor(rng.next() * agencies.length)]!;
    } else if (r < 0.7) {
      // A reversal: the same agency and payee account, minus the amount, on or after the date.
      base[id!] = `PR${seq}${String(i).padStart(4, '0')}`;
      base[amount!] = (-Number(base[amount!])).toFixed(2);
      base[date!] = addDays(base[date!]!, Math.floor(rng.next() * 15));
    } else if (r < 0.85) {
      // A large payment to an individual, or one in December of its fiscal year.
      base[id!] = `PL${seq}${String(i).padStart(4, '0')}`;
      base[amount!] = (20000 + rng.next() * 900000).toFixed(2);
      if (rng.next() < 0.5) base[date!] = `${base[fy!]}-12-${String(1 + Math.floor(rng.next() * 28)).padStart(2, '0')}`;
      else base[payee!] = `个人${Math.floor(rng.next() * 50)}`;
    } else {
      // A weekend payment (2025-03-08 was a Saturday), maybe on a new payee.
      base[id!] = `PW${seq}${String(i).padStart(4, '0')}`;
      base[date!] = addDays('2025-03-08', 7 * Math.floor(rng.next() * 30));
      base[fy!] = base[date!]!.slice(0, 4);
    }
    if (base[date!]! > AS_OF && rng.next() < 0.8) base[date!] = AS_OF;
    out.set(base[id!]!, base);
  }
  for (const [k, v] of out) live.set(k, v);
  const ind: string[][] = [];
  // Batch 2 always brings indicators too (the draw is still taken, so the series stays as seeded):
  // a delta over two tables' touched keys at once.
  if (rng.next() < 0.5 || seq === 2) {
    const ic = (name: string) => indicators.header.indexOf(name);
    for (let i = 0; i < 3; i++) {
      const b = [...indicators.rows[Math.floor(rng.next() * indicators.rows.length)]!];
      b[ic('indicator_id')] = `ZD${seq}${i}`;
      b[ic('amount')] = (Number(b[ic('amount')]) * rng.next()).toFixed(2);
      ind.push(b);
    }
  }
  return { payments: [...out.values()], indicators: ind };
}

const BATCHES = 3;

/** Payments named as evidence by a standing flag. */
async function evidencePayments(s: Store): Promise<string[]> {
  const rows = await s.all<{ e: string }>('SELECT CAST(evidence AS VARCHAR) AS e FROM fiscus.flags WHERE reproduced');
  const ids = new Set<string>();
  for (const r of rows) for (const x of JSON.parse(r.e) as { table: string; key: string }[]) if (x.table === 'treasury.payments') ids.add(x.key);
  return [...ids].sort();
}

const flagsSql = `SELECT flag_id, rule_id, reproduced, severity, title, title_en, entity_id, agency_code,
  CAST(period_start AS VARCHAR) AS ps, CAST(period_end AS VARCHAR) AS pe, measure_value, measure_threshold,
  CAST(amount AS VARCHAR) AS amount, CAST(evidence AS VARCHAR) AS evidence, evidence_query
  FROM fiscus.flags ORDER BY flag_id`;

const ENGINES: ('duckdb' | 'postgres')[] = ['duckdb', ...(process.env.FISCUS_TEST_PG_URL ? (['postgres'] as const) : [])];

async function engineStore(engine: 'duckdb' | 'postgres', name: string): Promise<Store> {
  // Each engine explicitly (not tempStore, which follows FISCUS_TEST_ENGINE): the rules are compiled per engine.
  return openStore(engine === 'duckdb' ? join(mkdtempSync(join(tmpdir(), `fiscus-delta-${name}-`)), 'f.duckdb') : await freshDatabase(`delta_${name}`));
}

describe.each(ENGINES)('delta evaluation equals a full run (%s)', (engine) => {
  let inc: Store;
  let full: Store;
  let rules: CompiledRule[];
  const dir = mkdtempSync(join(tmpdir(), 'fiscus-delta-'));

  beforeAll(async () => {
    inc = await engineStore(engine, 'inc');
    full = await engineStore(engine, 'full');
    rules = await Promise.all(withConfig(await loadDefinitions()).map((r) => compileLoaded(r, {}, engine)));
    for (const s of [inc, full]) {
      await ingestPath(s, SAMPLE);
      await runRules(s, rules, { asOf: AS_OF });
    }
  });
  afterAll(async () => {
    await inc?.close();
    await full?.close();
  });

  it('compiles a delta key for the treasury rules', () => {
    const keyed = Object.fromEntries(rules.filter((r) => r.delta).map((r) => [r.meta.id, r.delta!.keys]));
    expect(keyed['treasury.split_payment']).toEqual(['agency_code', 'payee_account']);
    // The reversal subquery equates agency and payee account only: amount is no key part.
    expect(keyed['treasury.duplicate_payment']).toEqual(['agency_code', 'payee_account']);
    expect(keyed['treasury.no_budget']).toEqual(['payment_id']);
    // Last year's side groups by fiscal_year + 1: only the agency is a key on both sides.
    expect(keyed['treasury.three_public_rise']).toEqual(['agency_code']);
  });

  it('on a seeded series of batches with corrections and reversals', async () => {
    const payments = readCsv('treasury.payments.csv');
    const indicators = readCsv('treasury.budget_indicators.csv');
    const live = new Map(payments.rows.map((r) => [r[0]!, r]));
    const rng = new Rng('delta-equals-full');
    const modes = new Map<string, number>();
    const gone: Record<string, number> = {};
    let twoTables = 0;
    for (let b = 1; b <= BATCHES; b++) {
      const flagged = await evidencePayments(inc);
      const batch = makeBatch(rng, 40, payments, live, flagged, indicators, b);
      const files = [join(dir, `b${b}`, 'treasury.payments.csv')];
      mkdirSync(join(dir, `b${b}`), { recursive: true });
      writeFileSync(files[0]!, csvText(payments, batch.payments));
      if (batch.indicators.length) {
        files.unshift(join(dir, `b${b}`, 'treasury.budget_indicators.csv'));
        writeFileSync(files[0]!, csvText(indicators, batch.indicators));
      }
      for (const s of [inc, full]) {
        const reports = await ingestPath(s, files);
        for (const r of reports) expect(r.status, JSON.stringify(r)).toMatch(/committed/);
      }
      // Every delta kept (deltaMaxShare 1): the sample's few agencies would otherwise send most batches to a full run.
      const i = await runRules(inc, rules, { asOf: AS_OF, deltaMaxShare: 1 });
      const f = await runRules(full, rules, { asOf: AS_OF, full: true });
      if (batch.indicators.length) {
        // treasury.over_budget's key tuples are the union of both tables' touched keys.
        expect(i.rules.find((o) => o.rule_id === 'treasury.over_budget')?.mode, `batch ${b}`).toBe('delta');
        twoTables++;
      }
      for (const o of i.rules) {
        expect(o.outcome, `${o.rule_id}: ${o.reason}`).not.toBe('error');
        modes.set(o.mode ?? 'none', (modes.get(o.mode ?? 'none') ?? 0) + 1);
        if (o.mode === "delta") gone[o.rule_id] = (gone[o.rule_id] ?? 0) + o.flags_not_reproduced;
      }
      expect(f.totals.errors).toBe(0);
      const a = await inc.all(flagsSql);
      const e = await full.all(flagsSql);
      expect(a.length, `batch ${b}`).toBe(e.length);
      expect(a, `batch ${b}`).toEqual(e);
      // Each run raised (or counted) the same standing flags.
      const raised = (s: typeof i) => Object.fromEntries(s.rules.filter((o) => o.outcome === 'evaluated').map((o) => [o.rule_id, o.flags_raised]));
      const standing = await inc.all<{ rule_id: string; n: number | bigint }>('SELECT rule_id, count(*) AS n FROM fiscus.flags WHERE reproduced GROUP BY rule_id');
      const fullRaised = raised(f);
      for (const r of standing) if (r.rule_id in fullRaised) expect(Number(r.n), r.rule_id).toBe(fullRaised[r.rule_id]);
    }
    // The series exercised delta runs, not only full ones.
    expect(modes.get('delta') ?? 0).toBeGreaterThanOrEqual(BATCHES * 8);
    expect(twoTables).toBeGreaterThanOrEqual(1);
    // …and delta runs ended findings (corrections and reversals), not only added them.
    expect(Object.values(gone).reduce((a, n) => a + n, 0)).toBeGreaterThanOrEqual(3);

    // With the default share, a batch reaching most agencies runs the agency-keyed rules in full, and says so.
    const last = makeBatch(rng, 40, payments, live, await evidencePayments(inc), indicators, BATCHES + 1);
    const file = join(dir, 'last', 'treasury.payments.csv');
    mkdirSync(join(dir, 'last'), { recursive: true });
    writeFileSync(file, csvText(payments, last.payments));
    for (const s of [inc, full]) expect((await ingestPath(s, [file]))[0]!.status).toMatch(/committed/);
    const i = await runRules(inc, rules, { asOf: AS_OF });
    await runRules(full, rules, { asOf: AS_OF, full: true });
    const lag = i.rules.find((o) => o.rule_id === 'treasury.three_public_rise')!;
    expect(lag.mode).toBe('full');
    expect(lag.reason).toMatch(/new batches touch \d+ of \d+ agency_code values/);
    expect(await inc.all(flagsSql)).toEqual(await full.all(flagsSql));
  });
});
