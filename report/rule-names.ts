/** Rule ids → their names (拆分支付 / Split payment) for report tables and charts. */
import type { Lang } from './format.ts';
import { loadDefinitions } from '../rules/run/catalog.ts';
import type { Store } from '../engine/db.ts';
import { SOURCE_NAMES } from '../projects/records.ts';
import type { RuleMeta } from '../rules/types.ts';

/** The rules' metadata; none when the pack cannot be read: a broken pack must not stop a report (names fall back to rule ids). */
async function ruleMetas(): Promise<RuleMeta[]> {
  try {
    return (await loadDefinitions()).map((d) => d.meta);
  } catch {
    return [];
  }
}

export async function ruleNames(lang: Lang): Promise<(ruleId: string) => string> {
  const names = new Map<string, string>();
  // Flags raised by people, not by a rule (deputies' problems, projects/problems.ts).
  for (const [id, n] of Object.entries(SOURCE_NAMES)) names.set(id, n[lang]);
  for (const m of await ruleMetas()) names.set(m.id, m.title[lang]);
  return (id) => names.get(id) ?? id;
}

/** Rule ids → what readers call the rule's measure (`measure.label`), or undefined (a flag raised by people, or a rule without one). */
export async function measureLabels(): Promise<(ruleId: string) => { zh: string; en: string } | undefined> {
  const labels = new Map<string, { zh: string; en: string }>();
  for (const m of await ruleMetas()) if (m.measureLabel) labels.set(m.id, m.measureLabel);
  return (id) => labels.get(id);
}

/**
 * Agency codes → names from ref.agencies, for the report's unit columns. An agency missing
 * from ref.agencies shows as its code, as in rule titles (`coalesce(ag.agency_name, agency_code)`).
 */
export async function agencyNames(store: Store): Promise<(code: string | null | undefined) => string> {
  const rows = await store.all<{ agency_code: string; agency_name: string }>('SELECT agency_code, agency_name FROM ref.agencies');
  const names = new Map(rows.map((r) => [r.agency_code, r.agency_name]));
  return (code) => (code ? (names.get(code) ?? code) : '—');
}

/**
 * Rules whose amount is how far a stock exceeds a line (debt ratio, debt limit, interest burden,
 * SOE leverage, losses: findings about a region or an enterprise), not money paid or moved.
 * Read from the flags themselves, so analysts' rules are classified too.
 */
export async function lineRules(store: Store): Promise<Set<string>> {
  const rows = await store.all<{ rule_id: string }>(
    "SELECT DISTINCT rule_id FROM fiscus.flags WHERE entity_type IN ('region', 'enterprise')",
  );
  return new Set(rows.map((r) => r.rule_id));
}
