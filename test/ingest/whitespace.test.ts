/**
 * Leading and trailing whitespace around values (a tab that keeps Excel from eating leading
 * zeros, full-width and no-break spaces from Chinese office software, CR/LF inside quotes) is
 * trimmed the same way on both load paths: the one-pass INSERT of a clean file and the full
 * path a single bad row sends the file down. A control character that is not whitespace stays.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestPath } from '../../ingest/index.ts';
import { PAYMENT_HEADER, freshStore, payment, tempDir, toCsv, type Row } from './helpers.ts';

const DUMP = `SELECT payment_id, agency_code, payee_name, purpose, project_code, amount::VARCHAR AS amount
  FROM treasury.payments ORDER BY payment_id`;

const WHITESPACE = { space: ' ', tab: '\t', cr: '\r', lf: '\n', ideographic: '\u3000', nbsp: '\u00a0' };

/** One row per whitespace character, padded before, after and on both sides of three text columns and the amount. */
function paddedRows(): { padded: Row[]; clean: Row[] } {
  const padded: Row[] = [];
  const clean: Row[] = [];
  let i = 0;
  for (const ws of Object.values(WHITESPACE)) {
    for (const [before, after] of [[ws, ''], ['', ws], [ws + ws, ws]] as const) {
      const id = `W${String(++i).padStart(3, '0')}`;
      const base = { agency_code: '0101', payee_name: `单位${i}`, purpose: `摘要 ${i}`, amount: `${i}.50` };
      clean.push(payment(id, base));
      padded.push(
        payment(id, {
          agency_code: before + base.agency_code + after,
          payee_name: before + base.payee_name + after,
          purpose: before + base.purpose + after,
          amount: before + base.amount + after,
          project_code: before + after,
        }),
      );
    }
  }
  // Not whitespace: a leading control character and an inner space are part of the value.
  clean.push(payment('W900', { payee_name: '\u0001单位', purpose: '两 个 空格' }));
  padded.push(payment('W900', { payee_name: '\u0001单位', purpose: '两 个 空格' }));
  return { padded, clean };
}

async function load(file: string) {
  const { store } = await freshStore();
  try {
    const [r] = await ingestPath(store, file, { table: 'treasury.payments' });
    return { r: r!, dump: await store.all(DUMP) };
  } finally {
    await store.close();
  }
}

describe('whitespace around values', () => {
  const dir = tempDir();
  const { padded, clean } = paddedRows();
  const write = (name: string, rows: Row[]) => {
    const file = join(dir, name);
    writeFileSync(file, toCsv(PAYMENT_HEADER, rows));
    return file;
  };

  it('is trimmed in the one-pass load and in the full path alike, and nothing else is', async () => {
    const expected = await load(write('clean.csv', clean));
    expect(expected.r).toMatchObject({ status: 'committed', accepted: clean.length });
    expect(expected.dump.find((r) => r.payment_id === 'W900')).toMatchObject({ payee_name: '\u0001单位', purpose: '两 个 空格' });

    const onePass = await load(write('padded.csv', padded));
    expect(onePass.r).toMatchObject({ status: 'committed', accepted: padded.length, rejected: 0 });
    expect(onePass.dump).toEqual(expected.dump);

    // One row without a payee sends the file down the full path; the padded rows land the same.
    const full = await load(write('padded-and-bad.csv', [...padded, payment('W999', { payee_name: ' \u3000\t' })]));
    expect(full.r).toMatchObject({ status: 'committed', accepted: padded.length, rejected: 1 });
    expect(full.dump).toEqual(expected.dump);
  });
});
