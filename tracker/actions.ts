/**
 * The input of one tracker action, as the CLI and `POST /v1/flags/{id}/actions`
 * accept it: a discriminated union on `action`, each with its own fields.
 * Money is a decimal string (yuan, at most 2 decimals); dates are YYYY-MM-DD
 * (Asia/Shanghai calendar days).
 */
import { z } from 'zod';
import { isoDateSchema } from '../engine/dates.ts';

const isoDate = isoDateSchema('date must be YYYY-MM-DD');
const money = z.string().regex(/^\d{1,16}(\.\d{1,2})?$/, 'amount must be a non-negative decimal string with at most 2 decimals, e.g. "12000.50"');
const note = z.string().trim().min(1).max(4000);
const agencyCode = z.string().trim().min(1).max(64);

/** An evidence document, referenced by name and SHA-256 of its bytes (the file itself is archived elsewhere). */
export const documentRefSchema = z.object({
  name: z.string().trim().min(1).max(500),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
  bytes: z.number().int().nonnegative().optional(),
});
export type DocumentRef = z.infer<typeof documentRefSchema>;

export const milestoneSchema = z.object({ date: isoDate, task: z.string().trim().min(1).max(1000) });
export type Milestone = z.infer<typeof milestoneSchema>;

const count = z.number().int().nonnegative();

export const trackActionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('confirm'), note: note.optional() }),
  z.object({ action: z.literal('dismiss'), note: note.describe('reason for dismissing (required)') }),
  z.object({ action: z.literal('keep'), note: note.describe('why the flag stays open although no longer reproduced') }),
  z.object({
    action: z.literal('assign'),
    to: agencyCode.optional().describe("agency or department code; default: the flag's agency"),
    due: isoDate.optional().describe('due date; default: today + the working days configured for the severity'),
    note: note.optional(),
  }),
  z.object({ action: z.literal('explain'), note: note.describe('the unit’s explanation'), documents: z.array(documentRefSchema).max(100).optional() }),
  z.object({ action: z.literal('accept-explanation'), note: note.optional() }),
  z.object({ action: z.literal('reject-explanation'), note: note.describe('why the explanation is rejected'), due: isoDate.optional() }),
  z
    .object({
      action: z.literal('start-rectification'),
      category: z.enum(['immediate', 'phased', 'ongoing']).describe('immediate 立行立改 / phased 分阶段整改 / ongoing 持续整改'),
      timetable: z.array(milestoneSchema).max(100).optional(),
      note: note.optional(),
    })
    .refine((v) => v.category !== 'ongoing' || (v.timetable?.length ?? 0) > 0, {
      message: 'ongoing rectification (持续整改) needs a timetable: at least one {date, task} milestone',
      path: ['timetable'],
    }),
  z.object({
    action: z.literal('report-rectified'),
    note: note.describe('what was done'),
    amount_recovered: money.optional().describe('money recovered (追回/收回), yuan'),
    amount_regularised: money.optional().describe('money regularised (规范/调账), yuan'),
    documents: z.array(documentRefSchema).max(100).optional(),
  }),
  z.object({ action: z.literal('verify'), note: note.optional() }),
  z.object({ action: z.literal('reopen'), note: note.describe('why the flag is reopened'), due: isoDate.optional() }),
  z.object({ action: z.literal('extend'), due: isoDate, note: note.describe('reason for the extension') }),
  z
    .object({
      action: z.literal('vote'),
      satisfied: count.describe('满意'),
      basic: count.describe('基本满意'),
      unsatisfied: count.describe('不满意'),
      members: z.number().int().positive().describe('number of committee members (组成人员)'),
      note: note.optional(),
    })
    .refine((v) => v.satisfied + v.basic + v.unsatisfied <= v.members, {
      message: 'satisfied + basic + unsatisfied cannot exceed members',
      path: ['members'],
    }),
]);
export type TrackAction = z.infer<typeof trackActionSchema>;
