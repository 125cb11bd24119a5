/**
 * Deployment configuration: which rules run, with which severity and
 * parameters, and which findings are allow-listed (accepted exceptions).
 *
 * Found at `--config FILE`, else env FISCUS_CONFIG, else ./fiscus.config.yaml
 * when present. Validated with zod; every error names the file and key path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { isoDateSchema } from '../../engine/dates.ts';
import { didYouMean } from '../../engine/did-you-mean.ts';
import { FiscusError } from '../../engine/errors.ts';
import type { RuleResultRow, Severity } from '../types.ts';

const isoDate = isoDateSchema('must be a date YYYY-MM-DD');

const paramValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

const sharePct = z.number().gt(0, 'must be a percentage above 0').max(100, 'must be a percentage ≤ 100');

const ruleSettings = z.strictObject({
  enabled: z.boolean().optional(),
  severity: z.enum(['high', 'medium', 'low']).optional(),
  params: z.record(z.string(), paramValue).optional(),
  /** Overrides `run.warn_flag_share_pct` for this rule. */
  warn_flag_share_pct: sharePct.optional(),
});

/**
 * Run-wide settings. `rules run` warns when a rule flags more than `warn_flag_share_pct`
 * percent of its input rows (a list no committee can work through usually means the rule
 * does not fit the data); inputs smaller than `warn_min_input_rows` are not judged (three
 * flags among ten region-years say nothing about precision).
 */
const runSettings = z.strictObject({
  warn_flag_share_pct: sharePct.optional().default(2),
  warn_min_input_rows: z.number().int('must be a whole number').min(0, 'must be ≥ 0').optional().default(100),
});

export const RUN_DEFAULTS = { warn_flag_share_pct: 2, warn_min_input_rows: 100 } as const;

const allowEntry = z
  .strictObject({
    rule: z.string().min(1).optional(),
    agency: z.string().min(1).optional(),
    payee_account: z.string().min(1).optional(),
    flag_id: z.string().min(1).optional(),
    reason: z.string().min(1, 'reason is required'),
    until: isoDate,
  })
  .refine((a) => a.rule || a.agency || a.payee_account || a.flag_id, {
    message: 'an allow entry must name at least one of rule, agency, payee_account, flag_id',
  });

export const configSchema = z.strictObject({
  run: runSettings.optional().default({ ...RUN_DEFAULTS }),
  rules: z.record(z.string(), ruleSettings).optional().default({}),
  allow: z.array(allowEntry).optional().default([]),
});

export type FiscusConfig = z.infer<typeof configSchema>;
export type AllowEntry = FiscusConfig['allow'][number];

export const EMPTY_CONFIG: FiscusConfig = { run: { ...RUN_DEFAULTS }, rules: {}, allow: [] };

/** A config file the deployment must fix: a usage error (exit 2), like a wrong option. */
export class ConfigError extends FiscusError {
  constructor(message: string) {
    super(message, { code: 'CONFIG_INVALID', exitCode: 2 });
  }
}

/** The keys allowed at a path of the config, for did-you-mean on an unknown key. */
function keysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(configSchema.shape);
  if (path[0] === 'run' && path.length === 1) return Object.keys(runSettings.shape);
  if (path[0] === 'rules' && path.length === 2) return Object.keys(ruleSettings.shape);
  if (path[0] === 'allow' && path.length === 2) return ['rule', 'agency', 'payee_account', 'flag_id', 'reason', 'until'];
  return [];
}

/** Where the config comes from: explicit file, env, or ./fiscus.config.yaml if present; undefined = none. */
export function resolveConfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  if (explicit) return resolve(explicit);
  if (env.FISCUS_CONFIG) return resolve(env.FISCUS_CONFIG);
  const dflt = resolve(cwd, 'fiscus.config.yaml');
  return existsSync(dflt) ? dflt : undefined;
}

