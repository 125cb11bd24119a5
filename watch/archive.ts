/**
 * Where a file goes once it has been read: `DIR/.fiscus-done/` when its batch committed or
 * was a re-send (noop), `DIR/.fiscus-failed/` with a `<name>.reason.txt` beside it when the
 * batch failed or was rolled back. The drop folder then holds only what is still to come,
 * and a clerk sees at a glance what was refused and why.
 *
 * A file keeps its path below DIR (`treasury/payments.csv` → `.fiscus-done/treasury/payments.csv`);
 * a name already taken there gets the time it was moved (`payments.20261202T190312Z-1a2b.csv`).
 * The move is a rename inside DIR. If it fails (a read-only drop folder, a sub-folder on
 * another device), the file stays where it is and the watcher remembers its signature, so
 * it is not read again unless it changes; a restart reads it again, which is harmless:
 * the same content is the same batch (status noop).
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, readdir, realpath, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import type { BatchReport } from '../ingest/types.ts';

export const DONE_DIR = '.fiscus-done';
export const FAILED_DIR = '.fiscus-failed';

export type Disposition = 'done' | 'failed';

export function dispositionOf(report: BatchReport): Disposition {
  return report.status === 'committed' || report.status === 'noop' ? 'done' : 'failed';
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** A free name for `rel` under `root`. */
async function freeName(root: string, rel: string, now: Date): Promise<string> {
  const first = join(root, rel);
  if (!(await lstat(first).catch(() => undefined))) return first;
  const ext = extname(rel);
  const base = rel.slice(0, rel.length - ext.length);
  return join(root, `${base}.${stamp(now)}-${randomBytes(2).toString('hex')}${ext}`);
}

/** The reason file's text: what a clerk needs to fix the file and send it again. */
export function reasonText(rel: string, report: BatchReport): string {
  const lines = [
    `file: ${rel}`,
    `status: ${report.status}`,
    `table: ${report.table || '(unknown)'}`,
    `batch: ${report.batch_id}`,
    `rows: ${report.rows_read} read, ${report.accepted} accepted, ${report.rejected} rejected`,
    `reason: ${report.message}`,
  ];
  if (report.rejected > 0) lines.push(`rejected rows (line, column, value, reason): fiscus quarantine --batch ${report.batch_id}`);
  lines.push('Fix the file and copy it into the folder again. / 修正文件后重新放入监视目录。');
  return `${lines.join('\n')}\n`;
}

/** Move `rel` (relative to `dir`) to its disposition folder; returns the new path relative to `dir`. */
export async function archiveFile(dir: string, rel: string, report: BatchReport, now = new Date()): Promise<string> {
  const kind = dispositionOf(report);
  const root = join(dir, kind === 'done' ? DONE_DIR : FAILED_DIR);
  const dest = await freeName(root, rel, now);
  await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
  // A sub-folder someone replaced with a link must not carry the file out of DIR.
  const realParent = await realpath(dirname(dest));
  if (relative(await realpath(root), realParent) !== dirname(relative(root, dest)).replace(/^\.$/, '')) {
    throw new Error(`${dirname(dest)} is not a plain folder inside ${root} (a link?): the file stays where it is`);
  }
  // link + unlink, not rename: never replaces a file that appeared under the new name meanwhile.
  try {
    await link(join(dir, rel), dest);
    await unlink(join(dir, rel));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!['EPERM', 'EACCES', 'EXDEV', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(code)) throw err;
    await rename(join(dir, rel), dest);
  }
  if (kind === 'failed') await writeFile(`${dest}.reason.txt`, reasonText(rel, report), { mode: 0o600 });
  return dest.slice(dir.length + 1);
}

/**
 * Remove the files of `DIR/.fiscus-done/` archived more than `days` days before `now`, and the
 * folders that leaves empty; returns their paths relative to DIR. Off unless a deployment asks
 * for it (`fiscus watch --prune-done DAYS`): the files are the government's own exports as
 * received, and once gone the database keeps their rows, batch reports and SHA-256 only.
 * A file's archive time is its ctime (the link into `.fiscus-done` changes it; its mtime is
 * the sender's). `.fiscus-failed/` is never pruned: each file there waits for a clerk.
 * Links and anything but regular files and folders are left alone (lstat: nothing is followed).
 */
export async function pruneDone(dir: string, days: number, now = new Date()): Promise<string[]> {
  const root = join(dir, DONE_DIR);
  const cutoff = now.getTime() - days * 86_400_000;
  const removed: string[] = [];
  const walk = async (d: string): Promise<boolean> => {
    const names = await readdir(d).catch(() => undefined);
    if (!names) return false;
    let left = names.length;
    for (const name of names) {
      const p = join(d, name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) {
        left--;
        continue;
      }
      if (st.isDirectory()) {
        if (await walk(p)) left--;
      } else if (st.isFile() && st.ctimeMs < cutoff) {
        await unlink(p);
        removed.push(relative(dir, p));
        left--;
      }
    }
    // Empty now (and not the root): remove it too. A folder something was added to meanwhile stays.
    if (left === 0 && d !== root) return rmdir(d).then(() => true, () => false);
    return false;
  };
  await walk(root);
  return removed.sort();
}
