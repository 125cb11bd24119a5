/**
 * Issue 15, on the demo database through the real CLI: output to a closed pipe,
 * one date validator for every option, unknown filter values / rule ids / config
 * keys as usage errors with a did-you-mean, compact tables, the calendar warning,
 * --version, short flag ids and amounts in the tables.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { displayWidth } from '../../cli/table.ts';
import { openStore } from '../../engine/db.ts';
import { money } from '../../engine/numbers.ts';
import { buildQuarterlyReport } from '../../report/quarterly/index.ts';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'cli', 'bin.js');
const dir = mkdtempSync(join(tmpdir(), 'fiscus-i15-'));
const db = join(dir, 'fiscus.duckdb');
const AS_OF = '2026-01-31'; // fixtures/sample/manifest.json

beforeAll(async () => {
  const demo = await runCli(['--db', db, 'demo', '--out', join(dir, 'out'), '--no-pdf']);
  expect(demo.code, demo.stderr).toBe(0);
}, 180_000);

const cli = (...args: string[]) => runCli(['--db', db, ...args]);

/** Run the real executable with stdout piped; close the read end after the first line, as `| head -1` does. */
function firstLineThenClose(args: string[]): Promise<{ code: number | null; signal: string | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--db', db, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let first = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!first && out.includes('\n')) {
        first = out.slice(0, out.indexOf('\n'));
        child.stdout.destroy();
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, first, stderr }));
  });
}

describe('output to a closed pipe', () => {
  it.each([
    [['flags']],
    [['track', 'list']],
    [['track', 'stats']],
    [['query', 'SELECT * FROM range(300000) t(i)', '--format', 'csv']],
    [['flags', '--format', 'jsonl']],
  ])('%j ends quietly with exit 0', async (args) => {
    const r = await firstLineThenClose(args);
    expect(r.first.length).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|Error/);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  });
});

describe('--version', () => {
  it('prints the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });
});

describe('one date validator for every option', () => {
  it.each([
    [['rules', 'run', '--as-of', '2026-13-45']],
    [['rules', 'run', '--as-of', '2026-02-30']],
    [['rules', 'explain', 'treasury.split_payment', '--as-of', '2026-1-5']],
    [['rules', 'backtest', 'treasury.split_payment', '--from', '2026-02-30', '--to', '2026-03-31']],
    [['track', 'list', '--as-of', '2026-13-01']],
    [['track', 'stats', '--as-of', '2026-02-30']],
    [['track', 'list', '--as-of', '2026-02-30', '--overdue']],
    [['track', 'show', 'x', '--as-of', '2026-04-31']],
    [['track', 'scan', '--as-of', '20260101']],
    [['track', 'assign', 'x', '--due', '2026-02-29']],
    [['report', 'quarterly', '--year', '2025', '--quarter', '4', '--as-of', '2025-12-32', '--format', 'md', '--out', dir]],
  ])('%j is a usage error naming the option', async (args) => {
    const r = await cli(...args);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const option = args.find((a) => a.startsWith('--') && !['--overdue', '--format', '--out', '--year', '--quarter', '--to'].includes(a))!;
    expect(r.stderr).toContain(option);
    expect(r.stderr).not.toMatch(/Invalid time value/);
    expect(r.stdout).toBe('');
  });

  it('a real date still works', async () => {
    const r = await cli('track', 'list', '--as-of', '2026-02-28', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).length).toBeGreaterThan(0);
  });

  it('--timetable dates are checked by the same parser', async () => {
    const r = await cli('track', 'start-rectification', 'x', '--category', 'ongoing', '--timetable', '2026-02-30:完成制度修订');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timetable wants DATE:TASK/);
  });
});

