/**
 * Per-rule test cases (`rules/pack/<area>/<name>.test.yaml`): each case loads
 * its rows into a fresh, migrated DuckDB file, runs the rule through the real
 * runner, and compares the flags it stored with the expected ones.
 *
 * Expected flags are matched by entity_id + period; evidence keys compare as
 * a set, money and measures as decimals ("612000" = "612000.00"). Input rows
 * are checked against the feed catalogue, and every error names the test
 * file's line.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { refreshCalendar } from '../../engine/calendar.ts';
import { openStore, type Store } from '../../engine/db.ts';
import { FiscusError } from '../../engine/errors.ts';
import { sqlString } from '../../engine/sql-quote.ts';
import { isIsoDate } from '../../engine/dates.ts';
import { feedTable, qualifiedName, quoteIdent, sqlType, type ColumnDef, type TableDef } from '../../engine/feeds.ts';
import type { CompiledRule } from '../types.ts';
import { listFlags } from '../../flags/list.ts';
import type { FlagRecordJson } from '../../flags/schema.ts';
import { runRules } from './runner.ts';

export type Params = Record<string, string | number | boolean | string[]>;

export interface ExpectedFlag {
  entity_id: string;
  /** undefined = any period; null = no period. */
  period?: [string, string] | null;
  evidence?: string[];
  measure_value?: string;
  amount?: string;
  severity?: string;
  line: number;
}

export interface RuleTestCase {
  name: string;
  line: number;
  as_of: string;
  params: Params;
  given: { table: TableDef; rows: Record<string, unknown>[]; lines: number[] }[];
  expect: ExpectedFlag[];
}

export interface RuleTestFile {
  file: string;
  rule: string;
  cases: RuleTestCase[];
}

export interface CaseResult {
  file: string;
  rule: string;
  name: string;
  line: number;
  pass: boolean;
  /** Human-readable differences (empty when it passes). */
  problems: string[];
  /** Set when the rule did not evaluate (precondition or error). */
  note?: string;
  millis: number;
}

export class RuleTestError extends FiscusError {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`, { code: 'RULE_TEST_INVALID', exitCode: 1 });
  }
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Every `*.test.yaml` under `root`, sorted. */
export function findTestFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.yaml')) out.push(p);
    }
  };
  walk(root);
  return out;
}

// ---------------------------------------------------------------- parsing

class Reader {
  readonly lc = new LineCounter();
  readonly doc: Document;
  constructor(readonly file: string, text: string) {
    // Core schema: 2025-03-03 stays a string, it is not turned into a Date.
    this.doc = parseDocument(text, { schema: 'core', lineCounter: this.lc, uniqueKeys: true });
    if (this.doc.errors.length) {
      const e = this.doc.errors[0]!;
      throw new RuleTestError(file, e.linePos?.[0].line ?? 1, `YAML error: ${e.message.split('\n')[0]}`);
    }
  }
  line(node: unknown): number {
    const r = (node as { range?: [number, number, number] } | null)?.range;
    return r ? this.lc.linePos(r[0]).line : 1;
  }
  fail(node: unknown, msg: string): never {
    throw new RuleTestError(this.file, this.line(node), msg);
  }
}

function scalarString(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'object' ? undefined : String(v);
}

export function parseRuleTestFile(file: string, text: string): RuleTestFile {
  const r: Reader = new Reader(file, text);
  const root = r.doc.contents;
  if (!isMap(root)) r.fail(root, 'a test file is a map with `rule` and `cases`');
  for (const item of root.items) {
    const k = String((item.key as { value?: unknown }).value);
    if (!['rule', 'cases'].includes(k)) r.fail(item.key, `unknown key \`${k}\` (expected rule, cases)`);
  }
  const rule = scalarString(root.get('rule'));
  if (!rule) r.fail(root, '`rule` is required');
  const casesNode = root.get('cases', true) as Node | undefined;
  if (!isSeq(casesNode) || casesNode.items.length === 0) r.fail(casesNode ?? root, '`cases` must be a non-empty list');
  const cases = casesNode.items.map((c) => parseCase(r, c as Node));
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) throw new RuleTestError(file, c.line, `two cases are named "${c.name}"`);
    names.add(c.name);
  }
  return { file, rule, cases };
}

