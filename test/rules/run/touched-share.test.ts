/**
 * rules/run/touched-share.ts: the share of a table's key tuples a batch reaches, estimated from
 * the batch's rows and the tuples they touched. Held to seeded simulations of batches spread
 * over equally likely keys, and to the two ends: every row its own key (nothing of the table's
 * share known: 0) and many rows piled onto few keys (nearly all).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../fixtures/generate/prng.ts';
import { estimatedTouchedShare } from '../../../rules/run/touched-share.ts';

/** Distinct keys hit by `rows` draws among `keys` equally likely keys. */
function simulate(rng: Rng, rows: number, keys: number): number {
  const hit = new Set<number>();
  for (let i = 0; i < rows; i++) hit.add(Math.floor(rng.next() * keys));
  return hit.size;
}

describe('estimatedTouchedShare', () => {
  it('comes within three points of the true share of batches spread over the keys', () => {
    const rng = new Rng('touched-share');
    for (const [rows, keys] of [[100_000, 50_000], [100_000, 5_000], [100_000, 1_000_000], [10_000, 4_000], [1_000, 400]] as const) {
      const touched = simulate(rng, rows, keys);
      const off = Math.abs(estimatedTouchedShare(rows, touched) - touched / keys);
      expect(off, `${rows} rows over ${keys} keys touched ${touched}`).toBeLessThan(0.03);
    }
  });

  it('is 0 when every row has a key of its own, and near 1 when rows pile onto few keys', () => {
    expect(estimatedTouchedShare(40, 40)).toBe(0);
    expect(estimatedTouchedShare(100_000, 100_000)).toBe(0);
    expect(estimatedTouchedShare(0, 0)).toBe(0);
    expect(estimatedTouchedShare(100_000, 4_993)).toBeGreaterThan(0.99);
    expect(estimatedTouchedShare(30, 3)).toBeGreaterThan(0.99);
  });

  it('grows as the same batch touches fewer keys', () => {
    const shares = [39_000, 30_000, 20_000, 10_000, 1_000].map((t) => estimatedTouchedShare(40_000, t));
    for (let i = 1; i < shares.length; i++) expect(shares[i]!).toBeGreaterThan(shares[i - 1]!);
  });
});
