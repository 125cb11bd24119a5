/** The API benchmark runs end to end (small and short here; numbers are reported, not asserted). */
import { describe, expect, it } from 'vitest';
import { benchApi } from '../../bench/api.ts';

describe('benchApi', () => {
  it('drives the API and the same-bytes baseline from a second process without errors', async () => {
    const r = await benchApi({ flags: 500, seconds: 1, warmupSeconds: 0, connections: 4 });
    expect(Object.keys(r.endpoints)).toContain('GET /v1/alerts (100 items)');
    for (const e of Object.values(r.endpoints)) {
      expect(e.api.errors + e.api.non2xx).toBe(0);
      expect(e.baseline.errors + e.baseline.non2xx).toBe(0);
      expect(e.api.rps).toBeGreaterThan(0);
      expect(e.api.p99).toBeGreaterThanOrEqual(e.api.p50);
    }
    expect(r.p50).toBe(r.endpoints['GET /v1/alerts (100 items)']!.api.p50);
  }, 120_000);
});
