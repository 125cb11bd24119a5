/**
 * Flag titles of the built-in pack on the bundled sample read as one product:
 * every amount through the one money formatter (1,200,000.00), MAD with four
 * decimals, an agency missing from ref.agencies named by its code in every
 * rule, and pct() rounded once from an exact decimal (never a DOUBLE rounded twice).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { duckdb } from '../../rules/language/dialects/duckdb.ts';
import { compileLoaded, loadDefinitions, withConfig } from '../../rules/run/catalog.ts';
import { runRules } from '../../rules/run/runner.ts';
import { SAMPLE_DIR } from '../../cli/commands/demo.ts';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiscus-titles-'));
let store: Store;
let flags: { rule_id: string; title: string; title_en: string; agency_code: string | null; measure_value: string | null }[];

beforeAll(async () => {
  store = await openStore(join(dir, 'titles.duckdb'));
  await ingestPath(store, SAMPLE_DIR);
  // An agency the reference table does not know, paying on a Sunday and to an individual: rules that
  // look its name up must all fall back to the same thing (its code).
  await store.run(`INSERT INTO treasury.payments SELECT * REPLACE ('A0199' AS agency_code, payment_id || 'X' AS payment_id)
    FROM treasury.payments WHERE payment_id IN (SELECT payment_id FROM treasury.payments ORDER BY amount DESC LIMIT 40)`);
  const compiled = await Promise.all(withConfig(await loadDefinitions()).map((r) => compileLoaded(r)));
  await runRules(store, compiled, { asOf: '2026-01-31', now: new Date('2026-02-01T02:00:00Z') });
  flags = await store.all('SELECT rule_id, title, title_en, agency_code, measure_value FROM fiscus.flags ORDER BY flag_id');
}, 120_000);

afterAll(async () => {
  await store?.close();
});

describe('flag titles', () => {
  it('print every amount with thousands separators (no "1200000.00" beside "860,000.00")', () => {
    expect(flags.length).toBeGreaterThan(20);
    const raw = /(?<![\d,.])\d{4,}\.\d{2}(?!\d)/;
    for (const f of flags) {
      expect(f.title, f.rule_id).not.toMatch(raw);
      expect(f.title_en, f.rule_id).not.toMatch(raw);
    }
    const disposal = flags.find((f) => f.rule_id === 'asset.disposal_below_appraisal' && f.title.includes('未经评估'));
    expect(disposal?.title).toMatch(/原值1,200,000\.00元）成交860,000\.00元，未经评估$/);
  });

  it('give the Benford MAD with four decimals and the count grouped', () => {
    const b = flags.filter((f) => f.rule_id === 'treasury.benford');
    expect(b.length).toBeGreaterThan(0);
    for (const f of b) {
      const mad = /MAD为(\d+\.\d+)$/.exec(f.title)?.[1];
      expect(mad, f.title).toBe(Number(f.measure_value).toFixed(4));
      expect(f.title).toMatch(/年1,\d{3}笔/);
    }
  });

  it('name an agency missing from ref.agencies by its code, in every rule', () => {
    const unknown = flags.filter((f) => f.agency_code === 'A0199');
    expect(new Set(unknown.map((f) => f.rule_id)).size).toBeGreaterThan(1);
    for (const f of unknown) {
      expect(f.title, f.rule_id).toContain('A0199');
      expect(f.title, f.rule_id).not.toMatch(/：—|： —|—向|— 向/);
      expect(f.title_en, f.rule_id).toContain('A0199');
    }
  });
});

describe('rules show', () => {
  it('fills the parameters into the description: no "{window_days}" left', async () => {
    const r = await runCli(['--db', join(dir, 'show.duckdb'), 'rules', 'show', 'treasury.split_payment']);
    expect(r.code, r.stderr).toBe(0);
    const [, , , , ...rest] = r.stdout.split('\n'); // after the header, the name and the two title templates
    expect(rest.join('\n')).not.toMatch(/\{(window_days|min_count|max_single|min_total)\}/);
    expect(r.stdout).toContain('任意7日内（首末支付日期相差少于7天）支付3笔及以上、每笔低于200,000.00元');
    expect(r.stdout).toContain('3 or more payments from one agency to one payee account within any 7-day window');
    // The title template keeps its placeholders: they are filled per flag.
    expect(r.stdout).toContain('title: 拆分支付：{agency_name}');
  });
});

describe('pct() in SQL', () => {
  it('is exact and rounded once: 398.5687499 → 398.5687 (a DOUBLE rounded to 6 then 4 gives 398.5688)', async () => {
    const p = duckdb.percent('CAST(398568749.90 AS DECIMAL(18,2))', 'CAST(100000000 AS DECIMAL(18,2))');
    const r = await store.one<{ m: string; t: string; old: string }>(
      `SELECT ${duckdb.decimalString(p, 'number')} AS m, ${duckdb.roundedText(p, 2)} AS t,
              CAST(round(round(CAST(398568749.90 AS DOUBLE) * 100 / 100000000, 6), 4) AS VARCHAR) AS old`,
    );
    expect(r).toEqual({ m: '398.5687', t: '398.57', old: '398.5688' });
  });

  it('truncates toward zero for negatives, is NULL for a zero divisor, and takes integers and money', async () => {
    const r = await store.one<{ a: string; b: string | null; c: string }>(
      `SELECT ${duckdb.roundedText(duckdb.percent('CAST(-1 AS DECIMAL(18,2))', '3'), 4)} AS a,
              ${duckdb.roundedText(duckdb.percent('5', '0'), 4)} AS b,
              ${duckdb.roundedText(duckdb.percent('CAST(61000.00 AS DECIMAL(18,2))', 'CAST(80000.00 AS DECIMAL(18,2))'), 2)} AS c`,
    );
    expect(r).toEqual({ a: '-33.3333', b: null, c: '76.25' });
  });
});
