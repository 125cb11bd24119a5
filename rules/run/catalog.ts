/**
 * Which rules a deployment runs: the built-in pack plus an analyst's
 * `--rules-dir`, compiled with the deployment config's severity and
 * parameter overrides. The rule language (rules/language) does the parsing
 * and compiling; this module only combines and selects.
 */
import { didYouMean } from '../../engine/did-you-mean.ts';
import { UsageError } from '../../engine/errors.ts';
import type { CompiledRule, RuleMeta, Severity } from '../types.ts';
import { EMPTY_CONFIG, ruleOverrides, type FiscusConfig } from './config.ts';

/** What rules/language/index.ts provides (see that module). */
export interface RuleDefinitionLike {
  meta: RuleMeta;
}
export interface LanguageModule {
  loadBuiltinPack(): RuleDefinitionLike[] | Promise<RuleDefinitionLike[]>;
  loadRulesDir(dir: string): RuleDefinitionLike[] | Promise<RuleDefinitionLike[]>;
  loadRuleFile(path: string, opts?: { builtin?: boolean }): RuleDefinitionLike | Promise<RuleDefinitionLike>;
  compileRule(
    def: RuleDefinitionLike,
    opts: { params?: Record<string, string | number | boolean | string[]>; severity?: Severity },
  ): CompiledRule | Promise<CompiledRule>;
}

let language: Promise<LanguageModule> | undefined;

/** The rule language, loaded on first use (commands that do not need rules never pay for it). */
export function languageModule(): Promise<LanguageModule> {
  // A variable specifier keeps this module independent of the language's exact typings.
  const spec = '../language/index.ts';
  language ??= import(spec) as Promise<LanguageModule>;
  return language;
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
  const lang = await languageModule();
  const pack = opts.builtin === false ? [] : await lang.loadBuiltinPack();
  const extra = opts.rulesDir ? await lang.loadRulesDir(opts.rulesDir) : [];
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

export async function compileLoaded(rule: LoadedRule, extraParams: Record<string, string | number | boolean | string[]> = {}): Promise<CompiledRule> {
  const lang = await languageModule();
  return lang.compileRule(rule.def, { params: { ...rule.params, ...extraParams }, severity: rule.severity });
}

