/**
 * Taking one closed-loop action on a flag: check who may, check the state
 * machine, then update `fiscus.flags` and append the event(s) to the
 * hash-chained log in ONE transaction, so the state and its history never
 * disagree.
 */
import { z } from 'zod';
import { todayInShanghai, WorkCalendar, type IsoDate } from '../engine/calendar.ts';
import type { Store } from '../engine/db.ts';
import { FiscusError } from '../engine/errors.ts';
import { appendFlagEvents, type FlagEvent, type NewFlagEvent } from '../engine/flag-events.ts';
import { trackActionSchema, type TrackAction } from './actions.ts';
import { resolveConfig, type TrackerConfig } from './config.ts';
import { isOnTime } from './deadlines.ts';
import { fromFen, toFen } from './money.ts';
import { agencyMatchSql, filterSql } from '../flags/filter.ts';
import { RECORD_RULE } from '../projects/records.ts';
import { actionsFor, loadRawFlags, toTracked, type RawFlag, type TrackedFlag } from './flags.ts';
import { ACTION_DEFS, allowedActions, describeActions, ROLES, statusLabel, type Role, type Status } from './states.ts';

export interface Actor {
  name: string;
  role: Role;
  /** Required for role agency: the actor's agency or department code. */
  agencyCode?: string;
}

export const actorSchema = z.object({
  name: z.string().trim().min(1).max(200),
  role: z.enum(ROLES),
  agencyCode: z.string().trim().min(1).max(64).optional(),
});

export interface PerformOptions {
  /** Event time; defaults to now. For imports of historical records and tests. */
  at?: Date;
  config?: Partial<TrackerConfig>;
  calendar?: WorkCalendar;
}

export interface ActionResult {
  flag: TrackedFlag;
  /** The action's own event. */
  event: FlagEvent;
  /** Every event appended (a failing vote also appends flag.escalated). */
  events: FlagEvent[];
}

export function badInput(message: string, details?: unknown): FiscusError {
  return new FiscusError(message, { code: 'BAD_INPUT', httpStatus: 400, exitCode: 2, details });
}

export function parseAction(input: unknown): TrackAction {
  const r = trackActionSchema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
    throw badInput(`无效的操作参数 / invalid action input: ${msg}`, r.error.issues);
  }
  return r.data;
}

