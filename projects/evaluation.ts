/**
 * The year-end evaluation: each supervision group's overall grade of its project
 * (好/较好/一般/差) and the deputies' satisfaction vote (满意/基本满意/不满意), both
 * recorded as events of the project's record in the keyed event log. One grade per
 * group and one vote per project and year: a second is refused (409), so the record
 * the congress hears is the one in the log.
 */
import { z } from 'zod';
import type { Store } from '../engine/db.ts';
import { appendFlagEvents, type FlagEvent } from '../engine/flag-events.ts';
import type { Actor } from '../tracker/index.ts';
import { FiscusError } from '../engine/errors.ts';
import { badRequest, conflict, ensureRecord } from './records.ts';

export const GRADES = ['好', '较好', '一般', '差'] as const;
export const GRADE_EN: Record<(typeof GRADES)[number], string> = { 好: 'good', 较好: 'fairly good', 一般: 'fair', 差: 'poor' };

export const gradeSchema = z.object({
  group_id: z.string().trim().min(1).max(64),
  grade: z.enum(GRADES),
  note: z.string().trim().min(1).max(4000).optional(),
});

const count = z.number().int().nonnegative().max(100000);
export const satisfactionSchema = z.object({
  satisfied: count,
  basic: count,
  unsatisfied: count,
  note: z.string().trim().min(1).max(4000).optional(),
}).refine((v) => v.satisfied + v.basic + v.unsatisfied > 0, 'a vote needs at least one ballot');

/** Roles that may record the committee's evaluation. */
export const EVALUATE_ROLES = ['committee', 'supervisor', 'admin'] as const;

function checkRole(actor: Actor): void {
  if (!(EVALUATE_ROLES as readonly string[]).includes(actor.role)) {
    throw new FiscusError(`角色 ${actor.role} 不能记录评价 / role ${actor.role} may not record an evaluation`, { code: 'FORBIDDEN', httpStatus: 403 });
  }
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw badRequest(`无效的输入 / invalid input: ${r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export async function gradeProject(store: Store, year: number, code: string, input: z.input<typeof gradeSchema>, actor: Actor, opts: { at?: Date } = {}): Promise<FlagEvent> {
  checkRole(actor);
  const v = parse(gradeSchema, input);
  const g = await store.one('SELECT 1 AS ok FROM projects.supervision_groups WHERE fiscal_year = $y AND project_code = $c AND group_id = $g', { y: year, c: code, g: v.group_id });
  if (!g) throw badRequest(`监督小组 ${v.group_id} 不监督 ${year} 年项目 ${code} / group ${v.group_id} does not follow ${code} in ${year}`);
  const id = await ensureRecord(store, year, code, opts.at);
  return store.exclusive(() => store.transaction(async () => {
    const dup = await store.one(`SELECT 1 AS ok FROM fiscus.flag_events WHERE flag_id = $id AND event_type = 'project.graded' AND ${store.dialect.jsonText('data', 'group_id')} = $g`, { id, g: v.group_id });
    if (dup) throw conflict(`监督小组 ${v.group_id} 已评价项目 ${code} / group ${v.group_id} has already graded ${code}`);
    const [e] = await appendFlagEvents(store, [{
      flag_id: id, event_type: 'project.graded', actor: actor.name, role: actor.role, at: opts.at, note: v.note ?? `总体评价：${v.grade}`,
      data: { fiscal_year: year, project_code: code, group_id: v.group_id, grade: v.grade },
    }]);
    return e!;
  }));
}

export async function voteSatisfaction(store: Store, year: number, code: string, input: z.input<typeof satisfactionSchema>, actor: Actor, opts: { at?: Date } = {}): Promise<FlagEvent> {
  checkRole(actor);
  const v = parse(satisfactionSchema, input);
  const id = await ensureRecord(store, year, code, opts.at);
  return store.exclusive(() => store.transaction(async () => {
    const dup = await store.one("SELECT 1 AS ok FROM fiscus.flag_events WHERE flag_id = $id AND event_type = 'project.satisfaction_voted'", { id });
    if (dup) throw conflict(`项目 ${code} 已进行满意度测评 / ${code} has already had its satisfaction vote`);
    const ballots = v.satisfied + v.basic + v.unsatisfied;
    const [e] = await appendFlagEvents(store, [{
      flag_id: id, event_type: 'project.satisfaction_voted', actor: actor.name, role: actor.role, at: opts.at,
      note: v.note ?? `满意度测评：满意${v.satisfied}、基本满意${v.basic}、不满意${v.unsatisfied}`,
      data: { fiscal_year: year, project_code: code, satisfied: v.satisfied, basic: v.basic, unsatisfied: v.unsatisfied, ballots },
    }]);
    return e!;
  }));
}
