/** Rule ids → their names (拆分支付 / Split payment) for report tables and charts. */
import type { Lang } from './format.ts';
import { loadDefinitions } from '../rules/run/catalog.ts';

export async function ruleNames(lang: Lang): Promise<(ruleId: string) => string> {
  const names = new Map<string, string>();
  try {
    for (const d of await loadDefinitions()) names.set(d.meta.id, d.meta.title[lang]);
  } catch {
    // A broken pack must not stop a report: fall back to rule ids.
  }
  return (id) => names.get(id) ?? id;
}
