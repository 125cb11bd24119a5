/**
 * The shape of `bench-results.json`, the targets each scenario is judged
 * against, and the printed table. Pure functions: the tests check them.
 */

export interface Machine {
  cpus: number;
  cpu_model: string;
  mem_gb: number;
  node: string;
  duckdb: string;
  os: string;
}

export type Status = 'ok' | 'skipped';

export interface ScenarioResult {
  name: string;
  rows: number;
  /** Our side: wall seconds of the measured work (for API scenarios: the load duration). */
  seconds: number | null;
  /** What we are compared with, in words. */
  baseline: string | null;
  baseline_seconds: number | null;
  /** seconds / baseline_seconds; for API scenarios p99_ms / baseline_p99_ms (see ratio_basis). */
  ratio: number | null;
  ratio_basis?: 'seconds' | 'p99_ms';
  /** Peak RSS of our side's process (VmHWM). */
  peak_rss_mb: number | null;
  baseline_peak_rss_mb?: number | null;
  p50_ms?: number;
  p99_ms?: number;
  baseline_p50_ms?: number;
  baseline_p99_ms?: number;
  requests_per_sec?: number;
  baseline_requests_per_sec?: number;
  status: Status;
  reason?: string;
  target?: string;
  target_met?: boolean | null;
  /** The memory goal (peak RSS of our side), judged for every scenario that measured it. */
  memory_target?: string;
  memory_target_met?: boolean | null;
  /** Anything else the scenario reports (flag counts, loader used, …). */
  details?: Record<string, unknown>;
}

export interface GrowthResult {
  name: string;
  sizes: number[];
  seconds: (number | null)[];
  peak_rss_mb: (number | null)[];
  /** seconds per million rows at each size (null when skipped). */
  seconds_per_million: (number | null)[];
  target: string;
  target_met: boolean | null;
}

/** How the run was made: what a reader needs to repeat it. */
export interface BenchSettings {
  /** The command line, as typed (`fiscus bench …`). */
  command: string;
  /** DuckDB's memory_limit in every scenario process (FISCUS_MEMORY_LIMIT or the default). */
  duckdb_memory_limit: string;
  only: string[] | null;
  api_seconds: number;
  connections: number;
}

export interface BenchResults {
  machine: Machine;
  settings?: BenchSettings;
  started_at: string;
  finished_at: string;
  mode: 'quick' | 'full' | 'custom';
  sizes: number[];
  scenarios: ScenarioResult[];
  growth: GrowthResult[];
}

/** The goals of issue 14 (near-real-time supervision at province scale). */
const API_GOAL = { text: 'p99 < 20 ms at ≥ 1,000 req/s', check: (s: ScenarioResult) => (s.p99_ms === undefined || s.requests_per_sec === undefined ? null : s.p99_ms < 20 && s.requests_per_sec >= 1000) };

export const TARGETS: Record<string, { text: string; check: (s: ScenarioResult) => boolean | null }> = {
  ingest_payments: { text: '≤ 1.3x DuckDB read_csv', check: (s) => (s.ratio === null ? null : s.ratio <= 1.3) },
  rules_pack: { text: '≤ 1.2x hand-written SQL', check: (s) => (s.ratio === null ? null : s.ratio <= 1.2) },
  rules_incremental: {
    text: 're-run ≤ 0.1x a full run, flags identical',
    check: (s) => (s.ratio === null ? null : s.ratio <= 0.1 && sameFlags(s) === true),
  },
  api_alerts: API_GOAL,
  api_flags: API_GOAL,
  watch_arrival_to_alert: { text: 'first alert on SSE < 2 s after the file arrives', check: (s) => (s.seconds === null ? null : s.seconds < 2) },
  api_flags_query_load: {
    text: 'p99 < 50 ms and ≤ 3x the same load without analyst queries',
    check: (s) => (s.p99_ms === undefined || s.ratio === null ? null : s.p99_ms < 50 && s.ratio <= 3),
  },
};

/** Did the incremental re-run leave the flags the full run left (bench/tasks flagDigest)? null: not compared. */
export function sameFlags(s: ScenarioResult): boolean | null {
  const digest = (side: unknown) => ((side as { flags?: { digest?: unknown } } | undefined)?.flags?.digest);
  const d = s.details as { ours?: unknown; baseline?: unknown } | undefined;
  const a = digest(d?.ours);
  const b = digest(d?.baseline);
  return typeof a === 'string' && typeof b === 'string' ? a === b : null;
}

