/**
 * Which rules a deployment runs: the built-in pack plus an analyst's
 * `--rules-dir`, compiled with the deployment config's severity and
 * parameter overrides. The rule language (rules/language, imported statically)
 * does the parsing and compiling; this module only combines and selects.
 */
import { didYouMean } from '../../engine/did-you-mean.ts';
import { UsageError } from '../../engine/errors.ts';
import * as language from '../language/index.ts';
import type { RuleDefinition } from '../language/index.ts';
import type { CompiledRule, Severity } from '../types.ts';
import { checkConfigRules, EMPTY_CONFIG, loadConfig, resolveConfigPath, ruleOverrides, type FiscusConfig } from './config.ts';

/** A checked rule definition (rules/language). */
export type RuleDefinitionLike = RuleDefinition;

/** The rule language, imported statically: tsc checks this seam like any other. */
export type LanguageModule = typeof language;

/** Kept for callers that took the language lazily; the module is now a static import. */
export function languageModule(): Promise<LanguageModule> {
  return Promise.resolve(language);
}

export interface LoadedRule {
  def: RuleDefinitionLike;
  enabled: boolean;
  /** Effective severity (config override or the rule's default). */
  severity: Severity;
  params: Record<string, string | number | boolean | string[]>;
}

/** Pack + rules dir, checked for id clashes; broken files throw the language's file:line:column errors. */
export async function loadDefinitions(opts: { rulesDir?: string; builtin?: boolean } = {}): Promise<RuleDefinitionLike[]> {
  const pack = opts.builtin === false ? [] : await language.loadBuiltinPack();
  const extra = opts.rulesDir ? await language.loadRulesDir(opts.rulesDir) : [];
  const seen = new Map<string, RuleDefinitionLike>();
  for (const d of [...pack, ...extra]) {
    const prev = seen.get(d.meta.id);
    if (prev) {
      throw new UsageError(
        `rule id ${d.meta.id} is defined twice: ${prev.meta.source.file} and ${d.meta.source.file}; rename the analyst rule (规则编号重复)`,
      );
    }
    seen.set(d.meta.id, d);
  }
  return [...seen.values()];
}

export function withConfig(defs: readonly RuleDefinitionLike[], config: FiscusConfig = EMPTY_CONFIG): LoadedRule[] {
  return defs.map((def) => {
    const o = ruleOverrides(config, def.meta.id);
    return { def, enabled: o.enabled, severity: o.severity ?? def.meta.severity, params: o.params };
  });
}

/** Select by id (`--rule`); an unknown id is a usage error that lists close matches. */
export function selectRules<T extends { def: RuleDefinitionLike } | RuleDefinitionLike>(all: readonly T[], ids: readonly string[] | undefined): T[] {
  if (!ids || ids.length === 0) return [...all];
  const idOf = (x: T) => ('def' in x ? x.def.meta.id : x.meta.id);
  const byId = new Map(all.map((x) => [idOf(x), x]));
  return ids.map((id) => {
    const hit = byId.get(id);
    if (!hit) {
      const near = [...byId.keys()].filter((k) => k.includes(id) || id.includes(k.split('.')[1] ?? k)).slice(0, 5);
      const hint = near.length ? `; did you mean ${near.join(', ')}?` : didYouMean(id, byId.keys());
      throw new UsageError(`unknown rule ${id}${hint} (fiscus rules list shows all)`);
    }
    return hit;
  });
}

/** Compile for the engine that will run it (`store.engine`, or `engineOf(dbPath)` before opening). */
export async function compileLoaded(
  rule: LoadedRule,
  extraParams: Record<string, string | number | boolean | string[]> = {},
  dialect: 'duckdb' | 'postgres' = 'duckdb',
): Promise<CompiledRule> {
  return language.compileRule(rule.def, { params: { ...rule.params, ...extraParams }, severity: rule.severity, dialect });
}


export interface RuleSetOptions {
  /** Deployment config (`--config`; default env FISCUS_CONFIG or ./fiscus.config.yaml if present). */
  configPath?: string;
  /** An analyst's folder of *.rule.yaml, loaded alongside the built-in pack. */
  rulesDir?: string;
}

/**
 * The pack as a deployment runs it: built-in rules (plus an analyst's folder) with the deployment
 * config applied. A misspelled rule id in the config is an error with a did-you-mean, as unknown
 * keys are. The one way the CLI, the API and the watcher load rules.
 */
export async function loadRuleSet(o: RuleSetOptions = {}): Promise<{ rules: LoadedRule[]; config: FiscusConfig }> {
  const config = loadConfig(resolveConfigPath(o.configPath));
  const defs = await loadDefinitions({ rulesDir: o.rulesDir });
  checkConfigRules(config, defs.map((d) => d.meta.id));
  return { rules: withConfig(defs, config), config };
}

/** `loadRuleSet`, then the selected rules (`ids`; default every enabled one) compiled for `engine`. */
export async function compileRuleSet(
  o: RuleSetOptions & { ids?: readonly string[] },
  engine: 'duckdb' | 'postgres',
): Promise<{ rules: CompiledRule[]; config: FiscusConfig }> {
  const { rules, config } = await loadRuleSet(o);
  const compiled: CompiledRule[] = [];
  for (const r of selectRules(rules, o.ids)) compiled.push(await compileLoaded(r, {}, engine));
  return { rules: compiled, config };
}
