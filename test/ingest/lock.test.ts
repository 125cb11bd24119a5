import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { runCli } from '../helpers/cli.ts';
import { holdDatabase, type Holder } from '../helpers/hold-db.ts';
import { PAYMENT_HEADER, freshStore, payment, toCsv } from './helpers.ts';

describe('database locked by another process', () => {
  let holder: Holder | undefined;
  afterEach(async () => {
    await holder?.stop();
  });

  it('names the PID, says what to do, exits 1 and changes nothing', async () => {
    const { store, dir, dbPath } = await freshStore();
    await store.close();
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, [payment('L1'), payment('L2')]));
    const fileHash = createHash('sha256').update(readFileSync(file)).digest('hex');

    holder = await holdDatabase(dbPath);
    const res = await runCli(['--db', dbPath, 'ingest', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`PID ${holder.pid}`);
    expect(res.stderr).toMatch(/in use by another process/);
    expect(res.stderr).toMatch(/stop that process|--api/);
    expect(res.stdout).toBe('');

    await holder.stop();
    holder = undefined;
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(fileHash);
    const s = await openStore(dbPath);
    try {
      expect(await s.one('SELECT count(*) AS n FROM fiscus.batches')).toEqual({ n: '0' });
      expect(await s.one('SELECT count(*) AS n FROM treasury.payments')).toEqual({ n: '0' });
    } finally {
      await s.close();
    }
  });
});
