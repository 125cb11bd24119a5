/**
 * Problems deputies find on site, and the mid-year inspection checklist (督查督办清单).
 *
 * A problem is an ordinary flag (rule_id `deputy.report`, or `deputy.checklist` for a
 * checklist item; entity the project) raised with a `flag.discovered` event whose data
 * says `source: "deputy"` and carries the deputy, the text, the photos (name + SHA-256)
 * and the location. From there it is the tracker's: confirmed and assigned to the
 * department with a deadline in working days, answered and closed through the same
 * states, deadlines, overdue scan and event log as a rule's flag. The rule runner never
 * touches these flags (it only marks flags of the rule it runs as not reproduced).
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../engine/db.ts';
import { appendFlagEvents } from '../engine/flag-events.ts';
import { WorkCalendar } from '../engine/calendar.ts';
import { isoDateSchema, todayInShanghai } from '../engine/dates.ts';
import { assignAll, performAction, documentRefSchema, type Actor, type ActionResult, type PerformOptions } from '../tracker/index.ts';
import { CHECKLIST_RULE, PROBLEM_RULE, badRequest, ensureRecord, loadProject, projectKey, type ProjectRow } from './records.ts';

const text = z.string().trim().min(1).max(4000);

export const locationSchema = z.object({
  address: z.string().trim().min(1).max(500).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lng: z.number().min(-180).max(180).optional(),
}).refine((l) => l.address !== undefined || (l.lat !== undefined && l.lng !== undefined), 'location needs an address or both lat and lng');

export const problemInputSchema = z.object({
  deputy_id: z.string().trim().min(1).max(64),
  text,
  photos: z.array(documentRefSchema).max(50).default([]),
  location: locationSchema.optional(),
  severity: z.enum(['high', 'medium', 'low']).default('medium'),
});
export type ProblemInput = z.input<typeof problemInputSchema>;

export const handOverSchema = z.object({
  workdays: z.number().int().min(1).max(250).describe('deadline: this many working days from today'),
  to: z.string().trim().min(1).max(64).optional().describe("agency or department; default the project's agency"),
  note: text.optional(),
});

export const checklistSchema = z.object({
  checklist_id: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'checklist_id: letters, digits, _ . -').optional(),
  due: isoDateSchema('due must be YYYY-MM-DD').optional(),
  workdays: z.number().int().min(1).max(250).optional(),
  items: z.array(z.object({ project_code: z.string().trim().min(1).max(64), text, deputy_id: z.string().trim().min(1).max(64).optional() })).min(1).max(500),
}).refine((c) => (c.due === undefined) !== (c.workdays === undefined), 'give exactly one of due and workdays');
export type ChecklistInput = z.input<typeof checklistSchema>;

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw badRequest(`无效的输入 / invalid input: ${r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
  return r.data;
}

type Deputy = { deputy_id: string; deputy_name: string; group_id: string };

/** The deputy must be in the project's supervision group of that year. */
export async function groupDeputy(store: Store, year: number, code: string, deputyId: string): Promise<Deputy> {
  const d = await store.one<Deputy>(
    'SELECT deputy_id, deputy_name, group_id FROM projects.supervision_groups WHERE fiscal_year = $y AND project_code = $c AND deputy_id = $d',
    { y: year, c: code, d: deputyId },
  );
  if (!d) throw badRequest(`代表 ${deputyId} 不在 ${year} 年项目 ${code} 的监督小组 / deputy ${deputyId} is not in the supervision group of ${code} (${year})`);
  return d;
}

function newFlagId(rule: string): string {
  return createHash('sha256').update(`${rule}\u0000${randomUUID()}`).digest('hex').slice(0, 32);
}

async function insertProblem(store: Store, p: ProjectRow, rule: string, severity: string, title: string, titleEn: string, at: Date): Promise<string> {
  const id = newFlagId(rule);
  const key = projectKey(p.fiscal_year, p.project_code);
  await store.run(
    `INSERT INTO fiscus.flags (flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name,
       region_code, agency_code, fiscal_year, period_start, period_end, measure_name, measure_value, measure_threshold, amount,
       evidence, evidence_query, status, reproduced, first_seen_at, last_seen_at)
     VALUES ($id, $rule, 1, $sev, $title, $title_en, 'project', $key, $name, $region, $agency, $year,
       CAST($day AS DATE), CAST($day AS DATE), NULL, NULL, NULL, NULL,
       CAST($evidence AS JSON), NULL, 'discovered', true, CAST($at AS TIMESTAMPTZ), CAST($at AS TIMESTAMPTZ))`,
    {
      id, rule, sev: severity, title, title_en: titleEn, key, name: p.project_name, region: p.region_code, agency: p.agency_code,
      year: p.fiscal_year, day: todayInShanghai(at), evidence: JSON.stringify([{ table: 'projects.projects', key }]), at: at.toISOString(),
    },
  );
  return id;
}

const short = (s: string, n = 40): string => (s.length > n ? `${s.slice(0, n)}…` : s);

export interface ReportedProblem { flag_id: string; project_code: string; fiscal_year: number; deputy: Deputy }

