/**
 * watch_arrival_to_alert at a tiny size: the scenario runs end to end (serve --watch in its own
 * process, SSE from now, a 1,000-row batch copied in) and reports a well-formed, timed row; the
 * batch it drops is 1,000 new payments with one planted non-working-day payment.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { validateResults, type BenchResults } from '../../bench/results.ts';
import { watchBatch, WATCH_BATCH_ROWS } from '../../bench/run.ts';
import { HEADER } from '../watch/helpers.ts';

describe('bench watch_arrival_to_alert', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fiscus-bench-watch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a 1,000-row batch of new ids from a smaller increment, ending with the planted payment', () => {
    const inc = join(dir, 'inc.csv');
    writeFileSync(inc, `${HEADER}\nP1,2025,370800,A0101,ZB1,2050101,30201,general,,"某, 公司",62,org,12.00,2025-12-30,direct,x,false\n`);
    const lines = watchBatch(inc, WATCH_BATCH_ROWS).trimEnd().split('\n');
    expect(lines).toHaveLength(WATCH_BATCH_ROWS + 1);
    expect(lines[0]).toBe(HEADER);
    const ids = lines.slice(1).map((l) => l.split(',')[0]);
    expect(new Set(ids).size).toBe(WATCH_BATCH_ROWS);
    expect(lines[1]).toBe('P1-W0,2025,370800,A0101,ZB1,2050101,30201,general,,"某, 公司",62,org,12.00,2025-12-30,direct,x,false');
    expect(lines.at(-1)).toMatch(/^PW-SUNDAY-1,2025,370800,A0101,ZB1,2050101,30201,general,,.*,50000\.00,2025-12-28,/);
  });

  it('measures the first alert on SSE after the copy', { timeout: 240_000 }, async () => {
    const file = join(dir, 'watch.json');
    const err: string[] = [];
    const code = await main(['node', 'fiscus', 'bench', '--sizes', '2k', '--only', 'watch_arrival_to_alert', '--out', file, '--work-dir', join(dir, 'work')], {
      out: () => undefined,
      err: (t) => err.push(t),
      interactive: false,
    });
    expect(code, err.join('')).toBe(0);
    const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    expect(validateResults(results)).toEqual([]);
    const [s] = results.scenarios;
    expect(s!.status, s!.reason).toBe('ok');
    expect(s!.rows).toBe(WATCH_BATCH_ROWS);
    const d = s!.details as { ingested_after_ms: number; rules_done_after_ms: number; first_alert: { rule_id: string; event_type: string } };
    // The alert comes after the ingest and the rule run, and is one of the run's new flags.
    expect(d.ingested_after_ms).toBeGreaterThan(0);
    expect(d.rules_done_after_ms).toBeGreaterThanOrEqual(d.ingested_after_ms);
    expect(s!.seconds! * 1000).toBeGreaterThanOrEqual(d.ingested_after_ms);
    expect(d.first_alert.event_type).toBe('flag.discovered');
    expect(s!.target).toMatch(/< 2 s/);
    expect(typeof s!.target_met).toBe('boolean');
  });
});