/** Parse and validate YAML text; `file` is only used in messages. */
export function parseConfig(text: string, file: string): FiscusConfig {
  const doc = parseDocument(text, { schema: 'core', prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new ConfigError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: YAML error: ${e.message.split('\n')[0]}`);
  }
  const data = doc.toJS() ?? {};
  const res = configSchema.safeParse(data);
  if (!res.success) {
    const lines = res.error.issues.map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      // A missing key has no node: point at the nearest enclosing one.
      let line: number | undefined;
      for (let n = i.path.length; n >= 0 && line === undefined; n--) {
        line = lineOf(text, n ? doc.getIn(i.path.slice(0, n) as (string | number)[], true) : doc.contents);
      }
      let message = /received undefined/.test(i.message) ? 'is required' : i.message;
      if (i.code === 'unrecognized_keys') {
        const allowed = keysAt(i.path);
        message = i.keys.map((k) => `unknown key "${k}"${didYouMean(k, allowed)}`).join('; ') + (allowed.length ? ` (allowed: ${allowed.join(', ')})` : '');
      }
      return `${file}${line ? `:${line}` : ''}: ${path || '(root)'}: ${message}`;
    });
    throw new ConfigError(`invalid config:\n  ${lines.join('\n  ')}`);
  }
  return res.data;
}

function lineOf(text: string, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (!range) return undefined;
  return text.slice(0, range[0]).split('\n').length;
}

export function loadConfig(path: string | undefined): FiscusConfig & { file?: string } {
  if (!path) return { ...EMPTY_CONFIG };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return { ...parseConfig(text, path), file: path };
}

/**
 * A config that names a rule no definition has (`rules:` keys and `allow[].rule`) is
 * refused, with a did-you-mean: a misspelled id would otherwise silently leave the
 * rule at its defaults, or an allow entry matching nothing.
 */
export function checkConfigRules(config: FiscusConfig & { file?: string }, knownIds: Iterable<string>): void {
  const ids = new Set(knownIds);
  const file = config.file ?? 'config';
  let text = '';
  try {
    if (config.file) text = readFileSync(config.file, 'utf8');
  } catch {
    // Only for line numbers.
  }
  const lineOfId = (id: string): string => {
    const n = text.split('\n').findIndex((l) => l.includes(id));
    return n >= 0 ? `:${n + 1}` : '';
  };
  const problems: string[] = [];
  for (const id of Object.keys(config.rules)) {
    if (!ids.has(id)) problems.push(`${file}${lineOfId(id)}: rules.${id}: unknown rule "${id}"${didYouMean(id, ids)}`);
  }
  config.allow.forEach((a, n) => {
    if (a.rule !== undefined && !ids.has(a.rule)) problems.push(`${file}${lineOfId(a.rule)}: allow[${n}].rule: unknown rule "${a.rule}"${didYouMean(a.rule, ids)}`);
  });
  if (problems.length) throw new ConfigError(`invalid config (fiscus rules list shows the rule ids):\n  ${problems.join('\n  ')}`);
}

/** The deployment's overrides for one rule, for compileRule(def, {params, severity}). */
export function ruleOverrides(config: FiscusConfig, ruleId: string): { enabled: boolean; severity?: Severity; params: Record<string, string | number | boolean | string[]> } {
  const s = config.rules[ruleId];
  return { enabled: s?.enabled ?? true, severity: s?.severity, params: s?.params ?? {} };
}

/** Allow entries that can apply to `ruleId` at `asOf` (not expired: until ≥ as-of). */
export function activeAllowEntries(config: FiscusConfig, ruleId: string, asOf: string): AllowEntry[] {
  return config.allow.filter((a) => (a.rule === undefined || a.rule === ruleId) && a.until >= asOf);
}

/** The first allow entry that matches every field it gives, or undefined. */
export function matchAllow(entries: readonly AllowEntry[], flag: { flag_id: string; row: RuleResultRow }): AllowEntry | undefined {
  return entries.find((a) => {
    if (a.flag_id !== undefined && a.flag_id !== flag.flag_id) return false;
    if (a.agency !== undefined && a.agency !== flag.row.agency_code) return false;
    if (a.payee_account !== undefined && !payeeMatches(a.payee_account, flag.row)) return false;
    return true;
  });
}

/**
 * A finding concerns a payee account when the rule says so in `vars.payee_account`,
 * or when its entity is a payee (`agency_code|payee_account`).
 */
function payeeMatches(acct: string, row: RuleResultRow): boolean {
  if (row.vars.payee_account !== undefined && row.vars.payee_account !== null && String(row.vars.payee_account) === acct) return true;
  if (row.entity_type === 'payee') return row.entity_id === acct || row.entity_id.endsWith(`|${acct}`);
  return false;
}
