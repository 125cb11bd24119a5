/** The cache's own bounds and validators (api/response-cache.ts); the HTTP behaviour is in cache.test.ts. */
import { describe, expect, it } from 'vitest';
import { cachedResponse, cacheKey, noneMatch, ResponseCache } from '../../api/response-cache.ts';

const page = (kb: number, tag = 'x') => cachedResponse(JSON.stringify({ items: tag.repeat(kb * 1024) }), 'application/json; charset=utf-8');

describe('ResponseCache', () => {
  it('keeps the bytes under its budget: a caller varying the URL cannot fill the heap', () => {
    const cache = new ResponseCache(2000, 100 * 1024);
    for (let i = 0; i < 50; i++) cache.set(`k${i}`, page(10));
    expect(cache.bytes).toBeLessThanOrEqual(100 * 1024);
    expect(cache.size).toBe(Math.floor((100 * 1024) / page(10).payload.length));
    // Least recently used went first: the newest entries are the ones left.
    expect(cache.get('k49')).toBeDefined();
    expect(cache.get('k0')).toBeUndefined();
    // A page larger than the whole budget is not kept, and evicts nothing.
    const before = cache.size;
    cache.set('huge', page(200));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(before);
  });

  it('replacing a key does not count its bytes twice', () => {
    const cache = new ResponseCache(10, 1024 * 1024);
    cache.set('a', page(10));
    cache.set('a', page(20));
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(page(20).payload.length);
  });

  it('counts UTF-8 bytes and gives equal bytes equal ETags', () => {
    const a = cachedResponse('{"t":"拆分支付"}', 'application/json');
    expect(a.payload.length).toBe(Buffer.byteLength('{"t":"拆分支付"}'));
    expect(cachedResponse('{"t":"拆分支付"}', 'application/json').etag).toBe(a.etag);
    expect(cachedResponse('{"t":"拆分支付 "}', 'application/json').etag).not.toBe(a.etag);
  });

  it('keeps scopes apart in the key even when an agency code contains the old separator', () => {
    const k1 = cacheKey(1, { role: 'agency', agencyCode: 'A|x' }, '/v1/flags');
    const k2 = cacheKey(1, { role: 'agency', agencyCode: 'A' }, 'x|/v1/flags');
    expect(k1).not.toBe(k2);
    expect(cacheKey(2, { role: 'agency', agencyCode: 'A' }, '/v1/flags')).not.toBe(cacheKey(1, { role: 'agency', agencyCode: 'A' }, '/v1/flags'));
    expect(cacheKey(1, { role: 'analyst' }, '/v1/flags')).not.toBe(cacheKey(1, { role: 'supervisor' }, '/v1/flags'));
  });

  it('matches If-None-Match lists, weak tags and *; nothing else', () => {
    const e = '"abc"';
    expect(noneMatch(undefined, e)).toBe(false);
    expect(noneMatch('"abc"', e)).toBe(true);
    expect(noneMatch('W/"abc"', e)).toBe(true);
    expect(noneMatch('"x", "abc"', e)).toBe(true);
    expect(noneMatch('*', e)).toBe(true);
    expect(noneMatch('"abcd"', e)).toBe(false);
    expect(noneMatch('abc', e)).toBe(false);
    expect(noneMatch(`${'"x",'.repeat(3000)}"abc"`, e)).toBe(false);
  });
});
