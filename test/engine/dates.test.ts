/** The one date parser (engine/dates.ts): strict YYYY-MM-DD, real calendar days only, whatever the process time zone. */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  addDaysIso, checkIsoDate, formatIsoDate, isIsoDate, isoDateSchema, isoWeekday, parseIsoDate, todayInShanghai,
} from '../../engine/dates.ts';
import { UsageError } from '../../engine/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('isIsoDate / parseIsoDate', () => {
  it('accepts real calendar days, leap days included', () => {
    for (const d of ['2026-01-01', '2026-02-28', '2024-02-29', '2000-02-29', '2026-12-31', '1999-01-01']) expect(isIsoDate(d), d).toBe(true);
    expect(parseIsoDate('2026-03-08')!.toISOString()).toBe('2026-03-08T00:00:00.000Z');
  });

  it('refuses impossible days, other shapes and non-strings', () => {
    for (const d of [
      '2026-13-45', '2026-13-01', '2026-02-30', '2025-02-29', '1900-02-29', '2026-00-10', '2026-04-31', '2026-01-00',
      '2026-1-5', '20260101', '2026/01/01', ' 2026-01-01', '2026-01-01 ', '2026-01-01T00:00:00Z', '', '２０２６-01-01', "2026-01-01' OR '1'='1",
    ]) {
      expect(isIsoDate(d), JSON.stringify(d)).toBe(false);
      expect(parseIsoDate(d), JSON.stringify(d)).toBeNull();
    }
    for (const v of [null, undefined, 20260101, {}, ['2026-01-01']]) expect(isIsoDate(v)).toBe(false);
  });

  it('checkIsoDate names the option in a usage error (exit 2)', () => {
    expect(checkIsoDate('2026-02-28', '--as-of')).toBe('2026-02-28');
    let err: unknown;
    try {
      checkIsoDate('2026-13-45', '--as-of');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as Error).message).toBe('--as-of must be a date YYYY-MM-DD (got "2026-13-45")');
  });

  it('isoDateSchema (API bodies, config files) refuses what isIsoDate refuses', () => {
    const s = isoDateSchema();
    expect(s.safeParse('2026-02-28').success).toBe(true);
    expect(s.safeParse('2026-02-30').success).toBe(false);
    expect(s.safeParse('2026-2-3').success).toBe(false);
  });
});

describe('calendar arithmetic', () => {
  it('adds days across months, years and leap days; weekday 1 = Monday', () => {
    expect(addDaysIso('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDaysIso('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDaysIso('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDaysIso('2026-01-01', 365)).toBe('2027-01-01');
    expect(isoWeekday('2026-12-07')).toBe(1);
    expect(isoWeekday('2026-12-06')).toBe(7);
    expect(formatIsoDate(new Date(Date.UTC(2031, 5, 15, 23, 59)))).toBe('2031-06-15');
    expect(() => addDaysIso('2026-02-30', 1)).toThrow(RangeError);
  });

  it('gives today in Asia/Shanghai at the day boundary (UTC+8)', () => {
    expect(todayInShanghai(new Date('2026-12-01T15:59:59Z'))).toBe('2026-12-01');
    expect(todayInShanghai(new Date('2026-12-01T16:00:00Z'))).toBe('2026-12-02');
    expect(todayInShanghai(new Date('2026-12-31T16:00:00Z'))).toBe('2027-01-01');
  });

  it('does not depend on the process time zone (DST zones included)', () => {
    const script = `
      import { addDaysIso, isIsoDate, isoWeekday, todayInShanghai } from './engine/dates.ts';
      console.log(JSON.stringify([addDaysIso('2026-03-07', 1), addDaysIso('2026-10-31', 1), isoWeekday('2026-03-08'),
        isIsoDate('2026-03-08'), todayInShanghai(new Date('2026-03-08T17:00:00Z'))]));`;
    for (const tz of ['America/New_York', 'Pacific/Kiritimati']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, TZ: tz }, encoding: 'utf8' });
      expect(JSON.parse(out), tz).toEqual(['2026-03-08', '2026-11-01', 7, true, '2026-03-09']);
    }
  });
});
