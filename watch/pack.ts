/**
 * The rules the watcher re-runs after a batch: the built-in pack (plus an analyst's
 * rules folder) with the deployment config, as `fiscus rules run` and POST /v1/rules/run
 * load them (rules/run/catalog.ts compileRuleSet); the runner then decides per rule what to evaluate (incremental, skip, full). Compiling the pack takes about a second, so it is compiled once and again
 * only when the config file changes (its size or mtime).
 */
import { statSync } from 'node:fs';
import type { Engine } from '../engine/sql-dialect.ts';
import type { CompiledRule } from '../rules/types.ts';
import { compileRuleSet } from '../rules/run/catalog.ts';
import { resolveConfigPath, type FiscusConfig } from '../rules/run/config.ts';

export interface PackOptions {
  /** Deployment config (default: env FISCUS_CONFIG or ./fiscus.config.yaml if present). */
  configPath?: string;
  /** An analyst's folder of *.rule.yaml, loaded alongside the built-in pack. */
  rulesDir?: string;
  /** Only these rule ids (`--rule`); default every enabled rule. An unknown id fails with a did-you-mean. */
  ruleIds?: string[];
}

export interface LoadedPack {
  rules: CompiledRule[];
  config: FiscusConfig;
}

export class RulePack {
  private cached?: { key: string; pack: LoadedPack };

  constructor(
    private readonly engine: Engine,
    private readonly opts: PackOptions = {},
  ) {}

  /** The compiled rules; recompiled when the config file changed since the last call. Throws for a bad config. */
  async load(): Promise<LoadedPack> {
    const file = resolveConfigPath(this.opts.configPath);
    const key = configKey(file);
    if (this.cached?.key === key) return this.cached.pack;
    const pack = await compileRuleSet({ configPath: file, rulesDir: this.opts.rulesDir, ids: this.opts.ruleIds }, this.engine);
    this.cached = { key, pack };
    return pack;
  }
}

function configKey(file: string | undefined): string {
  if (!file) return '-';
  try {
    const st = statSync(file);
    return `${file}|${st.size}|${st.mtimeMs}`;
  } catch {
    return `${file}|missing`; // loadConfig says why
  }
}
