/**
 * Pin down the very file the watcher checked before anything reads it.
 *
 * Between "this entry is a regular, settled file" and the ingest opening it by name,
 * anyone who can write the folder could swap the name for a symbolic link to a file
 * outside it. So the file is first given a second name in the watcher's private
 * folder (`DIR/.fiscus-watch/stage`, mode 0700): a hard link (link(2) does not follow
 * a symbolic link on Linux), or where links are refused (another owner's file under
 * fs.protected_hardlinks, file systems without links) a copy read through a descriptor
 * opened with O_NOFOLLOW. Either way the staged name is checked to be the same inode
 * that was settled, and only the staged name is read.
 */
import { constants, createWriteStream } from 'node:fs';
import { link, lstat, open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Signature } from './scan.ts';

export type Staged =
  | { kind: 'staged'; path: string; release: () => Promise<void> }
  /** The name is gone (moved or deleted after the scan). */
  | { kind: 'gone' }
  /** The name now holds something else than the settled file: settle it again. */
  | { kind: 'changed' }
  /** The name is (now) a link or not a regular file: never read. */
  | { kind: 'refused'; reason: 'symlink' | 'not_regular' };

const LINK_REFUSED = new Set(['EPERM', 'EACCES', 'EXDEV', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/** A staged name that keeps the extension (the ingest reads the format from it). */
function stagedName(stageDir: string, src: string): string {
  const ext = extname(src).replace(/[^.A-Za-z0-9]/g, '').slice(0, 10);
  return join(stageDir, `${Date.now()}-${randomBytes(6).toString('hex')}${ext}`);
}

export async function stageFile(src: string, stageDir: string, expect: Signature): Promise<Staged> {
  const dst = stagedName(stageDir, src);
  const release = () => rm(dst, { force: true });
  try {
    await link(src, dst);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') return { kind: 'gone' };
    if (!LINK_REFUSED.has(code)) throw err;
    return copyNoFollow(src, dst, expect, release);
  }
  const st = await lstat(dst);
  if (st.isSymbolicLink()) {
    await release();
    return { kind: 'refused', reason: 'symlink' };
  }
  if (!st.isFile()) {
    await release();
    return { kind: 'refused', reason: 'not_regular' };
  }
  if (st.ino !== expect.ino || st.dev !== expect.dev) {
    await release();
    return { kind: 'changed' };
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
    const st = await fh.stat();
    if (!st.isFile()) return { kind: 'refused', reason: 'not_regular' };
    if (st.ino !== expect.ino || st.dev !== expect.dev) return { kind: 'changed' };
    await pipeline(fh.createReadStream({ autoClose: false }), createWriteStream(dst, { flags: 'wx', mode: 0o600 }));
    return { kind: 'staged', path: dst, release };
  } catch (err) {
    await release();
    throw err;
  } finally {
    await fh.close();
  }
}
