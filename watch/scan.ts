/**
 * One look at a watched folder: which entries are feed files (with the signature that
 * tells whether a file is still being written), which are ignored and why, and which
 * sub-folders exist (each gets its own fs.watch).
 *
 * The rules are `fiscus ingest DIR`'s (ingest/discover.ts isFolderFeed), plus what a
 * drop folder needs: names that writers use while a file is not finished (hidden,
 * `*.tmp`, `*.part`, Office's `~$…` lock files, browser downloads) are skipped silently,
 * and nothing is followed through a symbolic link: a link in the folder could point
 * anywhere the server can read (the key file, /etc, another agency's folder).
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isFolderFeed } from '../ingest/discover.ts';

/** What changes while a file is written or replaced: size, mtime and the inode. */
export interface Signature {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

export type IgnoreReason = 'symlink' | 'not_regular' | 'not_feed';

export type Entry =
  | { kind: 'feed'; path: string; rel: string; sig: Signature }
  | { kind: 'ignored'; path: string; rel: string; reason: IgnoreReason };

export interface ScanResult {
  entries: Entry[];
  /** Every folder visited (the root first), for fs.watch. */
  dirs: string[];
}

/**
 * Sub-folder levels looked into: files directly in DIR, and the folder-feed layout of
 * `fiscus ingest DIR` (`treasury/payments_2026-12.csv`: the folder names the schema).
 */
export const MAX_DEPTH = 1;

/**
 * Names a writer uses before a file is complete, or that are not meant for us: skipped without a word.
 * Hidden names also cover the watcher's own `.fiscus-staging`, `.fiscus-done`, `.fiscus-failed`
 * folders and editors' `.~lock.*#`.
 */
export function isTransientName(name: string): boolean {
  return (
    name.startsWith('.') ||
    name.startsWith('~$') ||
    name.endsWith('~') ||
    /\.(tmp|temp|part|partial|crdownload|download|swp|filepart)$/i.test(name)
  );
}

export function signatureOf(st: Stats): Signature {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
}

export function sameSignature(a: Signature, b: Signature): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** Walk `root` (never through a link), classifying every entry. Throws only when `root` itself cannot be read. */
export async function scanFolder(root: string): Promise<ScanResult> {
  const entries: Entry[] = [];
  const dirs: string[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    let list: Dirent[];
    try {
      list = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (dir === root) throw err;
      return; // a sub-folder removed or unreadable meanwhile: the next scan sees what is left
    }
    dirs.push(dir);
    for (const d of list) {
      if (isTransientName(d.name)) continue;
      const path = join(dir, d.name);
      const rel = relative(root, path);
      if (d.isSymbolicLink()) entries.push({ kind: 'ignored', path, rel, reason: 'symlink' });
      else if (d.isDirectory()) {
        if (depth < MAX_DEPTH) await visit(path, depth + 1);
      } else if (!d.isFile()) entries.push({ kind: 'ignored', path, rel, reason: 'not_regular' });
      else if (!isFolderFeed(path)) entries.push({ kind: 'ignored', path, rel, reason: 'not_feed' });
      else {
        // lstat, not stat: the entry may have been swapped for a link since readdir.
        let st: Stats;
        try {
          st = await lstat(path);
        } catch {
          continue; // gone again
        }
        if (st.isSymbolicLink()) entries.push({ kind: 'ignored', path, rel, reason: 'symlink' });
        else if (!st.isFile()) entries.push({ kind: 'ignored', path, rel, reason: 'not_regular' });
        else entries.push({ kind: 'feed', path, rel, sig: signatureOf(st) });
      }
    }
  };
  await visit(root, 0);
  return { entries, dirs };
}
