/**
 * Ingest speed against DuckDB's own CSV load, in the same process.
 *
 *   npx tsx bench/ingest.ts [--rows 1000000] [--dir /tmp/x] [--repeat 3]
 *
 * Baseline: `CREATE TABLE t AS SELECT * FROM read_csv(file, columns={…explicit
 * types…})` into a fresh database file. Ours: `ingestPath` of the same file
 * into a fresh fiscus database (hash, validation, keys, quarantine check,
 * batch report, one transaction). Runs alternate and the best of each is
 * kept, because a shared machine is noisy.
 */
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openStore } from '../engine/db.ts';
import { ingestPath } from '../ingest/index.ts';
import { lit } from '../ingest/sql-text.ts';

export interface BenchResult {
  rows: number;
  file_bytes: number;
  ours_seconds: number;
  baseline_seconds: number;
  /** ours / baseline (wall clock). */
  ratio: number;
  /** Process CPU seconds (all threads) of the best runs: steadier than wall time on a busy machine. */
  ours_cpu_seconds: number;
  baseline_cpu_seconds: number;
  ours_rows_per_second: number;
  baseline_rows_per_second: number;
}

const HEADER =
  'payment_id,fiscal_year,region_code,agency_code,indicator_id,func_code,econ_code,fund_source,project_code,' +
  'payee_name,payee_account,payee_type,amount,pay_date,pay_method,purpose,direct_fund\n';

const BASELINE_COLUMNS = {
  payment_id: 'VARCHAR', fiscal_year: 'INTEGER', region_code: 'VARCHAR', agency_code: 'VARCHAR',
  indicator_id: 'VARCHAR', func_code: 'VARCHAR', econ_code: 'VARCHAR', fund_source: 'VARCHAR',
  project_code: 'VARCHAR', payee_name: 'VARCHAR', payee_account: 'VARCHAR', payee_type: 'VARCHAR',
  amount: 'DECIMAL(18,2)', pay_date: 'DATE', pay_method: 'VARCHAR', purpose: 'VARCHAR', direct_fund: 'BOOLEAN',
};

/** Write a realistic treasury.payments CSV (deterministic pseudo-random content). */
export async function writePaymentsCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  let seed = 20250101;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const funds = ['general', 'general', 'general', 'gov_fund', 'soe_capital', 'social_insurance'];
  const payees = ['济宁市城建工程有限公司', '兖州区第一中学', '张伟', '山东鲁信科技股份有限公司', '济宁市第一人民医院', '李娜'];
  const purposes = ['办公用品采购', '工程进度款', '差旅费报销', '"会议费,培训费"', '设备购置', '物业管理费'];
  const funcs = ['2010101', '2050101', '2080501', '2100201', '2120101', '2130101'];
  const econs = ['30201', '30211', '30215', '30216', '31002', '30309'];
  const write = (s: string) => new Promise<void>((res) => (out.write(s) ? res() : out.once('drain', () => res())));
  await write(HEADER);
  let buf = '';
  for (let i = 1; i <= rows; i++) {
    const cents = Math.floor(rnd() * rnd() * 50_000_000);
    const day = new Date(Date.UTC(2025, 0, 1) + Math.floor(rnd() * 365) * 86_400_000).toISOString().slice(0, 10);
    const k = i % 6;
    const individual = k === 2 || k === 5;
    buf +=
      `P2025${String(i).padStart(8, '0')},2025,370882,A${String(Math.floor(rnd() * 800)).padStart(4, '0')},` +
      `${i % 20 === 0 ? '' : `I2025${String(Math.floor(rnd() * 6000)).padStart(6, '0')}`},${funcs[k]},${econs[(i >> 3) % 6]},` +
      `${funds[(i >> 2) % 6]},${i % 3 ? '' : `XM${String(i % 997).padStart(4, '0')}`},${payees[k]},` +
      `6222${String(Math.floor(rnd() * 1e15)).padStart(15, '0')},${individual ? 'individual' : 'org'},` +
      `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')},${day},${i % 4 ? 'direct' : 'authorized'},` +
      `${purposes[(i >> 1) % 6]},${i % 9 === 0}\n`;
    if (buf.length > 1 << 20) {
      await write(buf);
      buf = '';
    }
  }
  await write(buf);
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
}

function fresh(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
}

interface Timing {
  wall: number;
  cpu: number;
}

function timer(): () => Timing {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
  };
}

async function baselineOnce(file: string, dbPath: string): Promise<Timing> {
  fresh(dbPath);
  const db = await DuckDBInstance.create(dbPath);
  const conn = await db.connect();
  const cols = Object.entries(BASELINE_COLUMNS).map(([k, v]) => `${lit(k)}: ${lit(v)}`).join(', ');
  const stop = timer();
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_csv(${lit(file)}, header=true, columns={${cols}})`);
  const s = stop();
  conn.closeSync();
  db.closeSync();
  fresh(dbPath);
  return s;
}

async function oursOnce(file: string, dbPath: string, rows: number): Promise<Timing> {
  fresh(dbPath);
  const store = await openStore(dbPath);
  try {
    const stop = timer();
    const [r] = await ingestPath(store, file, { table: 'treasury.payments' });
    const s = stop();
    if (r.status !== 'committed' || r.inserted !== rows) {
      throw new Error(`bench ingest did not load the file: ${r.status} ${r.message}`);
    }
    return s;
  } finally {
    await store.close();
    fresh(dbPath);
  }
}

export async function benchIngest(opts: { rows?: number; dir?: string; repeat?: number } = {}): Promise<BenchResult> {
  const rows = opts.rows ?? 1_000_000;
  const dir = opts.dir ?? join(tmpdir(), 'fiscus-bench-ingest');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `treasury.payments.${rows}.csv`);
  if (!existsSync(file)) await writePaymentsCsv(file, rows);
  const best = (a: Timing | undefined, b: Timing): Timing => (a && a.wall <= b.wall ? a : b);
  let ours: Timing | undefined;
  let base: Timing | undefined;
  for (let i = 0; i < (opts.repeat ?? 2); i++) {
    base = best(base, await baselineOnce(file, join(dir, 'baseline.duckdb')));
    ours = best(ours, await oursOnce(file, join(dir, 'ingest-bench.duckdb'), rows));
  }
  return {
    rows,
    file_bytes: statSync(file).size,
    ours_seconds: round(ours!.wall),
    baseline_seconds: round(base!.wall),
    ratio: round(ours!.wall / base!.wall),
    ours_cpu_seconds: round(ours!.cpu),
    baseline_cpu_seconds: round(base!.cpu),
    ours_rows_per_second: Math.round(rows / ours!.wall),
    baseline_rows_per_second: Math.round(rows / base!.wall),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const result = await benchIngest({
    rows: arg('rows') ? Number(arg('rows')) : undefined,
    dir: arg('dir'),
    repeat: arg('repeat') ? Number(arg('repeat')) : undefined,
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
