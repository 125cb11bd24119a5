/**
 * Each livelihood project's money against its plan: spending is treasury.payments by
 * project_code in the project's fiscal year, paid on or before the as-of day, against
 * the voted budget and the share of the year elapsed. Sums are done by the database on
 * DECIMAL columns and read back as decimal strings; ratios are computed in fen (bigint).
 */
import type { Store } from '../engine/db.ts';

/** Decimal string (yuan, ≤ 2 decimals, optional sign) → fen. */
export function fen(s: string | null | undefined): bigint {
  if (s === null || s === undefined || s === '') return 0n;
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s.trim());
  if (!m) throw new Error(`not a decimal amount: ${s}`);
  const v = BigInt(m[2]!) * 100n + BigInt((m[3] ?? '').padEnd(2, '0') || '0');
  return m[1] ? -v : v;
}

export function yuan(f: bigint): string {
  const neg = f < 0n;
  const a = neg ? -f : f;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

/** part / whole as a percentage with 2 decimals (string), half up; null when whole is 0. */
export function percentOf(part: bigint, whole: bigint): string | null {
  if (whole === 0n) return null;
  const bp = (part * 1000000n) / whole; // 4 decimals of percent, truncated
  const r = (bp + (bp >= 0n ? 50n : -50n)) / 100n;
  const neg = r < 0n;
  const a = neg ? -r : r;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

export interface ProjectMoney {
  project_code: string;
  project_name: string;
  agency_code: string;
  region_code: string;
  budget: string;
  spent: string;
  payments: number;
  /** spent / budget, percent with 2 decimals. */
  execution_pct: string | null;
  /** Days of the fiscal year elapsed at the as-of day / days in the year, percent (capped at 100). */
  time_pct: string;
  /** Latest progress report on or before the as-of day. */
  percent_complete: string | null;
  progress_date: string | null;
}

/** The SQL of the spending figure, so the report can print it and tests can re-run it. Portable SQL. */
export const SPENDING_SQL = `SELECT p.project_code, p.project_name, p.agency_code, p.region_code,
    CAST(p.budget AS VARCHAR) AS budget,
    CAST(coalesce(s.spent, 0) AS VARCHAR) AS spent,
    CAST(coalesce(s.n, 0) AS INTEGER) AS payments
  FROM projects.projects p
  LEFT JOIN (SELECT project_code, sum(amount) AS spent, count(*) AS n
             FROM treasury.payments
             WHERE fiscal_year = CAST($year AS INTEGER) AND pay_date <= CAST($as_of AS DATE)
             GROUP BY project_code) s ON s.project_code = p.project_code
  WHERE p.fiscal_year = CAST($year AS INTEGER)
  ORDER BY p.project_code`;

export const PROGRESS_SQL = `SELECT g.project_code, CAST(g.report_date AS VARCHAR) AS report_date, CAST(g.percent_complete AS VARCHAR) AS percent_complete
  FROM projects.progress g
  WHERE g.fiscal_year = CAST($year AS INTEGER) AND g.report_date <= CAST($as_of AS DATE)
  ORDER BY g.project_code, g.report_date, g.report_id`;

export type Runner = <T extends Record<string, unknown>>(id: string, title: string, sql: string, params: Record<string, string | null>) => Promise<T[]>;

export function plainRunner(store: Store): Runner {
  return <T extends Record<string, unknown>>(_id: string, _title: string, sql: string, params: Record<string, string | null>) =>
    store.all<T>(sql, Object.fromEntries(Object.entries(params).filter(([k]) => new RegExp(`\\$${k}\\b`).test(sql))));
}

export function timePercent(year: number, asOf: string): string {
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const at = Date.parse(`${asOf}T00:00:00Z`) + 86_400_000; // the as-of day counts as elapsed
  const days = Math.round((end - start) / 86_400_000);
  const elapsed = Math.max(0, Math.min(days, Math.round((at - start) / 86_400_000)));
  return percentOf(BigInt(elapsed), BigInt(days))!;
}

export async function projectMoney(store: Store, year: number, asOf: string, run: Runner = plainRunner(store)): Promise<ProjectMoney[]> {
  const params = { year: String(year), as_of: asOf };
  const rows = await run<{ project_code: string; project_name: string; agency_code: string; region_code: string; budget: string; spent: string; payments: number | string }>(
    'spending', '项目支出（国库集中支付，按项目代码）/ project spending from treasury.payments', SPENDING_SQL, params);
  const progress = await run<{ project_code: string; report_date: string; percent_complete: string }>(
    'progress', '最近一次进展报告 / latest progress report', PROGRESS_SQL, params);
  const latest = new Map<string, { report_date: string; percent_complete: string }>();
  for (const g of progress) latest.set(g.project_code, g); // ordered by date: the last one wins
  const tp = timePercent(year, asOf);
  return rows.map((r) => {
    const g = latest.get(r.project_code);
    return {
      project_code: r.project_code,
      project_name: r.project_name,
      agency_code: r.agency_code,
      region_code: r.region_code,
      budget: yuan(fen(r.budget)),
      spent: yuan(fen(r.spent)),
      payments: Number(r.payments),
      execution_pct: percentOf(fen(r.spent), fen(r.budget)),
      time_pct: tp,
      percent_complete: g ? trimPercent(g.percent_complete) : null,
      progress_date: g?.report_date ?? null,
    };
  });
}

/** "85.0000" → "85", "62.5000" → "62.5". */
export function trimPercent(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
