/**
 * How many rules a run evaluates at once by default (rules/run/runner.ts defaultConcurrency):
 * one lane more than cores, at most 4, and fewer when the database file is large against
 * DuckDB's memory limit (each lane keeps half the file's size of buffer memory).
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { sizeBytes } from '../../../engine/db.ts';
import { defaultConcurrency } from '../../../rules/run/runner.ts';

const byCores = Math.max(2, Math.min(4, availableParallelism() + 1));
const LIMIT = sizeBytes('1536MiB')!;

describe('the default lanes', () => {
  it('are one more than cores, 2 to 4, when nothing is known of the data', () => {
    expect(defaultConcurrency()).toBe(byCores);
    expect(defaultConcurrency(0, LIMIT)).toBe(byCores);
  });

  it('stay so for a file small against the memory limit (10M payments: 0.42 GB)', () => {
    expect(defaultConcurrency(0.42e9, LIMIT)).toBe(byCores);
  });

  it('are fewer for a file large against it (30M payments: 1.26 GB), and never none', () => {
    expect(defaultConcurrency(1.26e9, LIMIT)).toBe(Math.min(byCores, 2));
    expect(defaultConcurrency(4e9, LIMIT)).toBe(1);
  });
});

describe('sizeBytes', () => {
  it('reads sizes as DuckDB does: KB is 1000 bytes, KiB 1024', () => {
    expect(sizeBytes('1536MiB')).toBe(1536 * 2 ** 20);
    expect(sizeBytes('2GB')).toBe(2e9);
    expect(sizeBytes('1.5 GiB')).toBe(1.5 * 2 ** 30);
    expect(sizeBytes('512kb')).toBe(512_000);
    expect(sizeBytes('lots')).toBeUndefined();
    expect(sizeBytes('12')).toBeUndefined();
  });
});
