/**
 * Bytes before DuckDB: the file's SHA-256, its text encoding, and a UTF-8
 * copy when it is not UTF-8 already.
 *
 * DuckDB's read_csv only reads UTF-8 here (the `encodings` extension cannot
 * be installed), while exports come in GBK/GB18030, Windows-1252, UTF-16 and
 * DOS code pages. Any label Node's TextDecoder knows (the WHATWG encodings)
 * is decoded with it; other code pages (CP850, CP437 …) with iconv-lite. The
 * file is transcoded chunk by chunk into a temporary UTF-8 file (bounded
 * memory) in the same pass that hashes it.
 *
 * Detection (no `encoding` in the profile): a BOM; else strict UTF-8; else
 * UTF-16 without a BOM (NUL bytes in every other position); else GB18030 when
 * the high bytes decode strictly and come in pairs as Chinese text does; else
 * Windows-1252. CP850 and Windows-1252 cannot be told apart by their bytes:
 * a DOS export needs `encoding: cp850`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { FiscusError } from '../engine/errors.ts';

/** `utf-8`, `utf-8-bom`, or the canonical name of any decodable encoding (`gb18030`, `windows-1252`, `cp850`, …). */
export type TextEncoding = string;

const HEAD_BYTES = 1 << 20;
const CHUNK = 1 << 20;

/** The canonical name of an encoding label, or undefined when no kept library decodes it. */
export function resolveEncoding(label: string): string | undefined {
  const l = label.trim().toLowerCase();
  if (l === 'utf8' || l === 'utf-8') return 'utf-8';
  if (l === 'gbk' || l === 'gb2312' || l === 'gb18030' || l === 'cp936') return 'gb18030';
  try {
    return new TextDecoder(l).encoding;
  } catch {
    /* not a WHATWG label */
  }
  return iconv.encodingExists(l) ? l.replace(/^(ibm|cp-?)(\d+)$/, 'cp$2') : undefined;
}

/** Some labels for messages: what a profile's `encoding` may say. */
export const ENCODING_EXAMPLES = ['utf-8', 'gb18030', 'windows-1252', 'utf-16le', 'utf-16be', 'cp850', 'cp437', 'big5', 'shift_jis', 'iso-8859-15'];

/** Guess the encoding from the first bytes of a file. */
export function detectEncoding(head: Uint8Array, complete: boolean): TextEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8-bom';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  // A multi-byte character cut at the end of an incomplete head is not checked. isUtf8 builds
  // no string: 1 MB of Chinese text in ~0.1 ms, where TextDecoder's fatal decode took 3-4 ms.
  const whole = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  return isUtf8(complete ? whole : whole.subarray(0, lastBoundary(whole))) ? 'utf-8' : detectLegacy(head, complete);
}

/** Not UTF-8: UTF-16 without a BOM, GB18030, or a Western single-byte code page. */
function detectLegacy(head: Uint8Array, complete: boolean): TextEncoding {
  const n = Math.min(head.length, 4096);
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i++) if (head[i] === 0) (i % 2 ? oddNul++ : evenNul++);
  if (oddNul > n / 5 && evenNul < n / 50) return 'utf-16le';
  if (evenNul > n / 5 && oddNul < n / 50) return 'utf-16be';
  try {
    new TextDecoder('gb18030', { fatal: true }).decode(head, { stream: !complete });
  } catch {
    return 'windows-1252';
  }
  // GB text is runs of two-byte characters; Latin text has lone accented letters and symbols (£ é).
  let runs = 0;
  let lone = 0;
  for (let i = 0; i < head.length; ) {
    if (head[i] < 0x80) {
      i++;
      continue;
    }
    let j = i;
    while (j < head.length && head[j] >= 0x80) j++;
    runs++;
    if (j - i === 1) lone++;
    i = j;
  }
  return runs > 0 && lone / runs > 0.3 ? 'windows-1252' : 'gb18030';
}

/** The encoding a text file appears to have from its first megabyte. */
export async function readHead(path: string, bytes = HEAD_BYTES): Promise<{ head: Buffer; complete: boolean }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return { head: buf.subarray(0, bytesRead), complete: bytesRead < bytes };
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

/** A streaming decoder: TextDecoder for WHATWG labels, iconv-lite for the rest. */
interface Decoder {
  write(chunk: Uint8Array): string;
  end(): string;
}

function makeDecoder(encoding: string, path: string): Decoder {
  const label = encoding === 'utf-8-bom' ? 'utf-8' : encoding;
  try {
    const d = new TextDecoder(label, { fatal: true, ignoreBOM: false });
    return { write: (c) => d.decode(c, { stream: true }), end: () => d.decode(new Uint8Array(0)) };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
  }
  if (!iconv.encodingExists(label)) throw unknownEncoding(encoding, path);
  const d = iconv.getDecoder(label, { stripBOM: true });
  return { write: (c) => d.write(Buffer.from(c.buffer, c.byteOffset, c.byteLength)), end: () => d.end() ?? '' };
}

export function unknownEncoding(label: string, where: string): FiscusError {
  return new FiscusError(
    `${where}: encoding "${label}" is not one fiscus can decode; use a WHATWG label or a code page such as ` +
      `${ENCODING_EXAMPLES.join(', ')} — 无法识别的编码`,
    { code: 'INGEST_ENCODING' },
  );
}

/**
 * Hash the file and, for text formats, make sure DuckDB gets UTF-8.
 * `override` forces an encoding (mapping profile `encoding`).
 */