/** Peak memory bounded as data grows: at the largest size at most 2x the smallest. */
export const RSS_GROWTH_LIMIT = 2;
/** Every scenario process stays under 2 GB peak RSS with the default memory settings. */
export const RSS_LIMIT_MB = 2048;
export const MEMORY_TARGET = `peak RSS < ${RSS_LIMIT_MB} MB`;

export function ratioOf(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b <= 0) return null;
  return Math.round((a / b) * 1000) / 1000;
}

/** Fill ratio and target fields from the numbers. */
export function finalize(s: ScenarioResult): ScenarioResult {
  if (s.status === 'skipped') return { ...s, ratio: null, target: TARGETS[s.name]?.text, target_met: null };
  const ratio = s.ratio_basis === 'p99_ms' ? ratioOf(s.p99_ms, s.baseline_p99_ms) : ratioOf(s.seconds, s.baseline_seconds);
  const out = { ...s, ratio };
  if (s.peak_rss_mb !== null && s.peak_rss_mb !== undefined) {
    out.memory_target = MEMORY_TARGET;
    out.memory_target_met = s.peak_rss_mb < RSS_LIMIT_MB;
  }
  const t = TARGETS[s.name];
  if (t) {
    out.target = t.text;
    out.target_met = t.check(out);
  }
  return out;
}

export function skipped(name: string, rows: number, reason: string, baseline: string | null = null): ScenarioResult {
  return { name, rows, seconds: null, baseline, baseline_seconds: null, ratio: null, peak_rss_mb: null, status: 'skipped', reason };
}

export function growth(scenarios: ScenarioResult[], sizes: number[]): GrowthResult[] {
  const names = [...new Set(scenarios.map((s) => s.name))];
  return names.map((name) => {
    const at = sizes.map((n) => scenarios.find((s) => s.name === name && s.details?.size === n));
    const rss = at.map((s) => (s?.status === 'ok' ? s.peak_rss_mb : null));
    const secs = at.map((s) => (s?.status === 'ok' ? s.seconds : null));
    const okRss = rss.filter((v): v is number => v !== null);
    let met: boolean | null = null;
    if (okRss.length >= 2 && rss[0] !== null && rss[rss.length - 1] !== null) met = rss[rss.length - 1]! <= RSS_GROWTH_LIMIT * rss[0]!;
    return {
      name,
      sizes,
      seconds: secs,
      peak_rss_mb: rss,
      seconds_per_million: at.map((s, i) => (s?.status === 'ok' && s.seconds !== null && !name.startsWith('api_') ? round3((s.seconds * 1e6) / sizes[i]!) : null)),
      target: `peak RSS at the largest size ≤ ${RSS_GROWTH_LIMIT}x the smallest`,
      target_met: met,
    };
  });
}

