/**
 * Pin down the very file the watcher settled before anything reads it.
 *
 * Between "this entry is a regular, settled file" and the ingest opening it, anyone who
 * can write the folder could swap the name for a symbolic link (to /etc/passwd, to the
 * database or its log key), or keep writing into it. So the ingest never reads the name
 * in DIR: it reads a snapshot in the watcher's private folder (`DIR/.fiscus-staging`,
 * mode 0700).
 *
 * - Up to `copyMaxBytes` (default 256 MiB: every batch a clerk drops) the snapshot is a
 *   copy, read through a descriptor opened with O_NOFOLLOW (a link fails with ELOOP) and
 *   checked before and after the copy to be the settled inode with the settled size and
 *   mtime: a writer that rewrites the file in place during the copy makes it "changed"
 *   (settled again and re-read), and nothing it writes after the copy reaches the batch.
 * - Larger files are given a second name (a hard link; link(2) does not follow a symbolic
 *   link on Linux), which survives a writer renaming a new version over the name, but not
 *   one rewriting the same inode: the watcher compares the signature after the ingest and
 *   re-reads a file that changed (the ingest is idempotent, and a changed row is a
 *   correction). Where links are refused, the copy is used whatever the size.
 *
 * Either way the file's real path must lie inside DIR, it must be a regular file with no
 * other name (a hard link could be any file the watcher may read), and it must not be one
 * of the protected files (the database, its WAL, the log key, the
 * checkpoints): a hard link to the log key is a regular file inside DIR, and its bytes
 * would end up in the quarantine table.
 */
import { constants, createWriteStream, type Stats } from 'node:fs';
import { link, lstat, open, realpath, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { dirname, extname, join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sameSignature, signatureOf, type Signature } from './scan.ts';

export type RefuseReason = 'symlink' | 'not_regular' | 'outside' | 'protected' | 'hard_link';

export type Staged =
  | { kind: 'staged'; path: string; release: () => Promise<void> }
  /** The name is gone (moved or deleted after the scan). */
  | { kind: 'gone' }
  /** The name now holds something else than the settled file, or it changed while copied: settle it again. */
  | { kind: 'changed' }
  /** Never read. */
  | { kind: 'refused'; reason: RefuseReason };

export interface StageOptions {
  /** The watched folder's real path. */
  realDir: string;
  /** Where snapshots go (inside DIR, mode 0700). */
  stageDir: string;
  /** The settled signature the snapshot must match. */
  expect: Signature;
  /** Files never read, whatever name they have in DIR. */
  protect?: readonly string[];
  copyMaxBytes?: number;
}

export const DEFAULT_COPY_MAX_BYTES = 256 * 1024 * 1024;

const LINK_REFUSED = new Set(['EPERM', 'EACCES', 'EXDEV', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/** A staged name that keeps the extension (the ingest reads the format from it). */
function stagedName(stageDir: string, src: string): string {
  const ext = extname(src).replace(/[^.A-Za-z0-9]/g, '').slice(0, 10);
  return join(stageDir, `${Date.now()}-${randomBytes(6).toString('hex')}${ext}`);
}

/** Is `st` one of the protected files (same device and inode)? Missing ones protect nothing. */
async function isProtected(st: Stats, protect: readonly string[]): Promise<boolean> {
  for (const p of protect) {
    const ps = await stat(p).catch(() => undefined);
    if (ps && ps.ino === st.ino && ps.dev === st.dev) return true;
  }
  return false;
}

export async function stageFile(src: string, o: StageOptions): Promise<Staged> {
  // The folder the name is in must still be the one scanned: a sub-folder swapped for a link
  // would take link(2) and open(2) elsewhere (they follow links in the directory part).
  let parent: string;
  try {
    parent = await realpath(dirname(src));
  } catch {
    return { kind: 'gone' };
  }
  if (parent !== o.realDir && !parent.startsWith(`${o.realDir}${sep}`)) return { kind: 'refused', reason: 'outside' };
  const first = await lstat(src).catch(() => undefined);
  if (!first) return { kind: 'gone' };
  if (first.isSymbolicLink()) return { kind: 'refused', reason: 'symlink' };
  if (!first.isFile()) return { kind: 'refused', reason: 'not_regular' };
  if (await isProtected(first, o.protect ?? [])) return { kind: 'refused', reason: 'protected' };
  // A name with other names is a hard link: its real path is inside DIR whatever file it is, so
  // anyone who can write DIR could have the watcher read (and quarantine, row by row) a file
  // elsewhere that the watcher's user may read. A clerk's file has one name; copy, not link.
  if (first.nlink > 1) return { kind: 'refused', reason: 'hard_link' };
  if (!sameSignature(signatureOf(first), o.expect)) return { kind: 'changed' };
  const dst = stagedName(o.stageDir, src);
  const release = () => rm(dst, { force: true });
  if (first.size <= (o.copyMaxBytes ?? DEFAULT_COPY_MAX_BYTES)) return copyNoFollow(src, dst, o.expect, release);
  try {
    await link(src, dst);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') return { kind: 'gone' };
    if (!LINK_REFUSED.has(code)) throw err;
    return copyNoFollow(src, dst, o.expect, release);
  }
  const st = await lstat(dst);
  if (!st.isFile() || st.ino !== o.expect.ino || st.dev !== o.expect.dev) {
    await release();
    return st.isSymbolicLink() ? { kind: 'refused', reason: 'symlink' } : st.isFile() ? { kind: 'changed' } : { kind: 'refused', reason: 'not_regular' };
  }
  return { kind: 'staged', path: dst, release };
}

async function copyNoFollow(src: string, dst: string, expect: Signature, release: () => Promise<void>): Promise<Staged> {
  // O_NONBLOCK: a FIFO swapped in must not hang the open; O_NOFOLLOW: a link fails with ELOOP.
  let fh;
  try {
    fh = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'gone' };
    if (code === 'ELOOP') return { kind: 'refused', reason: 'symlink' };
    throw err;
  }
  try {
    const before = await fh.stat();
    if (!before.isFile()) return { kind: 'refused', reason: 'not_regular' };
    if (before.nlink > 1) return { kind: 'refused', reason: 'hard_link' };
    if (!sameSignature(signatureOf(before), expect)) return { kind: 'changed' };
    await pipeline(fh.createReadStream({ autoClose: false, start: 0 }), createWriteStream(dst, { flags: 'wx', mode: 0o600 }));
    // Written to during the copy: the snapshot may mix two versions; settle and copy again.
    const after = await fh.stat();
    if (!sameSignature(signatureOf(after), expect)) {
      await release();
      return { kind: 'changed' };
    }
    return { kind: 'staged', path: dst, release };
  } catch (err) {
    await release();
    throw err;
  } finally {
    await fh.close();
  }
}
