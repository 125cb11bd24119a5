/**
 * Static check of the built-in pack's test files (rules/pack/<area>/<name>.test.yaml):
 * table and column names against the feed catalogue, required columns present
 * after defaults, value shapes (money as quoted 2-decimal strings, codes as
 * strings, enums, dates), and that every expected evidence key is the primary
 * key of a given row. Run: npx tsx rules/pack/tools/check-test-files.ts [files...]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { FEEDS, feedTable, type ColumnDef } from '../../../engine/feeds.ts';
import { isIsoDate } from '../../../engine/dates.ts';

const PACK = path.resolve(import.meta.dirname, '..');
const MONEY = /^-?\d+\.\d{2}$/;
const DEC = /^-?\d+(\.\d+)?$/;

function validDate(s: string): boolean {
  return isIsoDate(s);
}

function checkValue(col: ColumnDef, v: unknown): string | null {
  if (v === null || v === undefined) return col.nullable ? null : 'required but null';
  switch (col.type) {
    case 'money':
      if (typeof v !== 'string' || !MONEY.test(v)) return `money must be a quoted 2-decimal string, got ${JSON.stringify(v)}`;
      if (!col.signed && v.startsWith('-')) return 'negative money in an unsigned column';
      return null;
    case 'rate':
      return typeof v === 'string' && DEC.test(v) ? null : `rate must be a quoted decimal, got ${JSON.stringify(v)}`;
    case 'code':
    case 'text':
      return typeof v === 'string' && v.length > 0 ? null : `must be a non-empty string, got ${JSON.stringify(v)}`;
    case 'enum':
      return typeof v === 'string' && col.values!.includes(v) ? null : `not one of ${col.values!.join('/')}: ${JSON.stringify(v)}`;
    case 'date':
      return typeof v === 'string' && validDate(v) ? null : `bad date ${JSON.stringify(v)}`;
    case 'period':
      return typeof v === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(v) ? null : `bad period ${JSON.stringify(v)}`;
    case 'year':
      return Number.isInteger(v) ? null : `year must be an integer, got ${JSON.stringify(v)}`;
    case 'bool':
      return typeof v === 'boolean' ? null : `bool expected, got ${JSON.stringify(v)}`;
  }
}

function checkFile(file: string): string[] {
  const errs: string[] = [];
  const rel = path.relative(PACK, file);
  const doc = parse(fs.readFileSync(file, 'utf8'));
  const [area, base] = rel.split(path.sep);
  const expectedId = `${area}.${base!.replace(/\.test\.yaml$/, '')}`;
  if (doc?.rule !== expectedId) errs.push(`rule: ${doc?.rule} but file says ${expectedId}`);
  const known = new Set(['rule', 'cases']);
  for (const k of Object.keys(doc ?? {})) if (!known.has(k)) errs.push(`unknown top-level key ${k}`);
  if (!Array.isArray(doc?.cases) || doc.cases.length === 0) return [...errs, 'no cases'];
  const names = new Set<string>();
  let raising = 0;
  let near = 0;
  for (const [i, c] of (doc.cases as any[]).entries()) {
    const where = `case ${i + 1} "${c?.name}"`;
    for (const k of Object.keys(c)) {
      if (!['name', 'as_of', 'params', 'defaults', 'given', 'expect'].includes(k)) errs.push(`${where}: unknown key ${k}`);
    }
    if (typeof c.name !== 'string' || !c.name) errs.push(`${where}: name required`);
    if (names.has(c.name)) errs.push(`${where}: duplicate name`);
    names.add(c.name);
    if (typeof c.as_of !== 'string' || !validDate(c.as_of)) errs.push(`${where}: as_of ${JSON.stringify(c.as_of)}`);
    if (c.params !== undefined && (typeof c.params !== 'object' || c.params === null)) errs.push(`${where}: params must be a map`);
    const defaults = (c.defaults ?? {}) as Record<string, Record<string, unknown>>;
    for (const t of Object.keys(defaults)) {
      const td = feedTable(t);
      if (!td) errs.push(`${where}: defaults for unknown table ${t}`);
      else if (!(t in (c.given ?? {}))) errs.push(`${where}: defaults for ${t} but no rows given`);
      else for (const col of Object.keys(defaults[t]!)) if (!td.columns.some((x) => x.name === col)) errs.push(`${where}: defaults ${t}.${col} unknown column`);
    }
    const keys = new Map<string, string[]>();
    if (typeof c.given !== 'object' || c.given === null) errs.push(`${where}: given required`);
    for (const [t, rows] of Object.entries((c.given ?? {}) as Record<string, unknown[]>)) {
      const td = feedTable(t);
      if (!td) {
        errs.push(`${where}: unknown table ${t} (known: ${FEEDS.map((f) => f.name).join(', ')})`);
        continue;
      }
      if (!Array.isArray(rows)) {
        errs.push(`${where}: ${t} must be a list of rows`);
        continue;
      }
      const seen = new Set<string>();
      for (const [j, raw] of rows.entries()) {
        const row = { ...(defaults[t] ?? {}), ...(raw as Record<string, unknown>) };
        for (const col of Object.keys(row)) if (!td.columns.some((x) => x.name === col)) errs.push(`${where}: ${t} row ${j + 1}: unknown column ${col}`);
        for (const col of td.columns) {
          if (!(col.name in row) && !col.nullable) errs.push(`${where}: ${t} row ${j + 1}: missing required ${col.name}`);
          else if (col.name in row) {
            const e = checkValue(col, row[col.name]);
            if (e) errs.push(`${where}: ${t} row ${j + 1}: ${col.name}: ${e}`);
          }
        }
        const key = td.key.map((k) => String(row[k])).join('|');
        if (seen.has(key)) errs.push(`${where}: ${t}: duplicate key ${key}`);
        seen.add(key);
        keys.set(key, [...(keys.get(key) ?? []), t]);
      }
    }
    if (!Array.isArray(c.expect)) {
      errs.push(`${where}: expect must be a list ([] for none)`);
      continue;
    }
    if (c.expect.length === 0) near++;
    else raising++;
    const ids = new Set<string>();
    for (const [j, e] of (c.expect as any[]).entries()) {
      const w = `${where}: expect ${j + 1}`;
      for (const k of Object.keys(e)) {
        if (!['entity_id', 'period', 'evidence', 'measure_value', 'amount', 'severity'].includes(k)) errs.push(`${w}: unknown key ${k}`);
      }
      if (typeof e.entity_id !== 'string') errs.push(`${w}: entity_id must be a string`);
      if (!('period' in e)) errs.push(`${w}: period required (null or [start, end])`);
      else if (e.period !== null) {
        if (!Array.isArray(e.period) || e.period.length !== 2 || !e.period.every((d: unknown) => typeof d === 'string' && validDate(d))) {
          errs.push(`${w}: period ${JSON.stringify(e.period)}`);
        } else if (e.period[0] > e.period[1]) errs.push(`${w}: period start after end`);
      }
      const id = `${e.entity_id} ${JSON.stringify(e.period)}`;
      if (ids.has(id)) errs.push(`${w}: duplicate entity+period ${id}`);
      ids.add(id);
      if (e.evidence !== undefined) {
        if (!Array.isArray(e.evidence)) errs.push(`${w}: evidence must be a list`);
        else for (const k of e.evidence) {
          if (typeof k !== 'string') errs.push(`${w}: evidence key ${JSON.stringify(k)} must be a string`);
          else if (!keys.has(k)) errs.push(`${w}: evidence key ${k} is not the key of any given row`);
        }
      }
      for (const f of ['measure_value', 'amount'] as const) {
        if (e[f] !== undefined && e[f] !== null && (typeof e[f] !== 'string' || !DEC.test(e[f]))) errs.push(`${w}: ${f} must be a quoted decimal string`);
      }
      if (e.severity !== undefined && !['high', 'medium', 'low'].includes(e.severity)) errs.push(`${w}: severity ${e.severity}`);
    }
  }
  if (raising === 0) errs.push('no case raises the rule');
  if (near === 0) errs.push('no near-miss case');
  return errs.map((e) => `${rel}: ${e}`);
}

const args = process.argv.slice(2);
const files = args.length
  ? args.map((a) => path.resolve(a))
  : fs.readdirSync(PACK, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'tools')
      .flatMap((d) => fs.readdirSync(path.join(PACK, d.name)).filter((f) => f.endsWith('.test.yaml')).map((f) => path.join(PACK, d.name, f)));
let bad = 0;
for (const f of files.sort()) {
  let errs: string[];
  try {
    errs = checkFile(f);
  } catch (e) {
    errs = [`${path.relative(PACK, f)}: ${(e as Error).message}`];
  }
  if (errs.length) {
    bad++;
    for (const e of errs) console.log(e);
  } else {
    const doc = parse(fs.readFileSync(f, 'utf8'));
    console.log(`ok ${path.relative(PACK, f)} (${doc.cases.length} cases)`);
  }
}
console.log(`${files.length} files, ${bad} with errors`);
process.exitCode = bad ? 1 : 0;
