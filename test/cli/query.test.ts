import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { runCli } from '../helpers/cli.ts';

const db = join(mkdtempSync(join(tmpdir(), 'fiscus-query-')), 'q.duckdb');

beforeAll(async () => {
  const store = await openStore(db);
  await store.run(`INSERT INTO ref.agencies VALUES ('A0101', '市教育局', 'A0101', '370811', '{"联系人":"李"}', 'b1', 'h', now())`);
  await store.run(`CREATE TABLE main.money_probe AS SELECT 12345678.91::DECIMAL(18,2) AS amount, 9007199254740993::BIGINT AS big`);
  await store.close();
});

describe('fiscus query', () => {
  it('prints money and big integers as exact strings in JSON', async () => {
    const res = await runCli(['--db', db, 'query', 'SELECT amount, big FROM main.money_probe', '--format', 'json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([{ amount: '12345678.91', big: '9007199254740993' }]);
  });

  it('keeps codes as strings and supports csv, jsonl and bound parameters', async () => {
    const csv = await runCli(['--db', db, 'query', 'SELECT agency_code, agency_name FROM ref.agencies WHERE region_code = $r', '--param', 'r=370811', '--format', 'csv']);
    expect(csv.stdout).toBe('agency_code,agency_name\nA0101,市教育局\n');
    const jsonl = await runCli(['--db', db, 'query', 'SELECT region_code FROM ref.agencies', '--format', 'jsonl']);
    expect(jsonl.stdout).toBe('{"region_code":"370811"}\n');
  });

  it('refuses anything but one SELECT, and bad usage exits 2', async () => {
    const del = await runCli(['--db', db, 'query', 'DELETE FROM ref.agencies']);
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(/only SELECT/);
    const two = await runCli(['--db', db, 'query', 'SELECT 1; DROP TABLE ref.agencies']);
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(/exactly one statement/);
    const fmt = await runCli(['--db', db, 'query', 'SELECT 1', '--format', 'xml']);
    expect(fmt.code).toBe(2);
    const missing = await runCli(['--db', db, 'query']);
    expect(missing.code).toBe(2);
    const still = await runCli(['--db', db, 'query', 'SELECT count(*) AS n FROM ref.agencies', '--format', 'csv']);
    expect(still.stdout).toBe('n\n1\n');
  });
});
