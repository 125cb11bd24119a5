import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { sameFlags, validateResults, type BenchResults } from '../../bench/results.ts';

describe('fiscus bench (tiny run)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fiscus-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a well-formed bench-results.json and prints the table', { timeout: 240_000 }, async () => {
    const file = join(dir, 'bench-results.json');
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'fiscus', 'bench', '--sizes', '2k', '--only', 'ingest_payments,rules_pack', '--pairs', '3', '--out', file, '--work-dir', join(dir, 'work')], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      interactive: false,
    });
    expect(code, err.join('')).toBe(0);
    const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    expect(validateResults(results)).toEqual([]);
    expect(results.scenarios.map((s) => s.name).sort()).toEqual(['ingest_payments', 'rules_pack']);
    for (const s of results.scenarios) {
      expect(s.rows).toBe(2000);
      if (s.status === 'skipped') expect(s.reason).toBeTruthy();
      else expect(s.ratio).toBe(Math.round((s.seconds! / s.baseline_seconds!) * 1000) / 1000);
      // Three pairs, each side reported by its median.
      const pairs = (s.details as { pairs: { ours_seconds: number; baseline_seconds: number; ratio: number }[] }).pairs;
      expect(pairs).toHaveLength(3);
      const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
      expect(s.seconds).toBe(mid(pairs.map((p) => p.ours_seconds)));
      expect(s.baseline_seconds).toBe(mid(pairs.map((p) => p.baseline_seconds)));
    }
    expect(results.settings?.command).toMatch(/--pairs 3/);
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(out.join('')).toMatch(/ingest_payments/);
    // Progress goes to stderr, the table to stdout.
    expect(err.join('')).toMatch(/== 2000 payments ==/);
  });

  it('api_flags_query_load: the analyst pool is full for the whole load, and the ratio is computed from the two p99s', { timeout: 240_000 }, async () => {
    const file = join(dir, 'query-load.json');
    const err: string[] = [];
    const code = await main(
      ['node', 'fiscus', 'bench', '--sizes', '2k', '--only', 'api_flags_query_load', '--api-seconds', '1', '--connections', '2', '--out', file, '--work-dir', join(dir, 'work-q')],
      { out: () => undefined, err: (t) => err.push(t), interactive: false },
    );
    expect(code, err.join('')).toBe(0);
    const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    expect(validateResults(results)).toEqual([]);
    const s = results.scenarios.find((x) => x.name === 'api_flags_query_load')!;
    expect(s.status, s.reason).toBe('ok');
    expect(s.ratio_basis).toBe('p99_ms');
    expect(s.ratio).toBe(Math.round((s.p99_ms! / s.baseline_p99_ms!) * 1000) / 1000);
    const d = s.details as Record<string, unknown>;
    // As many worst-case queries as the server allows ran, more were refused, and none ended before the load did.
    expect(d.analyst_queries_running).toBeGreaterThanOrEqual(1);
    expect(d.analyst_queries_refused_429).toBeGreaterThan(0);
    expect(d.analyst_queries_ran_through_the_load).toBe(true);
    expect(d.non2xx).toBe(0);
    expect(s.target).toMatch(/p99/);
  });

  it('rules_incremental: the re-run writes (no rule fails for want of the log key) and leaves the flags a full run leaves', { timeout: 240_000 }, async () => {
    const file = join(dir, 'incremental.json');
    const err: string[] = [];
    const code = await main(
      ['node', 'fiscus', 'bench', '--sizes', '5k', '--only', 'rules_incremental', '--pairs', '1', '--out', file, '--work-dir', join(dir, 'work-i')],
      { out: () => undefined, err: (t) => err.push(t), interactive: false },
    );
    expect(code, err.join('')).toBe(0);
    const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    const s = results.scenarios.find((x) => x.name === 'rules_incremental')!;
    expect(s.status, s.reason).toBe('ok');
    const d = s.details as { ours: { totals: { errors: number; flags_new: number }; flags: { flags: number; digest: string } }; baseline: { flags: { digest: string } } };
    expect(d.ours.totals.errors).toBe(0);
    expect(d.ours.flags.flags).toBeGreaterThan(0);
    expect(d.ours.flags.digest).toBe(d.baseline.flags.digest);
    expect(sameFlags(s)).toBe(true);
    expect(s.target).toMatch(/flags identical/);
  });

  it('refuses a --pairs that is not a whole number from 1', async () => {
    for (const bad of ['0', '2.5', 'x']) {
      const err: string[] = [];
      const code = await main(['node', 'fiscus', 'bench', '--sizes', '2k', '--pairs', bad, '--out', join(dir, 'p.json')], { out: () => undefined, err: (t) => err.push(t), interactive: false });
      expect(code).toBe(2);
      expect(err.join('')).toMatch(/--pairs must be a whole number/);
    }
  });

  it('refuses a bad --sizes with a usage error', async () => {
    const code = await main(['node', 'fiscus', 'bench', '--sizes', 'many', '--out', join(dir, 'x.json')], { out: () => undefined, err: () => undefined, interactive: false });
    expect(code).toBe(2);
  });
});
