/**
 * `track stats --basis period` on the bundled sample: a finding with no period of its own
 * (asset.idle: an asset idle in the register) is dated by the as-of day of the run that
 * raised it, whatever its status — so the demo's dismissed idle asset is counted (排除 1) in
 * the year its run looked at, not in the year the run happened to be made. And the CLI table
 * gives rates in percent and agencies by name, as the report does; JSON keeps fractions.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { compileLoaded, loadDefinitions, withConfig } from '../../rules/run/catalog.ts';
import { runRules } from '../../rules/run/runner.ts';
import { SAMPLE_DIR } from '../../cli/commands/demo.ts';
import { performAction, trackStats } from '../../tracker/index.ts';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiscus-stats-period-'));
const db = join(dir, 'stats.duckdb');
let store: Store;
let idle: { flag_id: string }[];

beforeAll(async () => {
  store = await openStore(db);
  await ingestPath(store, SAMPLE_DIR);
  const compiled = await Promise.all(withConfig(await loadDefinitions()).map((r) => compileLoaded(r)));
  // The year-end run, made in February: what it finds is about 2025.
  await runRules(store, compiled, { asOf: '2025-12-31', now: new Date('2026-02-01T02:00:00Z') });
  idle = await store.all<{ flag_id: string }>("SELECT flag_id FROM fiscus.flags WHERE rule_id = 'asset.idle' AND period_end IS NULL AND fiscal_year IS NULL ORDER BY flag_id");
  await performAction(store, idle[0]!.flag_id, { action: 'dismiss', note: '经核实为正常业务，排除' }, { name: '王秘书', role: 'supervisor' }, { at: new Date('2026-02-02T02:00:00Z') });
}, 120_000);

afterAll(async () => {
  await store?.close();
});

describe('track stats --basis period', () => {
  it('counts a dismissed flag without a period in the year of the run that raised it', async () => {
    expect(idle.length).toBeGreaterThanOrEqual(2);
    const y2025 = await trackStats(store, { year: 2025, basis: 'period' }, { today: '2026-02-02' });
    const y2026 = await trackStats(store, { year: 2026, basis: 'period' }, { today: '2026-02-02' });
    expect(y2025.totals.dismissed).toBe(1);
    expect(y2025.by_rule.find((r) => r.rule_id === 'asset.idle')?.discovered).toBe(idle.length);
    expect(y2026.by_rule.find((r) => r.rule_id === 'asset.idle')).toBeUndefined();
    // Before the dismissal it was already there, in its state then.
    const before = await trackStats(store, { year: 2025, basis: 'period' }, { today: '2026-02-01' });
    expect(before.totals.dismissed).toBe(0);
    expect(before.totals.discovered).toBe(y2025.totals.discovered);
    // The first-seen basis is the clock's: the run was made in 2026.
    const seen = await trackStats(store, { year: 2026 }, { today: '2026-02-02' });
    const all = await trackStats(store, { basis: 'period' }, { today: '2026-02-02' });
    expect(seen.totals.discovered).toBe(all.totals.discovered);
    expect(seen.by_rule.find((r) => r.rule_id === 'asset.idle')?.discovered).toBe(idle.length);
  });

  it('names agencies and prints rates in percent in the CLI table; JSON keeps fractions and codes', async () => {
    await store.close();
    try {
      const table = await runCli(['--db', db, 'track', 'stats', '--year', '2025', '--basis', 'period', '--as-of', '2026-02-02']);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/rectification_rate\s*│\s*整改率\s*│\s*(—|\d+\.\d{2}%)/);
      expect(table.stdout).toMatch(/money_involved\s*│\s*涉及金额\(元\)\s*│\s*[\d,]+,\d{3}\.\d{2}/);
      expect(table.stdout).toContain('济宁市教育局（A0101）');
      const json = await runCli(['--db', db, 'track', 'stats', '--year', '2025', '--basis', 'period', '--as-of', '2026-02-02', '--format', 'json']);
      const s = JSON.parse(json.stdout);
      expect(s.totals.dismissed).toBe(1);
      expect(s.totals.money_involved).toMatch(/^\d+\.\d{2}$/);
      const a = s.by_agency.find((r: { agency: string }) => r.agency === 'A0101');
      expect(a.agency_name).toBe('济宁市教育局');
    } finally {
      store = await openStore(db);
    }
  });
});
