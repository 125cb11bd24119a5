/**
 * Short flag ids (flags/short-id.ts): a unique prefix of at least 6 hex characters
 * names a flag, an ambiguous one lists the candidates, an unknown one says so —
 * usage errors (exit 2) all — and the flag filter's text search finds a flag by
 * the short id the tables print. Against a real DuckDB file, or a real PostgreSQL
 * database with FISCUS_TEST_ENGINE=postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { FiscusError } from '../../engine/errors.ts';
import { listFlags } from '../../flags/list.ts';
import { MIN_ID_PREFIX, pickFlagId, resolveFlagId, SHORT_ID_LENGTH, shortFlagId } from '../../flags/short-id.ts';
import { insertFlags, tempStore } from '../api/helpers.ts';

const A = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
// Shares its first 7 characters with B and C: 6 or 7 are ambiguous, 8 are not.
const B = '7f3e9a1c00112233445566778899aabb';
const C = '7f3e9a1d99887766554433221100ffee';
// Six flags starting with "abcdef": the message names five and counts the rest.
const MANY = Array.from({ length: 6 }, (_, i) => `abcdef${String(i).padStart(2, '0')}${'0'.repeat(24)}`);

let store: Store;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await insertFlags(store, [A, B, C, 'P-LOOP', ...MANY].map((flag_id) => ({ flag_id })));
});
afterAll(async () => cleanup());

/** The usage error a call throws (exit 2), or a failure when it does not throw one. */
async function usage(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FiscusError);
  expect((err as FiscusError).exitCode).toBe(2);
  return (err as Error).message;
}

describe('resolveFlagId', () => {
  it('takes the full id, a 10-character short id, the 6-character minimum, and any case', async () => {
    expect(shortFlagId(A)).toBe(A.slice(0, SHORT_ID_LENGTH));
    expect(await resolveFlagId(store, A)).toBe(A);
    expect(await resolveFlagId(store, shortFlagId(A))).toBe(A);
    expect(await resolveFlagId(store, A.slice(0, MIN_ID_PREFIX))).toBe(A);
    expect(await resolveFlagId(store, ` ${A.slice(0, 8).toUpperCase()} `)).toBe(A);
    expect(await resolveFlagId(store, B.slice(0, 8))).toBe(B);
  });

  it('takes a stored id that is not hex exactly as given', async () => {
    expect(await resolveFlagId(store, 'P-LOOP')).toBe('P-LOOP');
  });

  it('refuses an ambiguous prefix and lists the candidates', async () => {
    const msg = await usage(resolveFlagId(store, B.slice(0, 7)));
    expect(msg).toContain('ambiguous');
    expect(msg).toContain('2 flags');
    expect(msg).toContain(B);
    expect(msg).toContain(C);
    expect(msg).toContain('treasury.split_payment');
    expect(msg).not.toContain(A);
  });

  it('names five of many candidates and counts the rest', async () => {
    const msg = await usage(resolveFlagId(store, 'abcdef'));
    expect(msg).toContain('6 flags');
    expect(MANY.filter((id) => msg.includes(id))).toHaveLength(5);
    expect(msg).toContain('… and 1 more');
  });

  it('says what is wrong with an unknown, a too short and a malformed id', async () => {
    expect(await usage(resolveFlagId(store, 'deadbeef'))).toMatch(/no flag deadbeef: no flag id starts with "deadbeef"/);
    expect(await usage(resolveFlagId(store, '7f3e9'))).toMatch(/no flag 7f3e9: give at least 6 characters/);
    expect(await usage(resolveFlagId(store, 'NO-SUCH'))).toMatch(/no flag NO-SUCH: a flag id is 32 hex characters, and a unique prefix of at least 6 will do/);
    // Characters of a range query are data, not SQL.
    expect(await usage(resolveFlagId(store, "7f3e9a' OR '1'='1"))).toContain('no flag');
  });
});

describe('pickFlagId (the --api path: candidates from GET /v1/flags?q=PREFIX)', () => {
  const listed = [{ flag_id: A }, { flag_id: B, rule_id: 'r', title: 't' }, { flag_id: C }];
  it('the same answers as resolveFlagId', async () => {
    expect(pickFlagId(B.slice(0, 8), listed)).toBe(B);
    expect(await usage(Promise.resolve().then(() => pickFlagId(B.slice(0, 6), listed)))).toContain('ambiguous');
    expect(await usage(Promise.resolve().then(() => pickFlagId('deadbeef', listed)))).toContain('no flag deadbeef');
  });
});

describe('the flag filter finds a flag by its short id', () => {
  it('q = a prefix of 6+ hex characters matches the ids starting with it, and only those', async () => {
    const ids = async (q: string) => (await listFlags(store, { q }, { sort: 'rule' })).items.map((f) => f.flag_id).sort();
    expect(await ids(shortFlagId(A))).toEqual([A]);
    expect(await ids(B.slice(0, 7))).toEqual([B, C].sort());
    expect(await ids(C)).toEqual([C]);
    expect(await ids(C.slice(0, 8))).toEqual([C]);
    expect(await ids('ffffff00')).toEqual([]);
  });
});
