/**
 * Emit a checked rule: its logic through the kind's emitter, the envelope projection,
 * the preconditions and the input counts, each as `{ sql, parameters }` for one dialect.
 */
import { feedTable, type TableDef } from '../../../engine/feeds.ts';
import { DELTA_KEY_SEPARATOR, isDeltaParam, type CompiledRule, type Precondition, type RuleParamDef } from '../../types.ts';
import type { RuleDefinition } from '../definition.ts';
import type { Dialect } from '../dialects/types.ts';
import { kindModule } from '../kinds.ts';
import type { RulePlan } from '../plan/types.ts';
import { asOfFilter } from './as-of.ts';
import { deltaVariant } from '../passes/delta.ts';
import { sourcesOf } from '../passes/sources.ts';
import { touchedCte } from './touched-keys.ts';
import { findingLookupsFrom, emitEnvelope } from './envelope.ts';
import { emitExpr } from './expr.ts';
import { recordEmitted } from './provenance.ts';
import type { Findings } from './kind.ts';

/** One row: the rows of a source visible at the as-of date and how many miss each `requires:` column. */
function inputCountsSql(d: Dialect, t: TableDef, requires: readonly string[]): string {
  const a = '__in';
  const asOf = asOfFilter(d, t, a);
  const missing = requires.map((c) => `${a}.${d.ident(c)} IS NULL`);
  const cols = [
    'count(*) AS "rows"',
    ...(missing.length ? [`count(*) FILTER (WHERE ${missing.join(' OR ')}) AS "not_judged"`] : []),
    ...requires.map((c, i) => `count(*) FILTER (WHERE ${missing[i]}) AS ${d.ident(`missing_${c}`)}`),
  ];
  return `SELECT ${cols.join(', ')} FROM ${d.table(t.schema, t.table)} AS ${a}${asOf ? ` WHERE ${asOf}` : ''}`;
}

export function emitRule(
  def: RuleDefinition, plan: RulePlan, d: Dialect, params: CompiledRule['params'], meta: CompiledRule['meta'], skipReason: string,
): CompiledRule {
  const ptypes = new Map<string, RuleParamDef['type']>(def.meta.params.map((p) => [`p_${p.name}`, p.type]));
  const typeOf = (name: string): RuleParamDef['type'] =>
    name === 'as_of' ? 'date' : name === 'scope' || isDeltaParam(name) ? 'list' : ptypes.get(name) ?? 'string';
  const emit = (text: string) => d.finalize(text, typeOf);

  const f = kindModule(plan.kind).emit(d, plan.logic, plan);
  const workdays = plan.workdays ? [d.workdayCte()] : [];
  const sql = findingsSql(d, plan, f, workdays);

  const preconditions: Precondition[] = [];
  for (const [t, u] of plan.tables) {
    // Feed tables must have data; reference tables only when the logic depends on their rows
    // (from, exists/aggregate subqueries, required lookups), not when they only supply names.
    if (!u.required && t.startsWith('ref.')) continue;
    const td = feedTable(t)!;
    preconditions.push({ sql: `SELECT EXISTS (SELECT 1 FROM ${d.table(td.schema, td.table)}) AS ok`, reason: `${t} 为空 / ${t} is empty`, nonEmpty: t });
  }
  for (const p of f.preconditions) {
    // A statistical finding needs a group of the minimum size, so findings imply this check.
    preconditions.push({ sql: `WITH ${[...workdays, ...p.ctes].join(',\n')}\n${p.sql}`, reason: skipReason, impliedByFindings: true });
  }
  const main = emit(sql);
  const out: CompiledRule = {
    meta, sql: main.sql, parameters: main.parameters, dialect: d.name, params,
    preconditions: preconditions.map((p) => {
      const e = emit(p.sql);
      return { ...p, sql: e.sql, parameters: e.parameters };
    }),
    inputs: plan.inputs.map((i) => {
      const e = emit(inputCountsSql(d, i.table, i.requires));
      return { table: i.table.name, requires: [...i.requires], sql: e.sql, parameters: e.parameters };
    }),
  };
  if (plan.scope) out.scope = { ...plan.scope };
  if (plan.delta) {
    const variant = deltaVariant(plan, plan.delta);
    // Sources restricted to the touched keys read them from one CTE (none when all go by batch).
    const touched = sourcesOf(variant.logic).some((s) => s.deltaColumns) ? [touchedCte(d, plan.delta.tables)] : [];
    const v = emit(findingsSql(d, variant, kindModule(plan.kind).emit(d, variant.logic, variant), [...touched, ...workdays]));
    out.delta = {
      keys: plan.delta.keys.map((k) => k.name),
      tables: Object.fromEntries(Object.entries(plan.delta.tables).map(([t, cols]) => [t, [...cols]])),
      sql: v.sql, parameters: v.parameters,
      ...(plan.delta.window ? { window: { ...plan.delta.window, within: { ...plan.delta.window.within } } } : {}),
    };
  }
  return recordEmitted(out);
}

/** The findings query: the kind's CTEs and FROM, the envelope projection and, with a delta key, `delta_key`. */
function findingsSql(d: Dialect, plan: RulePlan, f: Findings, workdays: string[]): string {
  const from = findingLookupsFrom(d, plan.envelope, f);
  const select = emitEnvelope(d, plan.envelope, f);
  if (plan.delta) {
    const parts = plan.delta.keys.map((k) => d.cast(emitExpr(k.finding, f.ctx), 'string'));
    select.push(`${parts.join(` || ${d.stringLiteral(DELTA_KEY_SEPARATOR)} || `)} AS "delta_key"`);
  }
  const ctes = [...workdays, ...f.ctes];
  return `${ctes.length ? `WITH ${ctes.join(',\n')}\n` : ''}SELECT ${select.join(',\n  ')}\nFROM ${from}${f.where.length ? `\nWHERE ${f.where.join('\n  AND ')}` : ''}`;
}
