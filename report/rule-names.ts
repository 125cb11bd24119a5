/** Rule ids → their names (拆分支付 / Split payment) for report tables and charts. */
import type { Lang } from './format.ts';
import { loadDefinitions } from '../rules/run/catalog.ts';
import type { Store } from '../engine/db.ts';
import { SOURCE_NAMES } from '../projects/records.ts';

export async function ruleNames(lang: Lang): Promise<(ruleId: string) => string> {
  const names = new Map<string, string>();
  // Flags raised by people, not by a rule (deputies' problems, projects/problems.ts).
  for (const [id, n] of Object.entries(SOURCE_NAMES)) names.set(id, n[lang]);
  try {
    for (const d of await loadDefinitions()) names.set(d.meta.id, d.meta.title[lang]);
  } catch {
    // A broken pack must not stop a report: fall back to rule ids.
  }
  return (id) => names.get(id) ?? id;
}

/** Rule ids → what readers call the rule's measure (`measure.label`), or undefined (a flag raised by people, or a rule without one). */
export async function measureLabels(): Promise<(ruleId: string) => { zh: string; en: string } | undefined> {
  const labels = new Map<string, { zh: string; en: string }>();
  try {
    for (const d of await loadDefinitions()) if (d.meta.measureLabel) labels.set(d.meta.id, d.meta.measureLabel);
  } catch {
    // As ruleNames: the measure's identifier then shows.
  }
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
