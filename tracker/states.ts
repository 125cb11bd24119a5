/**
 * The closed-loop state machine (发现问题—交办问题—追踪整改—落实反馈).
 *
 * One table says, for every action, which states it may start from, where it
 * leads, which event it records and who may take it. Everything else (the
 * CLI, the API, the refusal messages) reads this table, so the diagram in
 * tracker/README.md and the code cannot drift apart.
 */

export const STATUSES = [
  'discovered',
  'confirmed',
  'dismissed',
  'assigned',
  'explained',
  'closed_explained',
  'rectifying',
  'rectified',
  'verified',
] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_LABELS: Record<Status, { zh: string; en: string }> = {
  discovered: { zh: '发现', en: 'discovered' },
  confirmed: { zh: '已确认', en: 'confirmed' },
  dismissed: { zh: '已排除', en: 'dismissed' },
  assigned: { zh: '已交办', en: 'assigned' },
  explained: { zh: '已说清(待认定)', en: 'explained (awaiting decision)' },
  closed_explained: { zh: '说清销号', en: 'closed as explained' },
  rectifying: { zh: '整改中', en: 'rectifying' },
  rectified: { zh: '已整改(待验收)', en: 'rectified (awaiting verification)' },
  verified: { zh: '已销号', en: 'verified and closed' },
};

/** States in which the loop is still running (a rule that stops reproducing the flag needs a decision). */
export const OPEN_STATUSES: readonly Status[] = ['discovered', 'confirmed', 'assigned', 'explained', 'rectifying', 'rectified'];
/** States in which the unit owes a response by the due date (the deadline clock runs). */
export const CLOCK_STATUSES: readonly Status[] = ['assigned', 'rectifying'];

export const ROLES = ['committee', 'supervisor', 'agency', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = [
  'confirm',
  'dismiss',
  'keep',
  'assign',
  'explain',
  'accept-explanation',
  'reject-explanation',
  'start-rectification',
  'report-rectified',
  'verify',
  'reopen',
  'extend',
  'vote',
] as const;
export type ActionName = (typeof ACTIONS)[number];

export interface ActionDef {
  /** States the action may start from. */
  from: readonly Status[];
  /** Resulting state; 'same' = no state change (the event is still recorded). */
  to: Status | 'same';
  event: string;
  roles: readonly Role[];
  /** The responsible unit's own step (an agency actor may take only these). */
  unit: boolean;
  zh: string;
}

const DECIDERS: readonly Role[] = ['committee', 'supervisor', 'admin'];
const SCREENERS: readonly Role[] = ['committee', 'supervisor', 'analyst', 'admin'];
// The budget working committee's clerks enter units' paper replies, so a supervisor may record a unit step on its behalf.
const UNIT: readonly Role[] = ['agency', 'supervisor', 'admin'];

export const ACTION_DEFS: Record<ActionName, ActionDef> = {
  confirm: { from: ['discovered'], to: 'confirmed', event: 'flag.confirmed', roles: SCREENERS, unit: false, zh: '确认' },
  // Also allowed from any open state while the flag is no longer reproduced (see allowedActions).
  dismiss: { from: ['discovered', 'confirmed'], to: 'dismissed', event: 'flag.dismissed', roles: SCREENERS, unit: false, zh: '排除' },
  keep: { from: OPEN_STATUSES, to: 'same', event: 'flag.kept', roles: SCREENERS, unit: false, zh: '保留(不再复现)' },
  assign: { from: ['confirmed'], to: 'assigned', event: 'flag.assigned', roles: DECIDERS, unit: false, zh: '交办' },
  explain: { from: ['assigned'], to: 'explained', event: 'flag.explained', roles: UNIT, unit: true, zh: '说明情况' },
  'accept-explanation': { from: ['explained'], to: 'closed_explained', event: 'flag.explanation_accepted', roles: DECIDERS, unit: false, zh: '认定说清' },
  'reject-explanation': { from: ['explained'], to: 'assigned', event: 'flag.explanation_rejected', roles: DECIDERS, unit: false, zh: '不予认定' },
  'start-rectification': { from: ['assigned'], to: 'rectifying', event: 'flag.rectification_started', roles: UNIT, unit: true, zh: '开始整改' },
  'report-rectified': { from: ['rectifying'], to: 'rectified', event: 'flag.rectified', roles: UNIT, unit: true, zh: '报告整改完成' },
  verify: { from: ['rectified'], to: 'verified', event: 'flag.verified', roles: DECIDERS, unit: false, zh: '验收销号' },
  reopen: { from: ['rectified', 'verified', 'closed_explained'], to: 'assigned', event: 'flag.reopened', roles: DECIDERS, unit: false, zh: '重新交办' },
  extend: { from: ['assigned', 'explained', 'rectifying'], to: 'same', event: 'flag.extended', roles: DECIDERS, unit: false, zh: '延期' },
  // A failing vote sends the report back (rectified → rectifying); a passing one changes nothing.
  vote: { from: ['rectified'], to: 'same', event: 'flag.voted', roles: DECIDERS, unit: false, zh: '满意度测评' },
};

export function isStatus(s: string): s is Status {
  return (STATUSES as readonly string[]).includes(s);
}

export function statusLabel(s: string): string {
  return isStatus(s) ? STATUS_LABELS[s].zh : s;
}

/**
 * The actions the state machine allows next, before role checks.
 * `reproduced=false` on an open flag adds dismiss (from any open state) and,
 * while the committee has not decided since it stopped reproducing, keep.
 */
export function allowedActions(status: string, opts: { reproduced: boolean; needsDecision: boolean }): ActionName[] {
  const out: ActionName[] = [];
  for (const a of ACTIONS) {
    const def = ACTION_DEFS[a];
    if (a === 'keep') {
      if (opts.needsDecision && def.from.includes(status as Status)) out.push(a);
      continue;
    }
    if (a === 'dismiss' && !opts.reproduced && OPEN_STATUSES.includes(status as Status)) {
      out.push(a);
      continue;
    }
    if (def.from.includes(status as Status)) out.push(a);
  }
  return out;
}

export function describeActions(actions: readonly ActionName[]): { zh: string; en: string } {
  if (actions.length === 0) return { zh: '无(已结束)', en: 'none (closed)' };
  return {
    zh: actions.map((a) => `${ACTION_DEFS[a].zh}(${a})`).join('、'),
    en: actions.join(', '),
  };
}

/** The allowed actions a given role may take (the API can offer exactly these buttons). */
export function actionsForRole(allowed: readonly ActionName[], role: Role): ActionName[] {
  return allowed.filter((a) => ACTION_DEFS[a].roles.includes(role));
}
