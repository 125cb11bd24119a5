/**
 * Filter options of the listing commands (`fiscus flags`, `fiscus track list`):
 * one text form (repeatable, or comma-separated: `--status assigned,rectifying`)
 * and one rule for unknown values: a usage error (exit 2) that names the option
 * and says what was probably meant. A filter that silently matches nothing
 * ("(no rows)", exit 0) is how a typo goes unnoticed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { didYouMean } from '../engine/did-you-mean.ts';
import type { Store } from '../engine/db.ts';
import { UsageError } from '../engine/errors.ts';

/** `['a,b', 'c']` → `['a', 'b', 'c']`; undefined when nothing was given. */
export function splitList(values: string | readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const out = (typeof values === 'string' ? [values] : values).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return out.length ? out : undefined;
}

/** Each value must be one of `allowed`. */
export function checkChoices<T extends string>(option: string, values: readonly string[] | undefined, allowed: readonly T[]): T[] | undefined {
  if (!values) return undefined;
  for (const v of values) {
    if (!(allowed as readonly string[]).includes(v)) {
      throw new UsageError(`${option}: unknown value "${v}" (one of ${allowed.join(', ')})${didYouMean(v, allowed)}`);
    }
  }
  return values as T[];
}

/** Each value must be in `known` (rule ids, agency codes in the database). */
export function checkKnown(option: string, values: readonly string[] | undefined, known: ReadonlySet<string>, what: string, hint: string): void {
  for (const v of values ?? []) {
    if (!known.has(v)) throw new UsageError(`${option}: unknown ${what} "${v}"${didYouMean(v, known)} (${hint})`);
  }
}

const PACK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../rules/pack');

/** Ids of the built-in rules, read from the `id:` line of each rules/pack/**\/*.rule.yaml (no compiling). */
export function packRuleIds(dir = PACK_DIR): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.rule.yaml')) continue;
    const m = /^id:\s*["']?([\w.-]+)/m.exec(readFileSync(join(e.parentPath, e.name), 'utf8'));
    if (m) out.push(m[1]!);
  }
  return out;
}

/**
 * Rule ids a filter can mean: the built-in pack, plus every rule that ever ran or
 * raised a flag in this database (an analyst's --rules-dir rules included).
 */
export async function knownRuleIds(store: Store): Promise<Set<string>> {
  const rows = await store.all<{ id: string }>(
    'SELECT rule_id AS id FROM fiscus.flags UNION SELECT rule_id AS id FROM fiscus.rule_run_results',
  );
  return new Set([...packRuleIds(), ...rows.map((r) => r.id)]);
}

/** Agency or department codes a filter can mean: ref.agencies and every code on a flag. */
export async function knownAgencyCodes(store: Store): Promise<Set<string>> {
  const rows = await store.all<{ code: string }>(
    `SELECT agency_code AS code FROM ref.agencies
     UNION SELECT dept_code FROM ref.agencies WHERE dept_code IS NOT NULL
     UNION SELECT agency_code FROM fiscus.flags WHERE agency_code IS NOT NULL
     UNION SELECT assigned_to FROM fiscus.flags WHERE assigned_to IS NOT NULL`,
  );
  return new Set(rows.map((r) => r.code));
}

/** Region codes a filter can mean: ref.regions and every region on a flag. */
export async function knownRegionCodes(store: Store): Promise<Set<string>> {
  const rows = await store.all<{ code: string }>(
    'SELECT region_code AS code FROM ref.regions UNION SELECT region_code FROM fiscus.flags WHERE region_code IS NOT NULL',
  );
  return new Set(rows.map((r) => r.code));
}
