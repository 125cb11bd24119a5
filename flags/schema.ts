/**
 * The flag and alert of ../shared/FLAGS.md as zod schemas, and their TypeScript
 * types inferred from them (z.infer), so the contract, the OpenAPI document and
 * the code that builds the objects cannot drift apart. Every surface that prints
 * or serves a flag (CLI jsonl, GET /v1/flags, the alert feed, SSE, webhooks, the
 * tracker's views) builds it through flags/row.ts and flags/events.ts into these.
 */
import { z } from 'zod';
import { isoDateSchema } from '../engine/dates.ts';

export const SEVERITIES = ['high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ENTITY_TYPES = [
  'agency', 'budget_line', 'payment', 'payee', 'region', 'bond', 'allocation',
  'debt_service', 'transfer', 'asset', 'asset_change', 'enterprise',
  'project', // a livelihood project, key YEAR|PROJECT_CODE (projects/README.md)
] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/**
 * The one timestamp format of every output: ISO 8601 UTC with milliseconds,
 * as Date.prototype.toISOString writes it (`2026-03-08T02:00:00.000Z`).
 * Fixed precision, and lossless for the event log (it keys milliseconds).
 */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isoUtc = () => z.string().regex(ISO_UTC).describe('ISO 8601 UTC, milliseconds: 2026-03-08T02:00:00.000Z');
const isoDate = () => isoDateSchema().describe('YYYY-MM-DD');
const decimal = () => z.string().regex(/^-?\d+(\.\d+)?$/);

export const evidenceRefSchema = z.object({
  table: z.string(),
  key: z.string().describe('primary key; composite keys joined with |'),
});

/** A flag exactly as FLAGS.md writes it (what `fiscus flags --format jsonl` prints). */
export const flagSchema = z.object({
  flag_id: z.string(),
  rule_id: z.string(),
  rule_version: z.number().int(),
  severity: z.enum(SEVERITIES),
  title: z.string().describe('zh-CN'),
  title_en: z.string(),
  entity: z.object({ type: z.enum(ENTITY_TYPES), id: z.string(), name: z.string().nullable() }),
  region_code: z.string().nullable(),
  agency_code: z.string().nullable(),
  fiscal_year: z.number().int().nullable(),
  period: z.object({ start: isoDate().nullable(), end: isoDate().nullable() }),
  measure: z.object({ name: z.string().nullable(), value: z.string().nullable(), threshold: z.string().nullable() }),
  amount: decimal().nullable().describe('money involved, yuan, decimal string'),
  evidence: z.array(evidenceRefSchema),
  evidence_query: z.string().nullable().describe('for aggregate findings with thousands of rows: a read-only SELECT listing them'),
  first_seen_at: isoUtc(),
  status: z.string().describe('tracker status'),
});
export type FlagJson = z.infer<typeof flagSchema>;

/**
 * The flag as the API serves it (OpenAPI `Flag`): FLAGS.md's fields plus the
 * stored row's reproduction and tracker fields.
 */
export const flagRecordSchema = flagSchema
  .extend({
    reproduced: z.boolean().describe('false: the last rule run no longer raised it'),
    last_seen_at: isoUtc(),
    due_date: isoDate().nullable(),
    assigned_to: z.string().nullable(),
  })
  .meta({ id: 'Flag', description: 'A flag as in FLAGS.md, with reproduced, last_seen_at, due_date and assigned_to' });
export type FlagRecordJson = z.infer<typeof flagRecordSchema>;

/** The `event` of an alert (FLAGS.md); `fiscus track show` prints the same fields. */
export const flagEventSchema = z
  .object({
    id: z.string().describe('event id (unique; use it to de-duplicate)'),
    type: z.string().describe('flag.discovered, flag.assigned, flag.overdue, flag.escalated, flag.not_reproduced …'),
    seq: z.number().int().describe('only grows: resume after the last seq stored'),
    at: isoUtc(),
    actor: z.string(),
    role: z.string(),
    from_status: z.string().nullable(),
    to_status: z.string().nullable(),
    note: z.string().nullable(),
    data: z.unknown(),
  })
  .meta({ id: 'FlagEvent' });
export type FlagEventJson = z.infer<typeof flagEventSchema>;

/** An alert: the flag (current status) plus the event that changed it. Pull, SSE and webhooks. */
export const alertSchema = flagRecordSchema.extend({ event: flagEventSchema }).meta({ id: 'Alert' });
export type AlertJson = z.infer<typeof alertSchema>;
