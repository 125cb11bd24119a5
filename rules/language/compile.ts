/**
 * Check → plan → emit. `checkDefinition` turns a rule definition (envelope read from
 * YAML) into a RulePlan with all its diagnostics; `compileRule` emits the plan as SQL
 * for one dialect (DuckDB by default, PostgreSQL with `{ dialect: 'postgres' }`).
 */
import type { CompiledRule, Severity } from '../types.ts';
import { checkRule, type CheckResult } from './check/rule.ts';
import { checkParamValue, type RuleDefinition } from './definition.ts';
import { dialectOf, type Dialect, type DialectName } from './dialects/index.ts';
import { RuleError, RuleErrors, didYouMean } from './errors.ts';
import { emitRule } from './emit/rule.ts';

export { AS_OF_COLUMNS } from './emit/as-of.ts';
export { EVIDENCE_LIMIT } from './emit/evidence.ts';

export interface CompileOptions {
  params?: Record<string, unknown>;
  severity?: Severity;
  /** The engine to emit SQL for (default duckdb). */
  dialect?: DialectName | Dialect;
}

/** Check a rule for a dialect: its plan and every diagnostic (errors and warnings). */
export function checkDefinition(def: RuleDefinition, dialect?: DialectName | Dialect): CheckResult {
  return checkRule(def, dialectOf(dialect));
}

/** Throw the errors of a check (one RuleError, or RuleErrors with all of them). */
export function throwErrors(diagnostics: readonly RuleError[]): void {
  const errors = diagnostics.filter((x) => x.severity === 'error');
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new RuleErrors(errors);
}

/** Resolve parameter values: defaults merged with overrides, each checked against its type. */
export function resolveParams(def: RuleDefinition, overrides: Record<string, unknown> = {}): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  const declared = new Map(def.meta.params.map((p) => [p.name, p]));
  for (const k of Object.keys(overrides)) {
    const name = k.startsWith('p_') && !declared.has(k) ? k.slice(2) : k;
    if (!declared.has(name)) {
      throw new RuleError({ file: def.file, line: 1, column: 1 }, `rule ${def.meta.id}: unknown parameter \`${name}\`${didYouMean(name, declared.keys())}; parameters: ${[...declared.keys()].join(', ') || 'none'}`, 'unknown-parameter');
    }
  }
  for (const p of def.meta.params) {
    const has = Object.prototype.hasOwnProperty.call(overrides, p.name) || Object.prototype.hasOwnProperty.call(overrides, `p_${p.name}`);
    const raw = Object.prototype.hasOwnProperty.call(overrides, p.name) ? overrides[p.name] : overrides[`p_${p.name}`];
    const v = has ? checkParamValue(p.type, raw) : p.default;
    if (typeof v === 'string' && v.startsWith('!')) {
      const n = def.paramNodes.get(p.name);
      const pos = n ? def.yaml.nodePos(n) : { file: def.file, line: 1, column: 1 };
      throw new RuleError(pos, `rule ${def.meta.id}: parameter \`${p.name}\` (${p.type}): ${v.slice(1)}`, 'type-mismatch');
    }
    out[`p_${p.name}`] = v;
  }
  return out;
}

function skipReason(def: RuleDefinition, params: Record<string, unknown>): string {
  const y = def.yaml;
  const n = y.get(y.root(), 'skip_reason');
  const fill = (s: string) => s.replace(/\{(\w+)\}/g, (all, k: string) => (params[`p_${k}`] !== undefined ? String(params[`p_${k}`]) : all));
  if (n) {
    const m = y.map(n, '`skip_reason`');
    const zh = y.optStr(m, 'zh', '`skip_reason.zh`') ?? '';
    const en = y.optStr(m, 'en', '`skip_reason.en`') ?? '';
    return `${fill(zh)} / ${fill(en)}`;
  }
  return '没有分组达到最小样本量 / no group reaches the minimum size';
}

export function compileRule(def: RuleDefinition, opts: CompileOptions = {}): CompiledRule {
  const params = resolveParams(def, opts.params);
  const dialect = dialectOf(opts.dialect);
  const { plan, diagnostics } = checkRule(def, dialect);
  throwErrors(diagnostics);
  if (!plan) throw new RuleError({ file: def.file, line: 1, column: 1 }, `rule ${def.meta.id} could not be checked`);
  const meta = { ...def.meta, severity: opts.severity ?? def.meta.severity };
  return emitRule(def, plan, dialect, params, meta, skipReason(def, params));
}
