/**
 * The README's first command, end to end: `fiscus demo` on a fresh database,
 * then the CLI a newcomer would type next. The flags it raises on the bundled
 * sample are exactly the planted ones (fixtures/sample/manifest.json), in the
 * FLAGS.md shape.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { SAMPLE_DIR } from '../../cli/commands/demo.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiscus-demo-'));
const db = join(dir, 'data', 'fiscus.duckdb');
let demo: CliResult;

interface Manifest {
  as_of: string;
  expected: { rule_id: string; entity_type: string; entity_id: string; period_start: string | null; period_end: string | null; severity: string }[];
}
const manifest = JSON.parse(readFileSync(join(SAMPLE_DIR, 'manifest.json'), 'utf8')) as Manifest;

beforeAll(async () => {
  demo = await runCli(['--db', db, 'demo', '--out', join(dir, 'out'), '--no-pdf']);
});

describe('fiscus demo', () => {
  it('builds the database, runs every step and writes the report', () => {
    expect(demo.code, demo.stderr).toBe(0);
    for (const step of ['导入样例数据', '运行预警规则', '闭环跟踪', '季度审查报告']) expect(demo.stdout).toContain(step);
    expect(demo.stdout).toMatch(/规则 28：评估 28，跳过 0，出错 0/); // the 25 of the catalogue + 3 livelihood-project rules
    expect(existsSync(join(dir, 'out', 'quarterly-2025-Q4-zh.html'))).toBe(true);
    expect(existsSync(join(dir, 'out', 'quarterly-2025-Q4-zh.md'))).toBe(true);
  });

  it('raises exactly the planted flags, in the FLAGS.md shape', async () => {
    const res = await runCli(['--db', db, 'flags', '--format', 'jsonl']);
    expect(res.code, res.stderr).toBe(0);
    const flags = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const key = (r: { rule_id: string; entity_id: string; start: string | null; end: string | null }) => `${r.rule_id} ${r.entity_id} ${r.start} ${r.end}`;
    const got = flags.map((f) => key({ rule_id: f.rule_id, entity_id: f.entity.id, start: f.period?.start ?? null, end: f.period?.end ?? null })).sort();
    const want = manifest.expected.map((e) => key({ rule_id: e.rule_id, entity_id: e.entity_id, start: e.period_start, end: e.period_end })).sort();
    expect(got).toEqual(want);
    for (const f of flags) {
      expect(Object.keys(f)).toEqual(expect.arrayContaining([
        'flag_id', 'rule_id', 'rule_version', 'severity', 'title', 'title_en', 'entity', 'region_code', 'agency_code',
        'fiscal_year', 'period', 'measure', 'amount', 'evidence', 'first_seen_at', 'status',
      ]));
      expect(['high', 'medium', 'low']).toContain(f.severity);
      expect(f.title).toMatch(/[\u4e00-\u9fff]/);
      expect(f.first_seen_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      if (f.amount !== null) expect(f.amount).toMatch(/^-?\d+\.\d{2}$/);
      expect(f.evidence.length).toBeGreaterThan(0);
      expect(f.evidence_query === null || /^SELECT/i.test(f.evidence_query.trim())).toBe(true);
      const planted = manifest.expected.find((e) => e.rule_id === f.rule_id && e.entity_id === f.entity.id && e.period_start === (f.period?.start ?? null));
      expect(f.severity, `${f.rule_id} ${f.entity.id}`).toBe(planted!.severity);
      expect(f.entity.type).toBe(planted!.entity_type);
    }
  });

  it('re-running the rules creates no duplicates and changes no flag', async () => {
    const before = await runCli(['--db', db, 'query', 'SELECT count(*) AS n, count(DISTINCT flag_id) AS d FROM fiscus.flags', '--format', 'json']);
    const again = await runCli(['--db', db, 'rules', 'run', '--as-of', manifest.as_of]);
    expect(again.code, again.stderr).toBe(0);
    const after = await runCli(['--db', db, 'query', 'SELECT count(*) AS n, count(DISTINCT flag_id) AS d FROM fiscus.flags', '--format', 'json']);
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
    expect(JSON.parse(after.stdout)[0].n).toBe(String(manifest.expected.length));
  });

  it('keeps an intact event log and refuses to wipe a database that is not its own', async () => {
    const log = await runCli(['--db', db, 'track', 'verify-log']);
    expect(log.code, log.stdout + log.stderr).toBe(0);
    const other = join(dir, 'other.duckdb');
    const csv = join(dir, 'regions.csv');
    (await import('node:fs')).writeFileSync(csv, 'region_code,region_name,parent_code,level\n370800,济宁市,370000,city\n');
    expect((await runCli(['--db', other, 'ingest', csv, '--table', 'ref.regions'])).code).toBe(0);
    const refused = await runCli(['--db', other, 'demo', '--out', join(dir, 'out2'), '--no-pdf']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not the demo sample/);
  });
});
