import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, renderReadmeTable, replaceBetweenMarkers } from '../../bench/readme-table.ts';
import { finalize, type BenchResults, type ScenarioResult } from '../../bench/results.ts';

const machine = { cpus: 2, cpu_model: 'Test EPYC', mem_gb: 23.5, node: 'v20.20.2', duckdb: 'v1.5.5', os: 'Debian 12' };

function row(name: string, size: number, secs: number, base: number, rss: number, extra: Partial<ScenarioResult> = {}): ScenarioResult {
  return finalize({ name, rows: size, seconds: secs, baseline: 'b', baseline_seconds: base, ratio: null, ratio_basis: 'seconds', peak_rss_mb: rss, baseline_peak_rss_mb: rss - 100, status: 'ok', details: { size }, ...extra });
}

function run(scenarios: ScenarioResult[], started: string, limit = '1536MiB'): BenchResults {
  const sizes = [...new Set(scenarios.map((s) => Number(s.details?.size)))].sort((a, b) => a - b);
  return {
    machine,
    settings: { command: `fiscus bench --sizes ${sizes.join(',')}`, duckdb_memory_limit: limit, only: null, api_seconds: 10, connections: 10 },
    started_at: started,
    finished_at: started,
    mode: 'custom',
    sizes,
    scenarios,
    growth: [],
  };
}

describe('README performance table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fiscus-readme-table-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders every scenario with its ratio from the same run, the machine and peak RSS', () => {
    const api = row('api_alerts', 1_000_000, 10, 10, 240, {
      ratio_basis: 'p99_ms', p50_ms: 8, p99_ms: 22, baseline_p50_ms: 2, baseline_p99_ms: 5, requests_per_sec: 1504, baseline_requests_per_sec: 2210,
      details: { size: 1_000_000, connections: 10 },
    });
    const r = run([row('ingest_payments', 1_000_000, 4.85, 2.5, 724), row('ingest_payments', 100_000, 0.91, 0.28, 270), row('rules_pack', 10_000_000, 16.6, 11.6, 2682), finalize(api)], '2026-12-02T10:00:00Z');
    const t = renderReadmeTable([r]);
    expect(t).toContain('2 × Test EPYC, 23.5 GB RAM, Debian 12, Node v20.20.2, DuckDB v1.5.5; DuckDB memory_limit 1536MiB');
    const lines = t.split('\n').filter((l) => l.startsWith('| '));
    // Sizes ascending within a scenario; the label only on its first row.
    expect(lines[1]).toMatch(/^\| ingest .* \| 100k \| 0\.91 s \(110k rows\/s\) \| 0\.28 s \(357k rows\/s\) \| 3\.25 \| ≤ 1\.3x DuckDB read_csv: miss \| 270 \/ 170 \|$/);
    expect(lines[2]).toMatch(/^\|  \| 1M \| 4\.85 s .* \| 1\.94 \|/);
    expect(lines[3]).toContain('| 10M | 16.6 s | 11.6 s | 1.43 |');
    expect(lines[3]).toContain('2682 / 2582 (over 2 GB)');
    expect(lines[4]).toContain('`GET /v1/alerts?limit=100`, 10 connections, 10 s');
    expect(lines[4]).toContain('p50 8 ms, p99 22 ms, 1,504 req/s | p50 2 ms, p99 5 ms, 2,210 req/s | 4.40 (p99) | p99 < 20 ms at ≥ 1,000 req/s: miss');
    expect(t).toContain('Run: 2026-12-02: `fiscus bench --sizes 100000,1000000,10000000`');
  });

  it('a row measured in several pairs shows that its figures are medians, and the pairs\' spread', () => {
    const pairs = [1.144, 1.19, 1.169].map((ratio) => ({ ours_seconds: 0.39, baseline_seconds: 0.33, ratio }));
    const t = renderReadmeTable([run([row('rules_pack', 100_000, 0.39, 0.331, 330, { details: { size: 100_000, pairs } })], '2026-12-08T00:00:00Z')]);
    expect(t).toContain('| 0.39 s | 0.33 s | 1.18 (medians of 3 pairs; pairs 1.14–1.19) | ≤ 1.2x hand-written SQL: pass |');
  });

  it('a later run replaces the rows it has, keeps the others, and names both runs', () => {
    const first = run([row('ingest_payments', 1_000_000, 4, 2, 700), row('rules_pack', 1_000_000, 2.2, 1, 500)], '2026-11-23T00:00:00Z');
    const second = run([row('rules_pack', 1_000_000, 1.1, 1, 480)], '2026-12-01T00:00:00Z');
    const t = renderReadmeTable([first, second]);
    expect(t).toContain('| 1M [1] | 4.00 s');
    expect(t).toContain('| 1M [2] | 1.10 s | 1.00 s | 1.10 |');
    expect(t).not.toContain('2.20 s');
    expect(t).toContain('[1] 2026-11-23');
    expect(t).toContain('[2] 2026-12-01');
  });

  it('refuses to mix machines, and shows a skipped scenario with its reason instead of numbers', () => {
    const other = { ...run([row('rules_pack', 1000, 1, 1, 100)], '2026-12-01T00:00:00Z'), machine: { ...machine, cpus: 8 } };
    expect(() => renderReadmeTable([run([row('rules_pack', 1000, 1, 1, 100)], '2026-12-01T00:00:00Z'), other])).toThrow(/different machines/);
    const skip = finalize({ name: 'rules_pack', rows: 1000, seconds: null, baseline: 'b', baseline_seconds: null, ratio: null, peak_rss_mb: null, status: 'skipped', reason: 'runner | failed', details: { size: 1000 } });
    const t = renderReadmeTable([run([skip], '2026-12-01T00:00:00Z')]);
    expect(t).toContain('skipped: runner \\| failed');
  });

  it('--write replaces only what is between the markers of a real file', () => {
    const results = join(dir, 'r.json');
    writeFileSync(results, JSON.stringify(run([row('rules_pack', 1_000_000, 2, 1, 500)], '2026-12-02T00:00:00Z')));
    const readme = join(dir, 'README.md');
    writeFileSync(readme, `# x\n\nbefore\n${BEGIN_MARKER}\nold table\n${END_MARKER}\nafter\n`);
    execFileSync(process.execPath, ['--import', 'tsx', 'bench/readme-table.ts', '--write', readme, results], { stdio: 'pipe' });
    const text = readFileSync(readme, 'utf8');
    expect(text.startsWith(`# x\n\nbefore\n${BEGIN_MARKER}\n`)).toBe(true);
    expect(text.endsWith(`${END_MARKER}\nafter\n`)).toBe(true);
    expect(text).not.toContain('old table');
    expect(text).toContain('| 1M | 2.00 s | 1.00 s | 2.00 |');
    // Idempotent: a second write gives the same file.
    execFileSync(process.execPath, ['--import', 'tsx', 'bench/readme-table.ts', '--write', readme, results], { stdio: 'pipe' });
    expect(readFileSync(readme, 'utf8')).toBe(text);
    expect(() => replaceBetweenMarkers('no markers here', 't')).toThrow(/no table markers/);
  });

  it('refuses a results file that is not well-formed', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ scenarios: [] }));
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'bench/readme-table.ts', bad], { stdio: 'pipe' })).toThrow(/not a well-formed bench result/);
  });
});