/** 100000 → "100k", 30000000 → "30M": sizes as `--sizes` spells them. */
export function sizeLabel(n: number): string {
  return n % 1e6 === 0 ? `${n / 1e6}M` : n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Problems with a results object (empty when well-formed). */
export function validateResults(r: unknown): string[] {
  const errs: string[] = [];
  const o = r as BenchResults;
  if (!o || typeof o !== 'object') return ['not an object'];
  const m = o.machine as unknown as Record<string, unknown>;
  if (!m) errs.push('machine missing');
  else {
    for (const k of ['cpus', 'mem_gb']) if (typeof m[k] !== 'number') errs.push(`machine.${k} not a number`);
    for (const k of ['cpu_model', 'node', 'duckdb', 'os']) if (typeof m[k] !== 'string' || m[k] === '') errs.push(`machine.${k} not a string`);
  }
  if (!Array.isArray(o.scenarios) || o.scenarios.length === 0) return [...errs, 'scenarios missing'];
  o.scenarios.forEach((s, i) => {
    const at = `scenarios[${i}] ${s.name}`;
    if (typeof s.name !== 'string') errs.push(`${at}: name`);
    if (typeof s.rows !== 'number') errs.push(`${at}: rows`);
    if (s.status !== 'ok' && s.status !== 'skipped') errs.push(`${at}: status ${s.status}`);
    for (const k of ['seconds', 'baseline_seconds', 'ratio', 'peak_rss_mb'] as const) {
      if (!(k in s)) errs.push(`${at}: ${k} missing`);
      else if (s[k] !== null && typeof s[k] !== 'number') errs.push(`${at}: ${k} not a number or null`);
    }
    if (!('baseline' in s)) errs.push(`${at}: baseline missing`);
    if (s.status === 'skipped') {
      if (typeof s.reason !== 'string' || s.reason.length === 0) errs.push(`${at}: skipped without a reason`);
      if (s.seconds !== null || s.ratio !== null) errs.push(`${at}: skipped but carries numbers`);
    } else {
      if (typeof s.seconds !== 'number' || s.seconds < 0) errs.push(`${at}: ok without seconds`);
      const expect = s.ratio_basis === 'p99_ms' ? ratioOf(s.p99_ms, s.baseline_p99_ms) : ratioOf(s.seconds, s.baseline_seconds);
      if (s.ratio !== expect) errs.push(`${at}: ratio ${s.ratio} is not computed from the numbers (${expect})`);
      if (s.p50_ms !== undefined && s.p99_ms !== undefined && s.p50_ms > s.p99_ms) errs.push(`${at}: p50 > p99`);
    }
  });
  return errs;
}

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? '—' : v.toFixed(digits));

/** pass / MISS for the scenario's goal, and "MISS RSS" when its memory goal failed. */
export function verdict(s: ScenarioResult): string {
  const goal = s.target_met === true ? 'pass' : s.target_met === false ? 'MISS' : '';
  return s.memory_target_met === false ? `${goal ? `${goal}, ` : ''}MISS RSS` : goal;
}

/** The human table (stdout). */
export function formatTable(r: BenchResults): string {
  const head = ['scenario', 'rows', 'ours s', 'baseline s', 'ratio', 'p50 ms', 'p99 ms', 'RSS MB', 'target', ''];
  // Latency and RSS columns read ours/baseline.
  const rows: string[][] = r.scenarios.map((s) => [
    s.name,
    String(s.rows),
    s.status === 'ok' ? fmt(s.seconds, 3) : 'skipped',
    fmt(s.baseline_seconds, 3),
    s.ratio === null ? '—' : `${fmt(s.ratio, 2)}${s.ratio_basis === 'p99_ms' ? ' (p99)' : ''}`,
    s.p50_ms === undefined ? '' : `${fmt(s.p50_ms, 1)}/${fmt(s.baseline_p50_ms, 1)}`,
    s.p99_ms === undefined ? '' : `${fmt(s.p99_ms, 1)}/${fmt(s.baseline_p99_ms, 1)}`,
    s.peak_rss_mb === null ? '—' : `${fmt(s.peak_rss_mb, 0)}/${fmt(s.baseline_peak_rss_mb, 0)}`,
    s.target ?? '',
    s.status === 'skipped' ? `SKIP: ${s.reason}` : verdict(s),
  ]);
  const growthRows = r.growth.map((g) => [
    `${g.name} growth`,
    g.sizes.join('/'),
    g.seconds.map((v) => fmt(v, 2)).join('/'),
    '',
    '',
    '',
    '',
    g.peak_rss_mb.map((v) => fmt(v, 0)).join('/'),
    g.target,
    g.target_met === true ? 'pass' : g.target_met === false ? 'MISS' : '',
  ]);
  const all = [head, ...rows, ...growthRows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => displayWidth(row[i] ?? ''))));
  const line = (row: string[]) => row.map((c, i) => c + ' '.repeat(widths[i]! - displayWidth(c))).join('  ').trimEnd();
  const m = r.machine;
  return [
    `machine: ${m.cpus} x ${m.cpu_model}, ${m.mem_gb} GB, node ${m.node}, duckdb ${m.duckdb}, ${m.os}`,
    ...(r.settings ? [`DuckDB memory_limit ${r.settings.duckdb_memory_limit}; memory goal: ${MEMORY_TARGET} per scenario process`] : []),
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    ...(growthRows.length ? ['', ...growthRows.map(line)] : []),
    '',
  ].join('\n');
}

function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\uffff]/.test(ch) && !/[–—≤]/.test(ch) ? 2 : 1;
  return w;
}
