/**
 * The fiscus rule language: public API.
 *
 *   parseRuleText / loadRuleFile   → RuleDefinition (envelope + logic, fully checked: all diagnostics of the file)
 *   checkDefinition                → RulePlan + diagnostics (errors and warnings) for a dialect
 *   compileRule                    → CompiledRule (one SELECT for a dialect + its parameters in binding order)
 *   loadBuiltinPack / loadRulesDir → every rule of a folder, all broken files reported together
 *
 * Layout: check/ (YAML + expressions → plan), plan/ (the typed IR), passes/ (prefilters,
 * incremental scope), emit/ (plan → SQL), dialects/ (DuckDB, PostgreSQL), kinds.ts (the registry).
 */
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledRule } from '../types.ts';
import { checkDefinition, throwErrors } from './compile.ts';
import type { DialectName } from './dialects/index.ts';
import { readDefinition, type RuleDefinition } from './definition.ts';
import { FiscusError } from '../../engine/errors.ts';
import { RuleError, RuleErrors } from './errors.ts';
import { YamlFile } from './yaml-doc.ts';

export { compileRule, checkDefinition, resolveParams, AS_OF_COLUMNS, EVIDENCE_LIMIT, type CompileOptions } from './compile.ts';
export { RuleError, RuleErrors, DIAGNOSTIC_CODES, type Diagnostic, type DiagnosticCode } from './errors.ts';
export type { RulePlan, IR } from './plan/types.ts';
export { duckdb as duckdbDialect, postgres as postgresDialect, dialectOf, DIALECTS, type Dialect, type Dialect as SqlDialect, type DialectName, type EmittedSql } from './dialects/index.ts';
export { FUNCTIONS } from './check/functions.ts';
export { LOGIC_KINDS, type RuleDefinition, type LogicKind } from './definition.ts';

const PACK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'pack');

/**
 * Parse and check a rule. Every mistake of the file is reported at once: one RuleError,
 * or RuleErrors with all of them (file order). Warnings are kept on `def.warnings`.
 */
export function parseRuleText(text: string, file: string, opts: { builtin?: boolean } = {}): RuleDefinition {
  const y = new YamlFile(file, text);
  const def = readDefinition(y, opts.builtin ?? false);
  const { diagnostics } = checkDefinition(def);
  throwErrors(diagnostics);
  def.warnings = diagnostics.filter((x) => x.severity === 'warning');
  return def;
}

export async function loadRuleFile(path: string, opts: { builtin?: boolean } = {}): Promise<RuleDefinition> {
  const text = await readFile(path, 'utf8');
  return parseRuleText(text, displayPath(path), opts);
}

function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') ? p : rel;
}

async function ruleFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith('.rule.yaml')) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  }
  return out.sort();
}

async function loadDir(dir: string, builtin: boolean): Promise<RuleDefinition[]> {
  let files: string[];
  try {
    files = await ruleFiles(dir);
  } catch (err) {
    throw new FiscusError(`cannot read the rules folder ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : String(err)}`, { code: 'RULES_DIR' });
  }
  const defs: RuleDefinition[] = [];
  const errors: RuleError[] = [];
  const ids = new Map<string, string>();
  for (const f of files) {
    try {
      const def = await loadRuleFile(f, { builtin });
      const prev = ids.get(def.meta.id);
      if (prev) {
        errors.push(new RuleError({ file: def.file, line: 1, column: 1 }, `rule id ${def.meta.id} is also defined in ${prev}`));
        continue;
      }
      ids.set(def.meta.id, def.file);
      defs.push(def);
    } catch (err) {
      if (err instanceof RuleError) errors.push(err);
      else if (err instanceof RuleErrors) errors.push(...err.errors);
      else throw err;
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new RuleErrors(errors);
  return defs;
}

/**
 * Check rule files for a dialect without compiling them: every diagnostic (errors and
 * warnings) of every file, in file order (`fiscus rules check`).
 */
export async function checkRuleFiles(opts: { builtin?: boolean; rulesDir?: string; dialect?: DialectName } = {}): Promise<RuleError[]> {
  const dirs = [...(opts.builtin === false ? [] : [{ dir: PACK_DIR, builtin: true }]), ...(opts.rulesDir ? [{ dir: resolve(opts.rulesDir), builtin: false }] : [])];
  const out: RuleError[] = [];
  for (const { dir, builtin } of dirs) {
    let files: string[];
    try {
      files = await ruleFiles(dir);
    } catch (err) {
      throw new FiscusError(`cannot read the rules folder ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : String(err)}`, { code: 'RULES_DIR' });
    }
    for (const f of files) {
      try {
        const def = readDefinition(new YamlFile(displayPath(f), await readFile(f, 'utf8')), builtin);
        out.push(...checkDefinition(def, opts.dialect).diagnostics);
      } catch (err) {
        if (err instanceof RuleError) out.push(err);
        else if (err instanceof RuleErrors) out.push(...err.errors);
        else throw err;
      }
    }
  }
  return out;
}

/** Every `rules/pack/**\/*.rule.yaml`. */
export function loadBuiltinPack(): Promise<RuleDefinition[]> {
  return loadDir(PACK_DIR, true);
}

/** An analyst's folder of rules (same format). Every broken file is reported, not just the first. */
export function loadRulesDir(dir: string): Promise<RuleDefinition[]> {
  return loadDir(resolve(dir), false);
}

export type { CompiledRule };