/** A deputy reports a problem found on site: a new flag in `discovered`, source deputy. */
export async function reportProblem(store: Store, year: number, code: string, input: ProblemInput, actor: Actor, opts: { at?: Date } = {}): Promise<ReportedProblem> {
  const v = parse(problemInputSchema, input);
  const at = opts.at ?? new Date();
  const p = await loadProject(store, year, code);
  const deputy = await groupDeputy(store, year, code, v.deputy_id);
  await ensureRecord(store, year, code, at);
  const flagId = await store.exclusive(() => store.transaction(async () => {
    const id = await insertProblem(store, p, PROBLEM_RULE, v.severity,
      `代表反映问题：${p.project_name} — ${short(v.text)}`, `Problem reported by a deputy: ${p.project_code} — ${short(v.text)}`, at);
    await appendFlagEvents(store, [{
      flag_id: id, event_type: 'flag.discovered', from_status: null, to_status: 'discovered', actor: actor.name, role: actor.role, at,
      note: v.text,
      data: {
        source: 'deputy', deputy_id: deputy.deputy_id, deputy_name: deputy.deputy_name, group_id: deputy.group_id,
        project_code: p.project_code, fiscal_year: year, photos: v.photos, location: v.location ?? null,
      },
    }]);
    return id;
  }));
  return { flag_id: flagId, project_code: code, fiscal_year: year, deputy };
}

/** The committee takes a deputy's problem up and hands it to the department: confirm, then assign with a deadline in working days. */
export async function handOverProblem(store: Store, flagId: string, input: z.input<typeof handOverSchema>, actor: Actor, opts: PerformOptions = {}): Promise<ActionResult[]> {
  const v = parse(handOverSchema, input);
  const cal = opts.calendar ?? (await WorkCalendar.load(store));
  const due = cal.addWorkdays(todayInShanghai(opts.at ?? new Date()), v.workdays);
  const confirmed = await performAction(store, flagId, { action: 'confirm', note: v.note }, actor, { ...opts, calendar: cal });
  const assigned = await performAction(store, flagId, { action: 'assign', to: v.to, due, note: v.note }, actor, { ...opts, calendar: cal });
  return [confirmed, assigned];
}

export interface ChecklistResult { checklist_id: string; due: string; flag_ids: string[]; assigned: ActionResult[] }

/**
 * The mid-year inspection checklist: one flag per item (`deputy.checklist`), each
 * confirmed, then handed over in one bulk assignment (tracker assignAll) with one deadline.
 */
export async function issueChecklist(store: Store, year: number, input: ChecklistInput, actor: Actor, opts: PerformOptions = {}): Promise<ChecklistResult> {
  const v = parse(checklistSchema, input);
  const at = opts.at ?? new Date();
  const cal = opts.calendar ?? (await WorkCalendar.load(store));
  const due = v.due ?? cal.addWorkdays(todayInShanghai(at), v.workdays!);
  if (due < todayInShanghai(at)) throw badRequest(`截止日期 ${due} 早于今天 / due date ${due} is in the past`);
  const checklistId = v.checklist_id ?? `DB${year}-${randomUUID().slice(0, 8)}`;
  const projects = new Map<string, ProjectRow>();
  for (const it of v.items) {
    if (!projects.has(it.project_code)) projects.set(it.project_code, await loadProject(store, year, it.project_code));
    if (it.deputy_id) await groupDeputy(store, year, it.project_code, it.deputy_id);
  }
  const dup = await store.one(`SELECT 1 AS ok FROM fiscus.flag_events WHERE event_type = 'flag.discovered' AND ${store.dialect.jsonText('data', 'checklist_id')} = $c`, { c: checklistId });
  if (dup) throw badRequest(`督查督办清单 ${checklistId} 已交办 / checklist ${checklistId} was already issued`);
  for (const code of projects.keys()) await ensureRecord(store, year, code, at);
  const ids = await store.exclusive(() => store.transaction(async () => {
    const out: string[] = [];
    for (const [n, it] of v.items.entries()) {
      const p = projects.get(it.project_code)!;
      const id = await insertProblem(store, p, CHECKLIST_RULE, 'medium',
        `督查督办清单 ${checklistId} 第${n + 1}项：${p.project_name} — ${short(it.text)}`, `Inspection checklist ${checklistId} item ${n + 1}: ${p.project_code} — ${short(it.text)}`, at);
      await appendFlagEvents(store, [{
        flag_id: id, event_type: 'flag.discovered', from_status: null, to_status: 'discovered', actor: actor.name, role: actor.role, at, note: it.text,
        data: { source: 'deputy', checklist_id: checklistId, item: n + 1, deputy_id: it.deputy_id ?? null, project_code: p.project_code, fiscal_year: year },
      }]);
      out.push(id);
    }
    return out;
  }));
  for (const id of ids) await performAction(store, id, { action: 'confirm', note: `督查督办清单 ${checklistId}` }, actor, { ...opts, calendar: cal });
  const assigned = await assignAll(store, { rule: CHECKLIST_RULE, due, note: `督查督办清单 ${checklistId}，限期 ${due} 反馈` }, actor, { ...opts, calendar: cal });
  // In the checklist's item order (assignAll goes by first seen, then flag id).
  const byId = new Map(assigned.map((a) => [a.flag.flag_id, a]));
  return { checklist_id: checklistId, due, flag_ids: ids, assigned: ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])) };
}
