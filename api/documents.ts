/**
 * The document archive of the closed loop: files a unit or the committee attaches to a
 * flag (explanations, rectification reports, vouchers), stored content-addressed by
 * SHA-256 in a directory outside the database file.
 *
 * Layout under the documents directory:
 *   blobs/ab/abcdef…(64 hex)        the bytes, written once (temp file + rename), never changed
 *   links/<sha256(flag_id)>.jsonl   one JSON line per upload to that flag: {sha256, name, bytes, content_type, uploaded_by, role, at}
 * The client's file name is kept as metadata only (cleaned); no path is ever built from it,
 * so `../../etc/passwd` names a document, not a place. The content type is sniffed from the
 * bytes (magic numbers), never taken from the client; anything not recognised as a safe
 * type is served as application/octet-stream, always as an attachment with nosniff.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, appendFileSync, statSync, rmSync, openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export interface DocumentMeta {
  sha256: string;
  name: string;
  bytes: number;
  content_type: string;
  uploaded_by: string;
  role: string;
  at: string;
}

export class DocumentTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the document is larger than ${limit} bytes`);
  }
}

/** A file name safe to show and to put in Content-Disposition: last path segment, no control characters, ≤ 200 characters. */
export function cleanFileName(raw: string | undefined): string {
  let n = String(raw ?? '').normalize('NFC');
  n = n.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  n = n.replace(/[\u0000-\u001f\u007f"<>|:*?]/g, '_').replace(/^[.\s]+/, '').trim();
  if (n.length > 200) {
    const ext = /\.[A-Za-z0-9]{1,8}$/.exec(n)?.[0] ?? '';
    n = n.slice(0, 200 - ext.length) + ext;
  }
  return n || 'document';
}

const starts = (b: Buffer, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);

/**
 * The served type, from the bytes. Office Open XML is a ZIP: the name's extension picks
 * which one, only when the bytes are a ZIP. Text is text/plain only when it is valid UTF-8
 * without NULs and does not look like markup a browser would render.
 */
export function sniffContentType(head: Buffer, name: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  if (starts(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  if (starts(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts(head, [0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (starts(head, [0x50, 0x4b, 0x03, 0x04])) {
    const ooxml: Record<string, string> = {
      docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      ofd: 'application/ofd',
    };
    return ooxml[ext] ?? 'application/zip';
  }
  if (starts(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    return ext === 'xls' ? 'application/vnd.ms-excel' : ext === 'ppt' ? 'application/vnd.ms-powerpoint' : 'application/msword';
  }
  if (!head.includes(0)) {
    const text = head.toString('utf8');
    const valid = !text.slice(0, -4).includes('\ufffd');
    const markup = /^\s*(<!doctype|<html|<head|<body|<script|<svg|<\?xml|<iframe|<!--|<[a-z][a-z0-9-]*[\s>])/i.test(text);
    if (valid && !markup) return 'text/plain; charset=utf-8';
  }
  return 'application/octet-stream';
}

export class DocumentArchive {
  constructor(readonly dir: string, readonly maxBytes: number) {}

  private blobPath(sha: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new Error('bad digest');
    return join(this.dir, 'blobs', sha.slice(0, 2), sha);
  }

  private linkPath(flagId: string): string {
    return join(this.dir, 'links', `${createHash('sha256').update(flagId, 'utf8').digest('hex')}.jsonl`);
  }

  /**
   * Streams an upload to a temp file while hashing and counting it; over the limit it is
   * deleted and DocumentTooLarge thrown. The blob is then moved into place (an existing
   * one is kept: same digest, same bytes) and linked to the flag.
   */
  async store(flagId: string, stream: Readable, rawName: string | undefined, by: { name: string; role: string }): Promise<DocumentMeta> {
    mkdirSync(join(this.dir, 'tmp'), { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, 'tmp', `${randomBytes(12).toString('hex')}.part`);
    const fd = openSync(tmp, 'wx', 0o600);
    const hash = createHash('sha256');
    let bytes = 0;
    let head = Buffer.alloc(0);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > this.maxBytes) throw new DocumentTooLarge(this.maxBytes);
        if (head.length < 4096) head = Buffer.concat([head, chunk.subarray(0, 4096 - head.length)]);
        hash.update(chunk);
        writeSync(fd, chunk);
      }
      // The multipart reader truncates at its own limit instead of throwing in some versions.
      if ((stream as Readable & { truncated?: boolean }).truncated) throw new DocumentTooLarge(this.maxBytes);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    const sha256 = hash.digest('hex');
    const dest = this.blobPath(sha256);
    mkdirSync(join(this.dir, 'blobs', sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
    if (existsSync(dest)) rmSync(tmp, { force: true });
    else renameSync(tmp, dest);
    const name = cleanFileName(rawName);
    const meta: DocumentMeta = { sha256, name, bytes, content_type: sniffContentType(head, name), uploaded_by: by.name, role: by.role, at: new Date().toISOString() };
    mkdirSync(join(this.dir, 'links'), { recursive: true, mode: 0o700 });
    appendFileSync(this.linkPath(flagId), `${JSON.stringify(meta)}\n`, { mode: 0o600 });
    return meta;
  }

  /** The documents uploaded to a flag, newest upload of each digest+name once. */
  list(flagId: string): DocumentMeta[] {
    const p = this.linkPath(flagId);
    if (!existsSync(p)) return [];
    const seen = new Map<string, DocumentMeta>();
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const m = JSON.parse(line) as DocumentMeta;
        if (/^[0-9a-f]{64}$/.test(m.sha256)) seen.set(`${m.sha256}\u0000${m.name}`, m);
      } catch {
        /* a torn last line after a crash: skip it */
      }
    }
    return [...seen.values()];
  }

  /** A document linked to this flag, with a stream of its bytes; undefined when not linked or missing. */
  open(flagId: string, sha256: string): { meta: DocumentMeta; stream: Readable } | undefined {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    const meta = this.list(flagId).find((m) => m.sha256 === sha256);
    if (!meta) return undefined;
    const p = this.blobPath(sha256);
    if (!existsSync(p) || statSync(p).size !== meta.bytes) return undefined;
    return { meta, stream: createReadStream(p) };
  }
}

/** RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name. */
export function attachmentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_') || 'document';
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
