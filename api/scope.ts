/**
 * What a caller may see. Analysts, supervisors and admins see every flag; an agency
 * token sees the flags of its own agency and, when it is a department (主管部门), of
 * the units under it (ref.agencies.dept_code) — by the flag's agency or by whom the
 * tracker assigned it to (flags/filter.ts agencyMatchSql, the same rule the tracker
 * applies to actions). Every flag-reading query ANDs this condition in SQL, so no
 * endpoint can forget it.
 */
import type { Params } from '../engine/db.ts';
import { agencyMatchSql } from '../flags/filter.ts';
import type { Principal, Role } from './tokens.ts';

export function flagScope(p: Principal): { sql: string; params: Params } {
  if (p.role !== 'agency') return { sql: 'TRUE', params: {} };
  // The tracker's rule, so the API shows an agency exactly the flags it may act on.
  return { sql: agencyMatchSql('scope_agency'), params: { scope_agency: p.agencyCode ?? '\u0000' } };
}

/** Route-level permissions. Per-action rules inside the tracker come on top. */
export const CAN = {
  readAlerts: ['portal', 'agency', 'analyst', 'supervisor', 'admin'],
  readFlags: ['agency', 'analyst', 'supervisor', 'admin'],
  // The issue: analysts read and query; supervisors act in the tracker (the tracker's own role table adds per-action rules).
  act: ['agency', 'supervisor', 'admin'],
  stats: ['agency', 'analyst', 'supervisor', 'admin'],
  query: ['analyst', 'supervisor', 'admin'],
  admin: ['admin'],
} as const satisfies Record<string, readonly Role[]>;