const CASE_KEYS = ['name', 'as_of', 'params', 'defaults', 'given', 'expect'];

function parseCase(r: Reader, node: Node): RuleTestCase {
  if (!isMap(node)) r.fail(node, 'a case is a map with name, as_of, given, expect');
  for (const item of node.items) {
    const k = String((item.key as { value?: unknown }).value);
    if (!CASE_KEYS.includes(k)) r.fail(item.key, `unknown key \`${k}\` in a case (expected ${CASE_KEYS.join(', ')})`);
  }
  const line = r.line(node);
  const name = scalarString(node.get('name'));
  if (!name) r.fail(node, 'a case needs a `name`');
  const asOf = scalarString(node.get('as_of'));
  if (!asOf || !isIsoDate(asOf)) r.fail(node.get('as_of', true) ?? node, `as_of must be a date YYYY-MM-DD (got ${asOf ?? 'nothing'})`);

  const paramsNode = node.get('params', true) as Node | undefined;
  let params: Params = {};
  if (paramsNode !== undefined && paramsNode !== null) {
    const js = (paramsNode as { toJSON(): unknown }).toJSON();
    if (js !== null && (typeof js !== 'object' || Array.isArray(js))) r.fail(paramsNode, '`params` must be a map of name: value');
    params = (js ?? {}) as Params;
  }

  const defaultsNode = node.get('defaults', true) as Node | undefined;
  const defaults = new Map<string, { values: Record<string, unknown>; node: Node }>();
  if (defaultsNode) {
    if (!isMap(defaultsNode)) r.fail(defaultsNode, '`defaults` maps a table name to column values');
    for (const item of defaultsNode.items) {
      const tname = String((item.key as { value?: unknown }).value);
      const t = tableOf(r, tname, item.key);
      if (!isMap(item.value)) r.fail(item.value ?? item.key, `defaults for ${tname} must be a map of column: value`);
      const values = (item.value as { toJSON(): unknown }).toJSON() as Record<string, unknown>;
      for (const col of Object.keys(values)) checkColumn(r, t, col, (item.value as ReturnType<typeof node.get> & { get: (k: string, keep: true) => Node }).get(col, true) ?? item.value);
      defaults.set(tname, { values, node: item.value as Node });
    }
  }

  const givenNode = node.get('given', true) as Node | undefined;
  const given: RuleTestCase['given'] = [];
  if (givenNode) {
    if (!isMap(givenNode)) r.fail(givenNode, '`given` maps a table name to a list of rows');
    for (const item of givenNode.items) {
      const tname = String((item.key as { value?: unknown }).value);
      const t = tableOf(r, tname, item.key);
      const rowsNode = item.value as Node | null;
      if (rowsNode === null || (isSeq(rowsNode) && rowsNode.items.length === 0)) {
        given.push({ table: t, rows: [], lines: [] });
        continue;
      }
      if (!isSeq(rowsNode)) r.fail(rowsNode ?? item.key, `rows of ${tname} must be a list`);
      const rows: Record<string, unknown>[] = [];
      const lines: number[] = [];
      for (const rowNode of rowsNode.items as Node[]) {
        if (!isMap(rowNode)) r.fail(rowNode, `a row of ${tname} must be a map of column: value`);
        const own = rowNode.toJSON() as Record<string, unknown>;
        for (const col of Object.keys(own)) checkColumn(r, t, col, rowNode.get(col, true) ?? rowNode);
        const row = { ...(defaults.get(tname)?.values ?? {}), ...own };
        checkRow(r, t, row, rowNode);
        rows.push(row);
        lines.push(r.line(rowNode));
      }
      given.push({ table: t, rows, lines });
    }
  }

  const expectNode = node.get('expect', true) as Node | undefined;
  if (expectNode === undefined) r.fail(node, 'a case needs `expect` (a list of flags; [] for none)');
  const expect: ExpectedFlag[] = [];
  if (expectNode !== null) {
    if (!isSeq(expectNode)) r.fail(expectNode, '`expect` must be a list of flags ([] for none)');
    for (const e of expectNode.items as Node[]) expect.push(parseExpected(r, e));
  }
  return { name, line, as_of: asOf, params, given, expect };
}