describe('unknown filter values, rule ids and config keys', () => {
  it.each([
    [['flags', '--status', 'asigned'], /--status: unknown value "asigned".*did you mean "assigned"/],
    [['flags', '--status', 'assigned,rectifyng'], /did you mean "rectifying"/],
    [['flags', '--severity', 'hgih'], /--severity: unknown value "hgih".*did you mean "high"/],
    [['flags', '--rule', 'treasury.split_paymnt'], /--rule: unknown rule "treasury.split_paymnt"; did you mean "treasury.split_payment"/],
    [['flags', '--rule', 'treasury.nosuch'], /--rule: unknown rule "treasury.nosuch"/],
    [['flags', '--agency', 'A01O3'], /--agency: unknown agency "A01O3"; did you mean "A01[01]3"/],
    [['track', 'list', '--status', 'asigned'], /did you mean "assigned"/],
    [['track', 'list', '--severity', 'hihg'], /did you mean "high"/],
    [['track', 'list', '--rule', 'asset.idel'], /did you mean "asset.idle"/],
    [['track', 'list', '--region', '37O800'], /--region: unknown region "37O800"/],
    [['rules', 'explain', 'treasury.split_paymnt'], /unknown rule treasury.split_paymnt; did you mean "treasury.split_payment"/],
    [['rules', 'show', 'split_payment'], /did you mean treasury.split_payment/],
  ])('%j → exit 2 with a did-you-mean', async (args, message) => {
    const r = await cli(...(args as string[]));
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('flags takes comma lists like track list, and both select the same flags', async () => {
    const a = await cli('flags', '--status', 'assigned,rectifying,verified', '--format', 'json');
    const b = await cli('flags', '--status', 'assigned', '--status', 'rectifying', 'verified', '--format', 'json');
    const t = await cli('track', 'list', '--status', 'assigned,rectifying,verified', '--format', 'json');
    for (const r of [a, b, t]) expect(r.code, r.stderr).toBe(0);
    const ids = (s: string) => (JSON.parse(s) as { flag_id: string; status: string }[]).map((f) => f.flag_id).sort();
    const flags = JSON.parse(a.stdout) as { status: string }[];
    expect(flags.length).toBeGreaterThan(1);
    for (const f of flags) expect(['assigned', 'rectifying', 'verified']).toContain(f.status);
    expect(ids(b.stdout)).toEqual(ids(a.stdout));
    expect(ids(t.stdout)).toEqual(ids(a.stdout));
    const sev = await cli('flags', '--severity', 'high,medium', '--format', 'json');
    expect(sev.code).toBe(0);
    expect(new Set((JSON.parse(sev.stdout) as { severity: string }[]).map((f) => f.severity))).toEqual(new Set(['high', 'medium']));
  });

  it('a known rule with no flags is not an error', async () => {
    const r = await cli('flags', '--rule', 'treasury.late_budget_approval', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
  });

  it('a misspelled rule id in the config file is an error (file, line, did-you-mean), not a warning', async () => {
    const config = join(dir, 'typo-rule.yaml');
    writeFileSync(config, 'rules:\n  treasury.individual_large: { severity: high }\n  treasury.split_paymnt: { enabled: false }\nallow:\n  - { rule: asset.idel, reason: test, until: 2030-01-01 }\n');
    for (const args of [['rules', 'run', '--as-of', AS_OF, '--config', config], ['rules', 'list', '--config', config]]) {
      const r = await cli(...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${config}:3: rules.treasury.split_paymnt: unknown rule "treasury.split_paymnt"; did you mean "treasury.split_payment"?`);
      expect(r.stderr).toContain(`${config}:5: allow[0].rule: unknown rule "asset.idel"; did you mean "asset.idle"?`);
      expect(r.stdout).toBe('');
    }
  });

  it('an unknown config key is an error with a did-you-mean', async () => {
    const config = join(dir, 'typo-key.yaml');
    writeFileSync(config, 'rules:\n  treasury.individual_large: { sevrity: high }\nrun:\n  warn_flag_share: 5\n');
    const r = await cli('rules', 'list', '--config', config);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/typo-key\.yaml:2: rules\.treasury\.individual_large: unknown key "sevrity"; did you mean "severity"\?/);
    expect(r.stderr).toMatch(/run: unknown key "warn_flag_share"; did you mean "warn_flag_share_pct"\?/);
  });
});

describe('compact tables', () => {
  const saved = process.env.COLUMNS;
  afterEach(() => {
    if (saved === undefined) delete process.env.COLUMNS;
    else process.env.COLUMNS = saved;
  });

  it('flags and track list fit the width, one line a row, titles cut with …; csv keeps the full text', async () => {
    process.env.COLUMNS = '140';
    for (const args of [['flags'], ['track', 'list']]) {
      const r = await cli(...args);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      for (const l of lines) expect(displayWidth(l), l).toBeLessThanOrEqual(140);
      // Top border, header, one rule under the header, the rows, bottom border: no rule between rows.
      expect(lines.filter((l) => l.startsWith('├')).length).toBe(1);
      expect(lines.length).toBe(4 + JSON.parse((await cli(...args, '--format', 'json')).stdout).length);
      expect(r.stdout).toContain('…');
      const csv = await cli(...args, '--format', 'csv');
      expect(csv.stdout).not.toContain('…');
    }
  });

  it('a wide terminal shows whole titles', async () => {
    process.env.COLUMNS = '400';
    const r = await cli('flags', '--severity', 'high');
    const json = JSON.parse((await cli('flags', '--severity', 'high', '--format', 'json')).stdout) as { title: string }[];
    for (const f of json) expect(r.stdout).toContain(f.title);
  });

  it('track list comes by deadline, then severity, then first seen — not by flag id', async () => {
    const r = await cli('track', 'list', '--format', 'json');
    const flags = JSON.parse(r.stdout) as { flag_id: string; due_date: string | null; severity: string; first_seen_at: string }[];
    const rank = { high: 0, medium: 1, low: 2 } as Record<string, number>;
    const key = (f: (typeof flags)[number]) => [f.due_date ?? '9999-99-99', rank[f.severity], f.first_seen_at, f.flag_id].join('|');
    expect(flags.map(key)).toEqual([...flags.map(key)].sort());
    expect(flags.map((f) => f.flag_id)).not.toEqual([...flags.map((f) => f.flag_id)].sort());
    expect(flags[0]!.due_date).not.toBeNull();
  });

  it('rules run shows no counts for skipped rules', async () => {
    await cli('rules', 'run', '--as-of', AS_OF);
    const r = await cli('rules', 'run', '--as-of', AS_OF);
    expect(r.code, r.stderr).toBe(0);
    const skipped = r.stdout.split('\n').filter((l) => l.startsWith('│') && l.includes('skipped'));
    expect(skipped.length).toBeGreaterThan(0);
    for (const l of skipped) {
      const cells = l.split('│').map((c) => c.trim());
      expect(cells.slice(3, 9), l).toEqual(['–', '–', '–', '–', '–', '–']);
    }
    expect(r.stdout.split('\n').filter((l) => l.startsWith('├')).length).toBe(1);
    expect(r.stderr).not.toMatch(/holiday schedule/);
  });
});

describe('the calendar warns about years without an official schedule', () => {
  it('in track list, track stats and track scan', async () => {
    for (const args of [['track', 'list', '--as-of', '2027-03-01'], ['track', 'stats', '--as-of', '2027-01-05'], ['track', 'list', '--as-of', '2026-06-30']]) {
      const r = await cli(...args, '--format', 'json');
      expect(r.code, r.stderr).toBe(0);
      if (args.includes('2026-06-30')) expect(r.stderr).not.toMatch(/holiday schedule/);
      else {
        expect(r.stderr).toMatch(/2027 年没有加载官方节假日安排/);
        expect(r.stderr).toMatch(/no official holiday schedule is loaded for 2027/);
        expect(r.stderr).toMatch(/fiscus ingest ref\.calendar\.csv/);
      }
    }
  });

  it('in the quarterly report, in the flags section', async () => {
    const store = await openStore(db);
    try {
      const old = await buildQuarterlyReport(store, { year: 2018, quarter: 4, lang: 'en', generatedAt: new Date('2026-12-01T00:00:00Z') });
      const note = old.sections.find((s) => s.id === 'flags')!.blocks[0];
      expect(note).toEqual({ kind: 'note', text: expect.stringContaining('no official holiday schedule is loaded for 2018') });
      const current = await buildQuarterlyReport(store, { year: 2025, quarter: 4, lang: 'zh', generatedAt: new Date('2026-12-01T00:00:00Z') });
      expect(JSON.stringify(current.sections)).not.toContain('没有加载官方节假日安排');
    } finally {
      await store.close();
    }
  });

  it('in rules backtest and rules run', async () => {
    const bt = await cli('rules', 'backtest', 'treasury.benford', '--from', '2027-01-01', '--to', '2027-02-28');
    expect(bt.code, bt.stderr).toBe(0);
    expect(bt.stderr).toMatch(/no official holiday schedule is loaded for 2027/);
    const run = await cli('rules', 'run', '--as-of', '2027-01-10', '--rule', 'treasury.benford');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/no official holiday schedule is loaded for 2027/);
  });
});

describe('short flag ids and amounts in the tables', () => {
  const saved = process.env.COLUMNS;
  afterEach(() => {
    if (saved === undefined) delete process.env.COLUMNS;
    else process.env.COLUMNS = saved;
  });
  /** The cells of a table's body lines. */
  const bodyRows = (table: string) =>
    table.trimEnd().split('\n').slice(3, -1).map((l) => l.split('│').slice(1, -1));

  it('flags and track list print a 10-character id and the amount grouped with 2 decimals, from the exact string', async () => {
    process.env.COLUMNS = '220';
    for (const args of [['flags'], ['track', 'list']]) {
      const table = await cli(...args);
      const json = JSON.parse((await cli(...args, '--format', 'json')).stdout) as { flag_id: string; amount: string | null }[];
      expect(table.code, table.stderr).toBe(0);
      const header = table.stdout.split('\n')[1]!.split('│').map((c) => c.trim());
      expect(header).toContain('id');
      expect(header).toContain('amount (元)');
      expect(header).not.toContain('flag_id');
      const amountAt = header.indexOf('amount (元)') - 1;
      const rows = bodyRows(table.stdout);
      expect(rows.length).toBe(json.length);
      expect(json.some((f) => f.amount !== null && Number(f.amount) >= 1_000_000)).toBe(true);
      rows.forEach((cells, i) => {
        const f = json[i]!;
        expect(cells[0]!.trim()).toBe(f.flag_id.slice(0, 10));
        const cell = cells[amountAt]!;
        if (f.amount === null) expect(cell.trim()).toBe('');
        else {
          // 1234567.8 → 1,234,567.80, set flush right so the digits line up.
          expect(cell.trim()).toBe(money(f.amount));
          expect(cell.trim()).toMatch(/^-?\d{1,3}(,\d{3})*\.\d\d$/);
          expect(cell.endsWith(`${money(f.amount)} `)).toBe(true);
        }
      });
      // The exact decimal string stays in csv.
      expect((await cli(...args, '--format', 'csv')).stdout).toContain(json.find((f) => f.amount !== null)!.amount!);
    }
  });

  it('track show and the track actions take the short id of the table, or any unique prefix of 6', async () => {
    const json = JSON.parse((await cli('flags', '--format', 'json')).stdout) as { flag_id: string }[];
    const unique6 = json.find((f) => json.filter((g) => g.flag_id.startsWith(f.flag_id.slice(0, 6))).length === 1)!;
    for (const given of [unique6.flag_id.slice(0, 10), unique6.flag_id.slice(0, 6), unique6.flag_id.slice(0, 8).toUpperCase(), unique6.flag_id]) {
      const r = await cli('track', 'show', given);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith(`${unique6.flag_id}  `)).toBe(true);
    }
    const list = JSON.parse((await cli('track', 'list', '--status', 'discovered', '--format', 'json')).stdout) as { flag_id: string }[];
    const target = list[0]!.flag_id;
    const r = await cli('track', 'confirm', target.slice(0, 10), '--note', 'short id', '--actor', 'test');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${target}\t`);
    expect(r.stdout).toContain('flag.confirmed');
  });

  it('an ambiguous prefix is a usage error listing the candidates; nothing is done', async () => {
    const [{ flag_id: id }] = JSON.parse((await cli('track', 'list', '--status', 'discovered', '--format', 'json')).stdout) as { flag_id: string }[];
    // A second flag sharing the first 8 characters (a real collision of the hash would look the same).
    const twin = `${id.slice(0, 8)}${id[8] === '0' ? '1' : '0'}${id.slice(9)}`;
    const store = await openStore(db);
    try {
      await store.run(`INSERT INTO fiscus.flags SELECT * REPLACE ($twin AS flag_id) FROM fiscus.flags WHERE flag_id = $id`, { twin, id });
    } finally {
      await store.close();
    }
    try {
      for (const args of [['track', 'show', id.slice(0, 8)], ['track', 'confirm', id.slice(0, 6), '--note', 'x'], ['track', 'dismiss', id.slice(0, 8), '--note', 'x']]) {
        const r = await cli(...args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`flag id "${args[2]}" is ambiguous: 2 flags start with it; give more characters`);
        expect(r.stderr).toContain(id);
        expect(r.stderr).toContain(twin);
        expect(r.stdout).toBe('');
      }
      const show = await cli('track', 'show', id.slice(0, 10), '--format', 'json');
      expect(show.code, show.stderr).toBe(0);
      expect((JSON.parse(show.stdout) as { flag: { status: string } }).flag.status).toBe('discovered');
    } finally {
      const s = await openStore(db);
      await s.run('DELETE FROM fiscus.flags WHERE flag_id = $twin', { twin });
      await s.close();
    }
  });

  it('an unknown id is a usage error that says what a flag id is', async () => {
    for (const [given, message] of [
      ['00000000ff', /no flag 00000000ff: no flag id starts with "00000000ff"/],
      ['69c7', /no flag 69c7: give at least 6 characters/],
      ['NO-SUCH', /no flag NO-SUCH: a flag id is 32 hex characters, and a unique prefix of at least 6 will do/],
    ] as const) {
      for (const args of [['track', 'show', given], ['track', 'confirm', given], ['track', 'report-rectified', given, '--note', 'x']]) {
        const r = await cli(...args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(message);
      }
    }
  });
});
