/**
 * Bytes before DuckDB: the file's SHA-256, its text encoding, and a UTF-8
 * copy when it is not UTF-8 already.
 *
 * DuckDB's read_csv only reads UTF-8 here (the `encodings` extension cannot
 * be installed), while finance-bureau exports are often GBK/GB18030. A strict
 * UTF-8 decode of the first megabyte tells the two apart; a GB18030 file is
 * then transcoded chunk by chunk into a temporary UTF-8 file (bounded memory)
 * in the same pass that hashes it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { FiscusError } from '../engine/errors.ts';

export type TextEncoding = 'utf-8' | 'utf-8-bom' | 'gb18030' | 'utf-16le' | 'utf-16be';

const HEAD_BYTES = 1 << 20;
const CHUNK = 1 << 20;

/** Guess the encoding from the first bytes of a file. */
export function detectEncoding(head: Uint8Array, complete: boolean): TextEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8-bom';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  try {
    // stream: true tolerates a multi-byte character cut at the end of the head.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !complete });
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}

/** The encoding a text file appears to have from its first megabyte. */
export async function detectFileEncoding(path: string): Promise<TextEncoding> {
  const { head, complete } = await readHead(path);
  return detectEncoding(head, complete);
}

async function readHead(path: string): Promise<{ head: Buffer; complete: boolean }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return { head: buf.subarray(0, bytesRead), complete: bytesRead < HEAD_BYTES };
  } finally {
    await fh.close();
  }
}

export interface PreparedBytes {
  sha256: string;
  bytes: number;
  encoding: TextEncoding;
  /** The file DuckDB should read: the original, or a UTF-8 transcode at `utf8Path`. */
  readPath: string;
  transcoded: boolean;
}

/**
 * Hash the file and, for text formats, make sure DuckDB gets UTF-8.
 * `override` forces an encoding (mapping profile `encoding`).
 */
export async function prepareBytes(
  path: string,
  opts: { text: boolean; override?: 'utf-8' | 'gb18030'; utf8Path: string },
): Promise<PreparedBytes> {
  let encoding: TextEncoding = 'utf-8';
  if (opts.text) {
    const { head, complete } = await readHead(path);
    const detected = detectEncoding(head, complete);
    encoding = opts.override === 'gb18030' ? 'gb18030' : opts.override === 'utf-8' ? (detected === 'utf-8-bom' ? detected : 'utf-8') : detected;
  }
  const transcode = opts.text && (encoding === 'gb18030' || encoding === 'utf-16le' || encoding === 'utf-16be');
  const hash = createHash('sha256');
  let bytes = 0;
  let out: WriteStream | undefined;
  let decoder: TextDecoder | undefined;
  if (transcode) {
    out = createWriteStream(opts.utf8Path);
    decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
  }
  const input = createReadStream(path, { highWaterMark: CHUNK });
  // A file whose first megabyte is UTF-8 can still turn out GB18030 further on: keep checking.
  const check = opts.text && !transcode && opts.override === undefined ? new Utf8Check() : undefined;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (out && decoder) await write(out, decodeChunk(decoder, chunk, false, encoding, path));
      check?.push(chunk);
    }
    if (check && !check.end()) {
      input.destroy();
      return prepareBytes(path, { ...opts, override: 'gb18030' });
    }
    if (out && decoder) {
      await write(out, decodeChunk(decoder, new Uint8Array(0), true, encoding, path));
      await new Promise<void>((res, rej) => out!.end((err?: Error | null) => (err ? rej(err) : res())));
    }
  } catch (err) {
    out?.destroy();
    throw err;
  }
  return { sha256: hash.digest('hex'), bytes, encoding, readPath: transcode ? opts.utf8Path : path, transcoded: transcode };
}

/** Streaming UTF-8 validity check without building strings. */
class Utf8Check {
  private carry: Buffer = Buffer.alloc(0);
  private ok = true;

  push(chunk: Buffer): void {
    if (!this.ok) return;
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = lastBoundary(data);
    if (!isUtf8(data.subarray(0, cut))) this.ok = false;
    this.carry = Buffer.from(data.subarray(cut));
  }

  end(): boolean {
    return this.ok && (this.carry.length === 0 || isUtf8(this.carry));
  }
}

/** Index where a multi-byte UTF-8 character cut by the chunk end starts (or the length). */
function lastBoundary(b: Buffer): number {
  for (let i = b.length - 1; i >= 0 && i >= b.length - 4; i--) {
    const x = b[i];
    if ((x & 0xc0) === 0x80) continue; // continuation byte
    const need = x >= 0xf0 ? 4 : x >= 0xe0 ? 3 : x >= 0xc0 ? 2 : 1;
    return i + need > b.length ? i : b.length;
  }
  return b.length;
}

function decodeChunk(d: TextDecoder, chunk: Uint8Array, last: boolean, encoding: string, path: string): string {
  try {
    return d.decode(chunk, { stream: !last });
  } catch {
    throw new FiscusError(
      `${path} is neither UTF-8 nor valid ${encoding.toUpperCase()}: save it as UTF-8 or GB18030 (GBK), ` +
        'or set `encoding` in a mapping profile. 文件编码无法识别。',
      { code: 'INGEST_ENCODING' },
    );
  }
}

function write(out: WriteStream, text: string): Promise<void> {
  if (text.length === 0) return Promise.resolve();
  return new Promise((res, rej) => {
    const ok = out.write(text, 'utf8', (err) => {
      if (err) rej(err);
    });
    if (ok) res();
    else out.once('drain', () => res());
  });
}

/**
 * SHA-256 of a file and whether all of it is valid UTF-8, without writing
 * anything: runs while DuckDB already reads a file that looked like UTF-8.
 */
export async function hashFile(path: string, checkUtf8: boolean): Promise<{ sha256: string; bytes: number; utf8: boolean }> {
  const hash = createHash('sha256');
  const check = checkUtf8 ? new Utf8Check() : undefined;
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    check?.push(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes, utf8: check ? check.end() : true };
}
