import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { validateResults, type BenchResults } from '../../bench/results.ts';

describe('fiscus bench (tiny run)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fiscus-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a well-formed bench-results.json and prints the table', { timeout: 240_000 }, async () => {
    const file = join(dir, 'bench-results.json');
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'fiscus', 'bench', '--sizes', '2k', '--only', 'ingest_payments,rules_pack', '--out', file, '--work-dir', join(dir, 'work')], {
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
    }
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(out.join('')).toMatch(/ingest_payments/);
    // Progress goes to stderr, the table to stdout.
    expect(err.join('')).toMatch(/== 2000 payments ==/);
  });

  it('refuses a bad --sizes with a usage error', async () => {
    const code = await main(['node', 'fiscus', 'bench', '--sizes', 'many', '--out', join(dir, 'x.json')], { out: () => undefined, err: () => undefined, interactive: false });
    expect(code).toBe(2);
  });
});
