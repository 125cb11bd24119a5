/**
 * hashFile reads a file in 4 MiB chunks into one reused buffer, hashing it and checking it is
 * UTF-8 as it goes: characters cut by a chunk's end must be judged whole, and the hash must be
 * the file's.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashFile } from '../../ingest/encoding.ts';

const CHUNK = 4 << 20;
const dir = mkdtempSync(join(tmpdir(), 'fiscus-encoding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `prefix` ASCII bytes, then `char` repeated past two chunk ends. */
function text(prefix: number, char: string): Buffer {
  const unit = Buffer.from(char);
  const n = Math.ceil((2 * CHUNK + 1000) / unit.length);
  return Buffer.concat([Buffer.alloc(prefix, 0x61), Buffer.alloc(n * unit.length).fill(unit)]);
}

async function check(name: string, bytes: Buffer) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const r = await hashFile(path, true);
  expect(r.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  expect(r.bytes).toBe(bytes.length);
  return r.utf8;
}

describe('hashFile', () => {
  it('hashes the whole file and accepts UTF-8 whose characters are cut by every possible chunk end', async () => {
    // 3-byte (支) and 4-byte (𠮷) characters, shifted so a chunk ends after each of their bytes.
    for (const char of ['支', '𠮷']) {
      for (let prefix = 0; prefix < Buffer.byteLength(char); prefix++) {
        expect(await check(`ok-${prefix}-${Buffer.byteLength(char)}.txt`, text(prefix, char)), `${char} after ${prefix} bytes`).toBe(true);
      }
    }
  });

  it('refuses a character broken exactly across a chunk end', async () => {
    const b = text(0, 'a');
    b[CHUNK - 1] = 0xe6; // the lead byte of a 3-byte character ...
    b[CHUNK] = 0x94; // ... one continuation byte in the next chunk ...
    b[CHUNK + 1] = 0x61; // ... then ASCII where the second one should be
    expect(await check('broken-across.txt', b)).toBe(false);
  });

  it('refuses a GBK byte pair far past the first chunk, and a character cut by the end of the file', async () => {
    const gbk = text(0, 'a');
    gbk[CHUNK + 12345] = 0xd6; // 中 in GBK: D6 D0
    gbk[CHUNK + 12346] = 0xd0;
    expect(await check('gbk-late.txt', gbk)).toBe(false);
    expect(await check('cut-at-end.txt', Buffer.concat([text(0, 'a'), Buffer.from('支').subarray(0, 2)]))).toBe(false);
  });

  it('reads a file shorter than a chunk, and an empty one', async () => {
    expect(await check('short.txt', Buffer.from('payment_id,amount\nP1,支付\n'))).toBe(true);
    expect(await check('empty.txt', Buffer.alloc(0))).toBe(true);
  });
});