const EXPECT_KEYS = ['entity_id', 'period', 'evidence', 'measure_value', 'amount', 'severity'];

function parseExpected(r: Reader, node: Node): ExpectedFlag {
  if (!isMap(node)) r.fail(node, 'an expected flag is a map with entity_id, period, …');
  for (const item of node.items) {
    const k = String((item.key as { value?: unknown }).value);
    if (!EXPECT_KEYS.includes(k)) r.fail(item.key, `unknown key \`${k}\` in an expected flag (expected ${EXPECT_KEYS.join(', ')})`);
  }
  const js = node.toJSON() as Record<string, unknown>;
  const entity = scalarString(js.entity_id);
  if (!entity) r.fail(node, 'an expected flag needs entity_id');
  const out: ExpectedFlag = { entity_id: entity, line: r.line(node) };
  if ('period' in js) {
    const p = js.period;
    if (p === null) out.period = null;
    else if (Array.isArray(p) && p.length === 2 && p.every((d) => isIsoDate(d))) out.period = [p[0], p[1]];
    else r.fail(node.get('period', true) ?? node, 'period must be [YYYY-MM-DD, YYYY-MM-DD] or null');
  }
  if (js.evidence !== undefined) {
    if (!Array.isArray(js.evidence)) r.fail(node.get('evidence', true) ?? node, 'evidence must be a list of keys');
    out.evidence = js.evidence.map((e) => (e && typeof e === 'object' ? String((e as { key: unknown }).key) : String(e)));
  }
  for (const k of ['measure_value', 'amount', 'severity'] as const) {
    if (js[k] !== undefined && js[k] !== null) out[k] = String(js[k]);
  }
  return out;
}

function tableOf(r: Reader, name: string, node: unknown): TableDef {
  const t = feedTable(name);
  if (!t) r.fail(node, `unknown table ${name} (tables are listed in FEEDS.md, e.g. treasury.payments)`);
  return t;
}

function checkColumn(r: Reader, t: TableDef, col: string, node: unknown): void {
  if (!t.columns.some((c) => c.name === col)) {
    r.fail(node, `unknown column ${t.name}.${col}; columns: ${t.columns.map((c) => c.name).join(', ')}`);
  }
}

function checkRow(r: Reader, t: TableDef, row: Record<string, unknown>, node: Node): void {
  for (const c of t.columns) {
    const v = row[c.name];
    if (v === undefined || v === null) {
      if (!c.nullable) r.fail(node, `${t.name} row lacks required column ${c.name} (give it in the row or in defaults)`);
      continue;
    }
    const bad = badValue(c, v);
    if (bad) r.fail(isMap(node) ? (node.get(c.name, true) ?? node) : node, `${t.name}.${c.name}: ${bad}`);
  }
}

function badValue(c: ColumnDef, v: unknown): string | null {
  switch (c.type) {
    case 'money':
    case 'rate':
      return (typeof v === 'string' || typeof v === 'number') && DECIMAL.test(String(v)) ? null : `not a decimal: ${JSON.stringify(v)}`;
    case 'date':
      return isIsoDate(v) ? null : `not a date YYYY-MM-DD: ${JSON.stringify(v)}`;
    case 'period':
      return typeof v === 'string' && /^\d{4}-\d{2}$/.test(v) ? null : `not a period YYYY-MM: ${JSON.stringify(v)}`;
    case 'year':
      return Number.isInteger(Number(v)) ? null : `not a year: ${JSON.stringify(v)}`;
    case 'bool':
      return typeof v === 'boolean' ? null : `not true/false: ${JSON.stringify(v)}`;
    case 'enum':
      return c.values!.includes(String(v)) ? null : `"${String(v)}" is not one of ${c.values!.join(', ')}`;
    case 'code':
    case 'text':
      return typeof v === 'object' ? `not a string: ${JSON.stringify(v)}` : null;
  }
}

// ---------------------------------------------------------------- running

