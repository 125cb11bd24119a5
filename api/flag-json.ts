/**
 * The flag object of ../shared/FLAGS.md as the API serves it. The mapping itself is
 * the rule runner's (rules/run/flag-json.ts, shared with the CLI and the reports);
 * this module adds the zod schema that documents it in the OpenAPI document.
 * The API serves the `extended` form: FLAGS.md's fields plus reproduced, last_seen_at,
 * evidence_query, due_date and assigned_to.
 */
import { z } from 'zod';
export { FLAG_ROW_SELECT, flagRowToJson, type FlagJsonExtended, type FlagRow } from '../rules/run/flag-json.ts';

export const evidenceRefSchema = z.object({ table: z.string(), key: z.string().describe('primary key; composite keys joined with |') });

export const flagSchema = z
  .object({
    flag_id: z.string(),
    rule_id: z.string(),
    rule_version: z.number().int(),
    severity: z.enum(['high', 'medium', 'low']),
    title: z.string().describe('zh-CN'),
    title_en: z.string(),
    entity: z.object({ type: z.string(), id: z.string(), name: z.string().nullable() }),
    region_code: z.string().nullable(),
    agency_code: z.string().nullable(),
    fiscal_year: z.number().int().nullable(),
    period: z.object({ start: z.string().nullable(), end: z.string().nullable() }),
    measure: z.object({ name: z.string().nullable(), value: z.string().nullable(), threshold: z.string().nullable() }),
    amount: z.string().nullable().describe('money involved, yuan, decimal string'),
    evidence: z.array(evidenceRefSchema),
    first_seen_at: z.string().describe('ISO 8601 UTC'),
    status: z.string(),
    reproduced: z.boolean().describe('false: the last rule run no longer raised it'),
    last_seen_at: z.string(),
    evidence_query: z.string().nullable(),
    due_date: z.string().nullable(),
    assigned_to: z.string().nullable(),
  })
  .meta({ id: 'Flag', description: 'A flag as in FLAGS.md (extended)' });