export async function prepareBytes(
  path: string,
  opts: { text: boolean; override?: string; utf8Path: string; fixBareCr?: boolean },
): Promise<PreparedBytes> {
  let encoding: TextEncoding = 'utf-8';
  let detected: TextEncoding = 'utf-8';
  if (opts.text) {
    const { head, complete } = await readHead(path);
    detected = detectEncoding(head, complete);
    encoding = opts.override === undefined
      ? detected
      : opts.override === 'utf-8' && detected === 'utf-8-bom' ? detected : opts.override;
  }
  const isUtf8Enc = encoding === 'utf-8' || encoding === 'utf-8-bom';
  const transcode = opts.text && (!isUtf8Enc || opts.fixBareCr === true);
  const hash = createHash('sha256');
  let bytes = 0;
  let out: WriteStream | undefined;
  let decoder: Decoder | undefined;
  if (transcode) {
    decoder = makeDecoder(encoding, path);
    out = createWriteStream(opts.utf8Path);
  }
  const input = createReadStream(path, { highWaterMark: CHUNK });
  // A file whose first megabyte is UTF-8 can still turn out otherwise further on: keep checking.
  const check = opts.text && !transcode && opts.override === undefined ? new Utf8Check() : undefined;
  const crFix = opts.fixBareCr ? new BareCrFix() : undefined;
  const emit = (text: string) => (crFix ? crFix.push(text) : text);
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (out && decoder) await write(out, emit(decodeOrFail(() => decoder!.write(chunk), encoding, path)));
      check?.push(chunk);
    }
    if (check && !check.end()) {
      input.destroy();
      // Valid UTF-8 up to the first megabyte, then not: most likely GB18030, else a Western code page.
      try {
        return await prepareBytes(path, { ...opts, override: 'gb18030' });
      } catch (err) {
        if ((err as FiscusError).code !== 'INGEST_ENCODING') throw err;
        return prepareBytes(path, { ...opts, override: 'windows-1252' });
      }
    }
    if (out && decoder) {
      await write(out, emit(decodeOrFail(() => decoder!.end(), encoding, path)) + (crFix?.end() ?? ''));
      await new Promise<void>((res, rej) => out!.end((err?: Error | null) => (err ? rej(err) : res())));
    }
  } catch (err) {
    out?.destroy();
    throw err;
  }
  return { sha256: hash.digest('hex'), bytes, encoding, readPath: transcode ? opts.utf8Path : path, transcoded: transcode };
}

/**
 * Old Mac exports end lines with a bare CR. DuckDB and the line scanner need
 * LF: every CR not followed by LF becomes LF (one line stays one line).
 */
class BareCrFix {
  private pendingCr = false;
  push(text: string): string {
    let t = text;
    if (this.pendingCr) t = `\r${t}`;
    this.pendingCr = t.endsWith('\r');
    if (this.pendingCr) t = t.slice(0, -1);
    return t.replace(/\r(?!\n)/g, '\n');
  }
  end(): string {
    return this.pendingCr ? '\n' : '';
  }
}

/** True when the text's lines end in a bare CR (no LF at all, several CRs). */
export function hasBareCrLines(head: Uint8Array): boolean {
  let cr = 0;
  for (let i = 0; i < head.length; i++) {
    if (head[i] === 0x0a) return false;
    if (head[i] === 0x0d) cr++;
  }
  return cr > 0;
}

/**
 * Streaming UTF-8 validity check without building strings. A character cut by a chunk's end
 * (at most 3 bytes) is checked with the next chunk's first bytes, not by joining the chunks:
 * most chunks of Chinese text end mid-character, and copying each one cost a load of 1.7 GB
 * about 0.2 s of CPU.
 */
class Utf8Check {
  private carry: Buffer = Buffer.alloc(0);
  private ok = true;

  push(chunk: Buffer): void {
    if (!this.ok) return;
    let data = chunk;
    if (this.carry.length) {
      const rest = sequenceLength(this.carry[0]!) - this.carry.length;
      if (chunk.length < rest) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      if (!isUtf8(Buffer.concat([this.carry, chunk.subarray(0, rest)]))) {
        this.ok = false;
        return;
      }
      data = chunk.subarray(rest);
    }
    const cut = lastBoundary(data);
    if (!isUtf8(data.subarray(0, cut))) this.ok = false;
    // A copy: the caller may read its next chunk into the same buffer.
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
    return i + sequenceLength(x) > b.length ? i : b.length;
  }
  return b.length;
}

/** Bytes of the UTF-8 sequence a lead byte starts (1 for ASCII and for bytes no sequence starts with). */
function sequenceLength(lead: number): number {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}

function decodeOrFail(fn: () => string, encoding: string, path: string): string {
  try {
    return fn();
  } catch {
    throw new FiscusError(
      `${path} is not valid ${encoding.toUpperCase()} text${encoding === 'gb18030' ? ' (nor UTF-8)' : ''}: ` +
        'name its encoding with `encoding:` in the mapping profile (--mapping), e.g. ' +
        `${ENCODING_EXAMPLES.map((e) => `\`encoding: ${e}\``).join(', ')} — 文件编码与所设不符或无法识别`,
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
  // One buffer, read into again and again: this pass runs while DuckDB loads the same file on
  // both cores, and a stream's new buffer per chunk cost 10M payments (1.7 GB) 2.1 s of CPU
  // against 1.4 s (SHA-256 itself is ~1.2 GB/s here).
  const buf = Buffer.allocUnsafe(HASH_CHUNK);
  const fh = await open(path, 'r');
  let bytes = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      check?.push(chunk);
      bytes += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), bytes, utf8: check ? check.end() : true };
}

const HASH_CHUNK = 4 << 20;

/** Decode a whole buffer (no streaming) in a named encoding, with the same decoders as a transcode. */
export function decodeText(buf: Uint8Array, encoding: string): string {
  const d = makeDecoder(encoding, 'text');
  return d.write(buf) + d.end();
}
