/**
 * The snapshot the ingest reads (watch/stage.ts), on real files: later writes to the name in
 * DIR do not reach it, a file that no longer matches its settled signature is "changed", a
 * name swapped for a link is refused, a schema folder swapped for a link to elsewhere is
 * "outside", a protected inode is refused under any name, and large files are hard links.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signatureOf } from '../../watch/scan.ts';
import { stageFile } from '../../watch/stage.ts';

let root: string;
let dir: string;
let stageDir: string;

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'fiscus-stage-')));
  dir = join(root, 'in');
  stageDir = join(dir, '.fiscus-staging');
  mkdirSync(stageDir, { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const sig = (p: string) => signatureOf(lstatSync(p));

describe('stageFile', () => {
  it('copies a settled file; rewriting the original afterwards does not change the snapshot', async () => {
    const p = join(dir, 'treasury.payments.csv');
    writeFileSync(p, 'version 1\n');
    const s = await stageFile(p, { realDir: dir, stageDir, expect: sig(p) });
    expect(s.kind).toBe('staged');
    if (s.kind !== 'staged') return;
    expect(s.path.endsWith('.csv')).toBe(true);
    writeFileSync(p, 'version 2, longer\n'); // in place, same inode
    expect(readFileSync(s.path, 'utf8')).toBe('version 1\n');
    expect(statSync(s.path).ino).not.toBe(statSync(p).ino);
    await s.release();
  });

  it('says "changed" when the name no longer holds the settled bytes', async () => {
    const p = join(dir, 'treasury.payments.csv');
    writeFileSync(p, 'a\n');
    const settled = sig(p);
    writeFileSync(p, 'ab\n');
    expect((await stageFile(p, { realDir: dir, stageDir, expect: settled })).kind).toBe('changed');
    // Replaced by another file under the same name (a new inode).
    writeFileSync(join(dir, 'other'), 'ab\n');
    const before = sig(p);
    renameSync(join(dir, 'other'), p);
    expect((await stageFile(p, { realDir: dir, stageDir, expect: before })).kind).toBe('changed');
  });

  it('refuses a name swapped for a link after it settled, and a schema folder swapped for a link out of DIR', async () => {
    const p = join(dir, 'treasury.payments.csv');
    writeFileSync(p, 'a\n');
    const settled = sig(p);
    rmSync(p);
    writeFileSync(join(root, 'secret.csv'), 'a\n');
    symlinkSync(join(root, 'secret.csv'), p);
    expect(await stageFile(p, { realDir: dir, stageDir, expect: settled })).toEqual({ kind: 'refused', reason: 'symlink' });
    mkdirSync(join(root, 'elsewhere'));
    writeFileSync(join(root, 'elsewhere', 'payments.csv'), 'a\n');
    symlinkSync(join(root, 'elsewhere'), join(dir, 'treasury'));
    const q = join(dir, 'treasury', 'payments.csv');
    expect(await stageFile(q, { realDir: dir, stageDir, expect: sig(q) })).toEqual({ kind: 'refused', reason: 'outside' });
  });

  it('refuses a hard link to a protected file, and hard-links large files instead of copying', async () => {
    const key = join(root, 'db.log-key');
    writeFileSync(key, '{"secret": true}\n');
    const p = join(dir, 'treasury.payments_key.csv');
    linkSync(key, p);
    expect(await stageFile(p, { realDir: dir, stageDir, expect: sig(p), protect: [key] })).toEqual({ kind: 'refused', reason: 'protected' });
    // Any other file outside DIR, hard-linked in: its real path is inside DIR, its bytes are not the clerk's.
    const other = join(root, 'another-deployment.csv');
    writeFileSync(other, 'payment_id,amount\nP1,1.00\n');
    const q = join(dir, 'treasury.payments_other.csv');
    linkSync(other, q);
    expect(await stageFile(q, { realDir: dir, stageDir, expect: sig(q), copyMaxBytes: 1 })).toEqual({ kind: 'refused', reason: 'hard_link' });
    expect(await stageFile(q, { realDir: dir, stageDir, expect: sig(q) })).toEqual({ kind: 'refused', reason: 'hard_link' });
    // The clerk's own copy of it is read.
    rmSync(q);
    writeFileSync(q, readFileSync(other));
    const copied = await stageFile(q, { realDir: dir, stageDir, expect: sig(q) });
    expect(copied.kind).toBe('staged');
    if (copied.kind === 'staged') await copied.release();
    const big = join(dir, 'treasury.payments.csv');
    writeFileSync(big, 'x'.repeat(2048));
    const s = await stageFile(big, { realDir: dir, stageDir, expect: sig(big), copyMaxBytes: 1024 });
    expect(s.kind).toBe('staged');
    if (s.kind === 'staged') {
      expect(statSync(s.path).ino).toBe(statSync(big).ino);
      await s.release();
    }
  });
});
