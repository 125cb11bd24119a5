import { describe, expect, it } from 'vitest';
import { finalize, formatTable, growth, skipped, validateResults, verdict, type BenchResults, type ScenarioResult } from '../../bench/results.ts';

const machine = { cpus: 2, cpu_model: 'test cpu', mem_gb: 4, node: 'v20', duckdb: 'v1.5.6', os: 'Linux' };

function ok(name: string, seconds: number, baseline: number, size: number, rss: number): ScenarioResult {
  return { name, rows: size, seconds, baseline: 'b', baseline_seconds: baseline, ratio: null, ratio_basis: 'seconds', peak_rss_mb: rss, status: 'ok', details: { size } };
}

describe('bench results', () => {
  it('computes ratios from the numbers and judges targets', () => {
    const s = finalize(ok('ingest_payments', 3, 2.5, 1000, 100));
    expect(s.ratio).toBe(1.2);
    expect(s.target_met).toBe(true);
    expect(finalize(ok('ingest_payments', 3, 2, 1000, 100)).target_met).toBe(false);
    const slow = finalize(ok('rules_pack', 4, 2, 1000, 100));
    expect(slow.ratio).toBe(2);
    expect(slow.target_met).toBe(false);
    const api = finalize({ ...ok('api_alerts', 10, 10, 1000, 100), ratio_basis: 'p99_ms', p50_ms: 3, p99_ms: 12, baseline_p50_ms: 1, baseline_p99_ms: 4, requests_per_sec: 1500 });
    expect(api.ratio).toBe(3);
    expect(api.target_met).toBe(true);
    // The API goal is latency and throughput together.
    expect(finalize({ ...api, requests_per_sec: 800 }).target_met).toBe(false);
    expect(finalize({ ...api, p99_ms: 25 }).target_met).toBe(false);
  });

  it('judges the memory goal from the peak RSS of our side', () => {
    const small = finalize(ok('rules_pack', 1, 1, 1000, 1900));
    expect(small.memory_target_met).toBe(true);
    const big = finalize(ok('rules_pack', 1, 1, 1000, 2700));
    expect(big.memory_target_met).toBe(false);
    expect(big.target_met).toBe(true);
    expect(verdict(big)).toBe('pass, MISS RSS');
    expect(finalize(skipped('rules_pack', 1000, 'not run')).memory_target_met).toBeUndefined();
  });

  it('skipped scenarios carry a reason and no numbers', () => {
    const s = finalize(skipped('rules_pack', 1000, 'rules/reference/run-reference.ts does not exist yet'));
    expect(s.status).toBe('skipped');
    expect(s.ratio).toBeNull();
    const r: BenchResults = { machine, started_at: '', finished_at: '', mode: 'quick', sizes: [1000], scenarios: [s], growth: [] };
    expect(validateResults(r)).toEqual([]);
    const bad = { ...r, scenarios: [{ ...s, reason: undefined }] };
    expect(validateResults(bad).join()).toMatch(/without a reason/);
  });

  it('rejects a ratio that does not follow from the numbers, and a missing machine', () => {
    const s = { ...finalize(ok('ingest_payments', 3, 2, 1000, 100)), ratio: 0.5 };
    const errs = validateResults({ machine, started_at: '', finished_at: '', mode: 'quick', sizes: [1000], scenarios: [s], growth: [] });
    expect(errs.join()).toMatch(/not computed from the numbers/);
    expect(validateResults({ scenarios: [] })).toContain('machine missing');
  });

  it('summarises growth across sizes and judges memory boundedness', () => {
    const scen = [ok('rules_pack', 1, 1, 1000, 200), ok('rules_pack', 5, 4, 10000, 300), ok('rules_pack', 40, 30, 100000, 900)].map(finalize);
    const [g] = growth(scen, [1000, 10000, 100000]);
    expect(g!.peak_rss_mb).toEqual([200, 300, 900]);
    expect(g!.seconds_per_million).toEqual([1000, 500, 400]);
    expect(g!.target_met).toBe(false);
    const table = formatTable({ machine, started_at: '', finished_at: '', mode: 'custom', sizes: [1000, 10000, 100000], scenarios: scen, growth: [g!] });
    expect(table).toMatch(/rules_pack/);
    expect(table).toMatch(/MISS/);
  });
});
