/**
 * ingest/MAPPING.md runs as written: every `npx fiscus …` line of its sh
 * blocks, in order, against a fresh database, with the figures it quotes;
 * its YAML blocks are the committed profiles; the fixtures script re-makes
 * the committed fixtures.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { buildFixtures } from '../../fixtures/mappings/build-fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const GUIDE = readFileSync(join(ROOT, 'ingest/MAPPING.md'), 'utf8');

/** `a "b c" d` → ['a', 'b c', 'd'] (the quoting the guide uses). */
function shellWords(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function blocks(lang: string): string[] {
  return [...GUIDE.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('ingest/MAPPING.md', () => {
  it('runs every documented command as written, with the figures it quotes', async () => {
    const commands = blocks('sh').flatMap((b) => b.split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l.startsWith('npx fiscus '));
    expect(commands.length).toBeGreaterThanOrEqual(7);
    const dir = tempDir();
    const db = join(dir, 'guide.duckdb');
    const prev = process.cwd();
    process.chdir(ROOT);
    const outputs: { cmd: string; stdout: string; stderr: string }[] = [];
    try {
      for (const cmd of commands) {
        const args = shellWords(cmd).slice(2);
        const before = existsSync(db) ? sha(db) : undefined;
        const r = await runCli(['--db', db, ...args]);
        expect(r.code, `${cmd}\n${r.stderr}`).toBe(0);
        if (args.includes('--dry-run')) expect(sha(db), 'a dry run writes nothing').toBe(before);
        outputs.push({ cmd, ...r });
      }
    } finally {
      process.chdir(prev);
    }
    const dry = outputs.find((o) => o.cmd.includes('--dry-run'))!;
    expect(dry.stdout).toMatch(/encoding windows-1252/);
    expect(dry.stdout).toMatch(/header on row 3; 2 unnamed empty columns ignored; 2 blank rows skipped; 1 totals row skipped/);
    expect(dry.stdout).toMatch(/Café Nord Ltd/);
    const suggest = outputs.find((o) => o.cmd.includes('mapping suggest'))!;
    expect(suggest.stdout).toMatch(/^table: treasury\.payments$/m);
    expect(suggest.stdout).toMatch(/^encoding: windows-1252/m);
    expect(suggest.stdout).toMatch(/^header: 3/m);
    const query = outputs.find((o) => o.cmd.includes('fiscus query'))!;
    expect(query.stdout).toMatch(/160100000000\.00/);
    expect(query.stdout).toMatch(/23799999999\.00/);

    const store = await openStore(db, { readOnly: true });
    try {
      const batches = await store.all<{ source: string; status: string; encoding: string | null; control_sums: string }>(
        "SELECT source, status, encoding, CAST(control_sums AS VARCHAR) AS control_sums FROM fiscus.batches WHERE source LIKE 'fixtures/mappings/%' ORDER BY started_at",
      );
      expect(batches.map((b) => [b.source, b.status, JSON.parse(b.control_sums).count])).toEqual([
        ['fixtures/mappings/council-payments.csv', 'committed', '5'],
        ['fixtures/mappings/council-payments.xlsx', 'committed', '3'],
        ['fixtures/mappings/debt-panel.json', 'committed', '4'],
      ]);
      expect(JSON.parse(batches[0].control_sums).amount).toBe('1804.90');
      expect(batches[0].encoding).toBe('windows-1252');
      expect(JSON.parse(batches[1].control_sums).amount).toBe('16230.70');
      const csv = await store.all<{ fy: number; a: string; d: string; extra: string }>(
        `SELECT fiscal_year AS fy, CAST(amount AS VARCHAR) AS a, CAST(pay_date AS VARCHAR) AS d, CAST(extra AS VARCHAR) AS extra
         FROM treasury.payments WHERE _batch_id = (SELECT batch_id FROM fiscus.batches WHERE source = 'fixtures/mappings/council-payments.csv') ORDER BY d, a`,
      );
      expect(csv.map((x) => [x.fy, x.d, x.a])).toEqual([
        [2016, '2017-03-31', '600.00'],
        [2017, '2017-04-05', '1250.00'],
        [2017, '2017-04-05', '129.61'],
        [2017, '2017-04-06', '-129.61'],
        [2017, '2017-04-07', '-45.10'],
      ]);
      expect(csv.filter((x) => x.extra.includes('T1003'))).toHaveLength(2);
      const fc = await store.one("SELECT fiscal_capacity FROM debt.positions WHERE region_code = '370811' AND fiscal_year = 2023");
      expect(fc).toEqual({ fiscal_capacity: null });
      // Every code the examples load is in the sample's reference tables.
      const warned = await store.all("SELECT source FROM fiscus.batches WHERE message LIKE '%unknown to ref.%'");
      expect(warned).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('shows the committed profiles, and the fixtures script re-makes the committed fixtures', async () => {
    const yamls = blocks('yaml');
    for (const f of ['council-payments.yaml', 'debt-panel.yaml']) {
      const text = readFileSync(join(ROOT, 'fixtures/mappings', f), 'utf8');
      expect(yamls.some((y) => text.includes(y)), `${f} is shown in MAPPING.md as committed`).toBe(true);
    }
    const dir = tempDir();
    await buildFixtures(dir);
    for (const f of ['council-payments.csv', 'debt-panel.json']) {
      expect(readFileSync(join(dir, f)), f).toEqual(readFileSync(join(ROOT, 'fixtures/mappings', f)));
    }
    const cells = async (p: string) => {
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(p);
      return wb.worksheets.map((ws) => ({ name: ws.name, rows: ws.getSheetValues().map((r) => JSON.stringify(r)) }));
    };
    expect(await cells(join(dir, 'council-payments.xlsx'))).toEqual(await cells(join(ROOT, 'fixtures/mappings/council-payments.xlsx')));
  });
});