/** Load the case's rows with their catalogue types (read_json with explicit columns, one INSERT per table). */
async function loadGiven(store: Store, dir: string, file: string, c: RuleTestCase): Promise<void> {
  let refreshCal = false;
  for (const [i, g] of c.given.entries()) {
    if (g.rows.length === 0) continue;
    const path = join(dir, `given-${i}.jsonl`);
    writeFileSync(path, g.rows.map((row) => JSON.stringify(Object.fromEntries(g.table.columns.map((col) => [col.name, row[col.name] ?? null])))).join('\n') + '\n');
    const cols = g.table.columns;
    const types = cols.map((col) => `${quoteIdent(col.name)}: '${sqlType(col.type)}'`).join(', ');
    const names = cols.map((col) => quoteIdent(col.name)).join(', ');
    try {
      await store.run(
        `INSERT INTO ${qualifiedName(g.table)} (${names}, extra, _batch_id, _row_hash, _ingested_at)
         SELECT ${names}, NULL, 'test', row_number() OVER (), now()
         FROM read_json(${sqlString(path)}, format = 'newline_delimited', columns = {${types}})`,
      );
    } catch (err) {
      throw new RuleTestError(file, g.lines[0] ?? c.line, `cannot load ${g.table.name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    if (g.table.name === 'ref.calendar') refreshCal = true;
  }
  if (refreshCal) await refreshCalendar(store);
}

/** Compile the rule under test for a case (the pack resolver lives in the CLI and the vitest file). */
export type ResolveRule = (ruleId: string, params: Params) => Promise<CompiledRule>;

function normDecimal(s: string): string {
  if (!DECIMAL.test(s)) return s;
  const neg = s.startsWith('-');
  let [i, f = ''] = s.replace('-', '').split('.') as [string, string?];
  i = i.replace(/^0+(?=\d)/, '');
  f = f.replace(/0+$/, '');
  const out = f ? `${i}.${f}` : i;
  return neg && out !== '0' ? `-${out}` : out;
}

function periodText(p: [string, string] | null | undefined | { start: string | null; end: string | null }): string {
  if (p === undefined) return 'any';
  if (p === null) return 'null';
  if (Array.isArray(p)) return `[${p[0]}, ${p[1]}]`;
  return p.start === null && p.end === null ? 'null' : `[${p.start}, ${p.end}]`;
}

function periodMatches(e: ExpectedFlag, f: FlagRecordJson): boolean {
  if (e.period === undefined) return true;
  if (e.period === null) return f.period.start === null && f.period.end === null;
  return f.period.start === e.period[0] && f.period.end === e.period[1];
}

function describeActual(f: FlagRecordJson): string {
  return `entity_id: ${f.entity.id}, period: ${periodText(f.period)}, evidence: [${f.evidence.map((e) => e.key).join(', ')}], measure_value: ${f.measure.value}, amount: ${f.amount}, severity: ${f.severity}`;
}

/** Compare stored flags with the expectation; returns the differences. */
export function compareFlags(expected: readonly ExpectedFlag[], actual: readonly FlagRecordJson[]): string[] {
  const problems: string[] = [];
  const left = [...actual];
  for (const e of expected) {
    const i = left.findIndex((f) => f.entity.id === e.entity_id && periodMatches(e, f));
    if (i < 0) {
      const sameEntity = left.filter((f) => f.entity.id === e.entity_id);
      problems.push(
        `missing flag (line ${e.line}): entity_id ${e.entity_id}, period ${periodText(e.period)}` +
          (sameEntity.length ? ` — the rule raised ${e.entity_id} with period ${sameEntity.map((f) => periodText(f.period)).join(', ')}` : ''),
      );
      continue;
    }
    const f = left.splice(i, 1)[0]!;
    const at = `${e.entity_id} ${periodText(f.period)}`;
    if (e.evidence) {
      const want = [...new Set(e.evidence)].sort();
      const got = [...new Set(f.evidence.map((x) => x.key))].sort();
      if (want.join('\u0000') !== got.join('\u0000')) {
        const miss = want.filter((k) => !got.includes(k));
        const extra = got.filter((k) => !want.includes(k));
        problems.push(`${at}: evidence expected [${want.join(', ')}], got [${got.join(', ')}]${miss.length ? `; missing ${miss.join(', ')}` : ''}${extra.length ? `; extra ${extra.join(', ')}` : ''}`);
      }
    }
    if (e.measure_value !== undefined && normDecimal(e.measure_value) !== normDecimal(f.measure.value ?? 'null')) {
      problems.push(`${at}: measure_value expected ${e.measure_value}, got ${f.measure.value}`);
    }
    if (e.amount !== undefined && normDecimal(e.amount) !== normDecimal(f.amount ?? 'null')) {
      problems.push(`${at}: amount expected ${e.amount}, got ${f.amount}`);
    }
    if (e.severity !== undefined && e.severity !== f.severity) problems.push(`${at}: severity expected ${e.severity}, got ${f.severity}`);
  }
  for (const f of left) problems.push(`unexpected flag: ${describeActual(f)}`);
  return problems;
}

let template: Promise<string> | undefined;

/**
 * A new, migrated database file for one case: a copy of one made for the first case of the
 * process (45 ms instead of the 180 ms of creating and migrating each; a pack has 170 cases).
 * The copy is a plain file copy of a closed DuckDB database, so nothing is shared between cases.
 */
async function freshCaseStore(path: string): Promise<Store> {
  template ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiscus-ruletest-template-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'template.duckdb');
    await (await openStore(file)).close();
    return file;
  })();
  copyFileSync(await template, path);
  return openStore(path);
}

export async function runCase(file: string, rule: string, c: RuleTestCase, resolveRule: ResolveRule): Promise<CaseResult> {
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'fiscus-ruletest-'));
  const result = (pass: boolean, problems: string[], note?: string): CaseResult => ({
    file, rule, name: c.name, line: c.line, pass, problems, note, millis: Math.round(performance.now() - t0),
  });
  let store: Store | undefined;
  try {
    const compiled = await resolveRule(rule, c.params);
    store = await freshCaseStore(join(dir, 'case.duckdb'));
    await loadGiven(store, dir, file, c);
    const summary = await runRules(store, [compiled], { asOf: c.as_of, full: true, actor: 'rule-test' });
    const o = summary.rules[0]!;
    if (o.outcome === 'error') return result(false, [`rule failed: ${o.reason}`]);
    const flags = (await listFlags(store, { reproduced: true }, { sort: 'rule' })).items;
    if (o.outcome === 'skipped') {
      if (c.expect.length === 0) return result(true, [], `skipped: ${o.reason}`);
      return result(false, [`rule was skipped: ${o.reason}`, ...c.expect.map((e) => `missing flag (line ${e.line}): entity_id ${e.entity_id}, period ${periodText(e.period)}`)]);
    }
    const problems = compareFlags(c.expect, flags);
    return result(problems.length === 0, problems);
  } catch (err) {
    return result(false, [err instanceof Error ? err.message : String(err)]);
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runRuleTestFile(file: string, text: string, resolveRule: ResolveRule): Promise<CaseResult[]> {
  const parsed = parseRuleTestFile(file, text);
  const out: CaseResult[] = [];
  for (const c of parsed.cases) out.push(await runCase(file, parsed.rule, c, resolveRule));
  return out;
}

/** One line per case, the differences indented under a failing one, and a total. */
export function formatCaseResults(results: readonly CaseResult[], cwd = process.cwd()): string {
  const lines: string[] = [];
  for (const r of results) {
    const where = `${relative(cwd, resolve(r.file))}:${r.line}`;
    lines.push(`${r.pass ? '✓' : '✗'} ${r.rule} › ${r.name}  (${where}, ${r.millis} ms)${r.note ? `  [${r.note}]` : ''}`);
    for (const p of r.problems) lines.push(`    ${p}`);
  }
  const failed = results.filter((r) => !r.pass).length;
  lines.push('');
  lines.push(`${results.length - failed} passed, ${failed} failed (${results.length} cases) / 通过 ${results.length - failed}，失败 ${failed}`);
  return `${lines.join('\n')}\n`;
}