function parseActor(actor: unknown): Actor {
  const r = actorSchema.safeParse(actor);
  if (!r.success) throw badInput(`invalid actor: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (r.data.role === 'agency' && !r.data.agencyCode) throw badInput('an agency actor needs its agency code (agencyCode / --agency-code)');
  return r.data;
}

interface Ctx {
  store: Store;
  cal: WorkCalendar;
  cfg: TrackerConfig;
  at: Date;
  today: IsoDate;
}

async function makeCtx(store: Store, opts: PerformOptions): Promise<Ctx> {
  const at = opts.at ?? new Date();
  return { store, cal: opts.calendar ?? (await WorkCalendar.load(store)), cfg: resolveConfig(opts.config), at, today: todayInShanghai(at) };
}

export async function performAction(
  store: Store,
  flagId: string,
  input: TrackAction | unknown,
  actor: Actor,
  opts: PerformOptions = {},
): Promise<ActionResult> {
  const action = parseAction(input);
  const who = parseActor(actor);
  // Read-decide-write: the Store's one exclusive section (rule runs, ingests and scans wait, and we wait for them).
  return store.exclusive(async () => {
    const ctx = await makeCtx(store, opts);
    const events = await store.transaction(() => applyAction(ctx, flagId, action, who));
    return { flag: await reload(ctx, flagId), event: events[0], events };
  });
}

export interface BulkAssignInput {
  rule?: string;
  agency?: string;
  to?: string;
  due?: string;
  note?: string;
}

/** Assign every confirmed flag of a rule and/or agency; one event per flag, all in one transaction. */
export async function assignAll(store: Store, sel: BulkAssignInput, actor: Actor, opts: PerformOptions = {}): Promise<ActionResult[]> {
  if (!sel.rule && !sel.agency) throw badInput('bulk assign needs --rule and/or --agency');
  const action = parseAction({ action: 'assign', to: sel.to, due: sel.due, note: sel.note });
  const who = parseActor(actor);
  return store.exclusive(async () => {
    const ctx = await makeCtx(store, opts);
    const where = filterSql({ status: ['confirmed'], rule: sel.rule ? [sel.rule] : undefined, agency: sel.agency ? [sel.agency] : undefined });
    const targets = await loadRawFlags(store, where.conds.join(' AND '), where.params);
    const perFlag = await store.transaction(async () => {
      const out: { id: string; events: FlagEvent[] }[] = [];
      for (const t of targets) out.push({ id: t.flag_id, events: await applyAction(ctx, t.flag_id, action, who) });
      return out;
    });
    const results: ActionResult[] = [];
    for (const r of perFlag) results.push({ flag: await reload(ctx, r.id), event: r.events[0], events: r.events });
    return results;
  });
}

async function reload(ctx: Ctx, flagId: string): Promise<TrackedFlag> {
  const [raw] = await loadRawFlags(ctx.store, 'f.flag_id = $id', { id: flagId });
  return toTracked(raw, ctx.cal, ctx.cfg, ctx.today);
}

export async function actorMayActOn(store: Store, flagId: string, agencyCode: string): Promise<boolean> {
  const row = await store.one(`SELECT 1 AS ok FROM fiscus.flags f WHERE f.flag_id = $id AND ${agencyMatchSql('code')}`, {
    id: flagId,
    code: agencyCode,
  });
  return row !== undefined;
}

function defaultDue(ctx: Ctx, severity: string): IsoDate {
  const days = ctx.cfg.dueWorkdays[severity] ?? ctx.cfg.dueWorkdays.medium ?? 20;
  return ctx.cal.addWorkdays(ctx.today, days);
}

function requireNotPast(ctx: Ctx, due: IsoDate): void {
  if (due < ctx.today) throw badInput(`截止日期 ${due} 早于今天 ${ctx.today} / due date ${due} is before today ${ctx.today}`);
}

async function checkAgencyExists(store: Store, code: string): Promise<void> {
  const row = await store.one<{ n: string; hit: string }>(
    'SELECT count(*) AS n, count(*) FILTER (WHERE agency_code = $c) AS hit FROM ref.agencies',
    { c: code },
  );
  // Without a ref.agencies catalogue there is nothing to check against.
  if (row && Number(row.n) > 0 && Number(row.hit) === 0) {
    throw badInput(`单位代码 ${code} 不在 ref.agencies 中 / agency ${code} is not in ref.agencies`);
  }
}

/** Check and apply one action inside the caller's transaction; returns the appended events. */
async function applyAction(ctx: Ctx, flagId: string, action: TrackAction, actor: Actor): Promise<FlagEvent[]> {
  const { store, cal, today } = ctx;
  const [raw] = await loadRawFlags(store, 'f.flag_id = $id', { id: flagId });
  if (!raw) throw new FiscusError(`标记不存在 / no flag ${flagId}`, { code: 'NOT_FOUND', httpStatus: 404 });
  const name = action.action;
  const def = ACTION_DEFS[name];

  if (!def.roles.includes(actor.role)) {
    throw new FiscusError(
      `角色 ${actor.role} 不能执行「${def.zh}」/ role ${actor.role} may not ${name} (allowed: ${def.roles.join(', ')})`,
      { code: 'FORBIDDEN', httpStatus: 403 },
    );
  }
  if (actor.role === 'agency' && !(await actorMayActOn(store, flagId, actor.agencyCode!))) {
    throw new FiscusError(`单位 ${actor.agencyCode} 无权处理标记 ${flagId} / agency ${actor.agencyCode} may not act on flag ${flagId}`, {
      code: 'FORBIDDEN',
      httpStatus: 403,
    });
  }
  if (raw.rule_id === RECORD_RULE) {
    throw new FiscusError(
      `标记 ${flagId} 是民生实事项目的记录，不是问题线索，不能执行「${def.zh}」；项目的表决、进展、评议和满意度测评通过 fiscus projects 记录。 / ` +
        `Flag ${flagId} is a livelihood project's record, not a finding: it cannot be ${name}ed. The project's vote, progress, grades and satisfaction vote are recorded with fiscus projects.`,
      { code: 'NOT_A_FINDING', httpStatus: 409, details: { rule_id: raw.rule_id, allowed: [] } },
    );
  }
  const allowed = actionsFor(raw);
  if (!allowed.includes(name)) throw illegal(raw, name, allowed);

  const from = raw.status as Status;
  let to: Status = def.to === 'same' ? from : def.to;
  let due = raw.due_date;
  let assignedTo = raw.assigned_to;
  const data: Record<string, unknown> = {};
  if (actor.role === 'agency') data.actor_agency = actor.agencyCode;
  else if (def.unit) data.on_behalf_of = raw.assigned_to ?? raw.agency_code;
  const extra: NewFlagEvent[] = [];

  switch (action.action) {
    case 'confirm':
    case 'accept-explanation':
    case 'verify':
      break;
    case 'dismiss':
      data.reproduced = raw.reproduced;
      break;
    case 'keep':
      data.reproduced = raw.reproduced;
      break;
    case 'assign': {
      const target = action.to ?? raw.agency_code;
      if (!target) throw badInput(`标记 ${flagId} 没有所属单位，请指定交办对象 / flag ${flagId} has no agency: give the unit to assign to (--to)`);
      await checkAgencyExists(store, target);
      due = action.due ?? defaultDue(ctx, raw.severity);
      requireNotPast(ctx, due);
      assignedTo = target;
      Object.assign(data, { assigned_to: target, due_date: due, due_default: action.due === undefined });
      break;
    }
    case 'explain':
    case 'report-rectified': {
      Object.assign(data, {
        due_date: raw.due_date,
        on_time: raw.due_date ? isOnTime(cal, raw.due_date, today) : null,
        documents: action.documents ?? [],
      });
      if (action.action === 'report-rectified') {
        data.amount_recovered = fromFen(toFen(action.amount_recovered ?? '0'));
        data.amount_regularised = fromFen(toFen(action.amount_regularised ?? '0'));
      }
      break;
    }
    case 'reject-explanation':
      if (action.due) {
        requireNotPast(ctx, action.due);
        due = action.due;
      }
      Object.assign(data, { due_date: due, previous_due: raw.due_date });
      break;
    case 'start-rectification':
      Object.assign(data, { category: action.category, timetable: action.timetable ?? [] });
      break;
    case 'reopen': {
      due = action.due ?? defaultDue(ctx, raw.severity);
      requireNotPast(ctx, due);
      assignedTo = raw.assigned_to ?? raw.agency_code;
      Object.assign(data, { due_date: due, assigned_to: assignedTo, previous_due: raw.due_date });
      break;
    }
    case 'extend': {
      if (!raw.due_date) throw badInput(`标记 ${flagId} 没有截止日期 / flag ${flagId} has no due date to extend`);
      if (action.due <= raw.due_date) {
        throw badInput(`延期后的日期 ${action.due} 须晚于原截止日期 ${raw.due_date} / an extension must move the due date later than ${raw.due_date}`);
      }
      due = action.due;
      Object.assign(data, { from_due: raw.due_date, to_due: action.due });
      break;
    }
    case 'vote': {
      const favourable = action.satisfied + action.basic;
      // Fuxin: 满意 + 基本满意 must exceed half of the members.
      const passed = favourable * 2 > action.members;
      const failing = Number(raw.failing_votes ?? 0) + (passed ? 0 : 1);
      Object.assign(data, {
        satisfied: action.satisfied,
        basic: action.basic,
        unsatisfied: action.unsatisfied,
        members: action.members,
        present: action.satisfied + action.basic + action.unsatisfied,
        passed,
        failing_votes: failing,
      });
      if (!passed) {
        to = 'rectifying';
        const level = failing >= 2 ? 'inquiry' : 'candidate';
        extra.push({
          flag_id: flagId,
          event_type: 'flag.escalated',
          actor: actor.name,
          role: actor.role,
          at: ctx.at,
          note:
            level === 'inquiry'
              ? `第${failing}次满意度测评未过半数，提请质询或特定问题调查 / vote failed again (${failing}): marked for inquiry`
              : '满意度测评未过半数：重新整改并在下次会议报告，列为质询/特定问题调查候选 / vote failed: rectify again and re-report; inquiry candidate',
          data: { level, failing_votes: failing, favourable, members: action.members },
        });
      }
      break;
    }
  }

  if (to !== from || due !== raw.due_date || assignedTo !== raw.assigned_to) {
    const updated = await store.all(
      `UPDATE fiscus.flags SET status = $to, due_date = $due::DATE, assigned_to = $assigned
       WHERE flag_id = $id AND status = $from RETURNING flag_id`,
      { to, due, assigned: assignedTo, id: flagId, from },
    );
    if (updated.length !== 1) throw illegal({ ...raw, status: 'changed concurrently' }, name, []);
  }
  return appendFlagEvents(store, [
    {
      flag_id: flagId,
      event_type: def.event,
      from_status: from,
      to_status: to === from && def.to === 'same' ? null : to,
      actor: actor.name,
      role: actor.role,
      at: ctx.at,
      note: action.note ?? null,
      data: Object.keys(data).length ? data : null,
    },
    ...extra,
  ]);
}

function illegal(raw: Pick<RawFlag, 'flag_id' | 'status'>, action: string, allowed: ReturnType<typeof allowedActions>): FiscusError {
  const d = describeActions(allowed);
  return new FiscusError(
    `标记 ${raw.flag_id} 当前状态为「${statusLabel(raw.status)}」(${raw.status})，不能执行「${ACTION_DEFS[action as keyof typeof ACTION_DEFS]?.zh ?? action}」(${action})；` +
      `可执行：${d.zh}。 / Flag ${raw.flag_id} is ${raw.status}; "${action}" is not allowed. Allowed next: ${d.en}.`,
    { code: 'ILLEGAL_TRANSITION', httpStatus: 409, details: { status: raw.status, allowed } },
  );
}
