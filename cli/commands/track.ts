/**
 * `fiscus track …`: the closed loop (发现问题—交办问题—追踪整改—落实反馈) from the
 * command line. A thin layer over tracker/: parse options, build the action,
 * print the result. Data to stdout, notes to stderr.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { calendarWarning, WorkCalendar } from '../../engine/calendar.ts';
import { isIsoDate, todayInShanghai } from '../../engine/dates.ts';
import type { Store } from '../../engine/db.ts';
import { FiscusError, UsageError } from '../../engine/errors.ts';
import { formatRows } from '../../engine/format.ts';
import { money } from '../../engine/numbers.ts';
import { parseFormat, type CliContext } from '../context.ts';
import {
  assignAll,
  flagHistory,
  listTracked,
  performAction,
  ROLES,
  scanDeadlines,
  STATUS_LABELS,
  trackStats,
  verifyLog,
  type Actor,
  type Figures,
  type Role,
  type TrackAction,
  type TrackedFlag,
} from '../../tracker/index.ts';
import { isStatus, STATUSES } from '../../tracker/states.ts';
import { displayFigures } from '../../tracker/stats.ts';
import { eventJson } from '../../flags/events.ts';
import { SEVERITIES, type FlagEventJson, type FlagRecordJson } from '../../flags/schema.ts';
import { idPrefixOf, pickFlagId, resolveFlagId, shortFlagId } from '../../flags/short-id.ts';
import { apiCall, apiTarget } from '../api-client.ts';
import { fitTable, outputWidth } from '../table.ts';
import { checkChoices, checkKnown, knownAgencyCodes, knownRegionCodes, knownRuleIds, splitList } from '../validate.ts';
import type { RegisterCommand } from './index.ts';

const collect = (v: string, prev: string[]) => [...prev, v];
const FLAG_ID_HELP = 'the flag id, or a unique prefix of at least 6 characters (the id column of fiscus flags / track list)';

function intArg(name: string) {
  return (v: string): number => {
    if (!/^\d{1,6}$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return Number(v);
  };
}

/** Commander names the option in its message: "option '--as-of <date>' argument '2026-13-01' is invalid". */
function dateArg(v: string): string {
  if (!isIsoDate(v)) throw new InvalidArgumentError('not a date YYYY-MM-DD (日期无效)');
  return v;
}

interface ActorOpts {
  actor?: string;
  role: string;
  agencyCode?: string;
}

function actorOf(o: ActorOpts): Actor {
  if (!(ROLES as readonly string[]).includes(o.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')} (got "${o.role}")`);
  const name = o.actor ?? process.env.FISCUS_ACTOR ?? safeUser();
  return { name, role: o.role as Role, agencyCode: o.agencyCode };
}

function safeUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}


/** Evidence files: recorded by name and SHA-256 of their bytes, never by path. */
function hashDocs(files: string[]): { name: string; sha256: string; bytes: number }[] {
  return files.map((f) => {
    let buf: Buffer;
    try {
      if (!statSync(f).isFile()) throw new Error('not a file');
      buf = readFileSync(f);
    } catch (err) {
      throw new UsageError(`--doc ${f}: cannot read (${(err as Error).message})`);
    }
    return { name: basename(f), sha256: createHash('sha256').update(buf).digest('hex'), bytes: buf.length };
  });
}

function parseTimetable(items: string[]): { date: string; task: string }[] | undefined {
  if (items.length === 0) return undefined;
  return items.map((s) => {
    const t = s.trim();
    const date = t.slice(0, 10);
    const task = t.slice(11).trim();
    if (!isIsoDate(date) || !':：='.includes(t[10] ?? 'x') || !task) {
      throw new UsageError(`--timetable wants DATE:TASK, e.g. "2026-06-30:完成制度修订" (got "${s}")`);
    }
    return { date, task };
  });
}

/**
 * Warn (stderr) when a day the command judges deadlines on, or a deadline it shows,
 * falls in a year without an official holiday schedule: working days there count
 * Monday–Friday only (engine/calendar.ts).
 */
async function warnCalendar(ctx: CliContext, store: Store, days: Iterable<string | null | undefined>): Promise<void> {
  const text = calendarWarning((await WorkCalendar.load(store)).yearsWithoutSchedule(days));
  if (text) ctx.log(`fiscus: warning: ${text}`);
}

const SEVERITY_RANK: Record<string, number> = { high: 0, medium: 1, low: 2 };

/** What a person works through first: the nearest deadline, then the most severe, then the oldest finding. */
function byDeadline(a: TrackedFlag, b: TrackedFlag): number {
  if (a.due_date !== b.due_date) {
    if (a.due_date === null) return 1;
    if (b.due_date === null) return -1;
    return a.due_date < b.due_date ? -1 : 1;
  }
  const s = (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3);
  if (s !== 0) return s;
  if (a.first_seen_at !== b.first_seen_at) return a.first_seen_at < b.first_seen_at ? -1 : 1;
  return a.flag_id < b.flag_id ? -1 : a.flag_id > b.flag_id ? 1 : 0;
}

/**
 * The compact table of `track list`: the short id every flag-id argument accepts, the amount
 * grouped with 2 decimals (all columns, the full id and the exact amount in --format csv/json/jsonl).
 */
const TABLE_COLUMNS = ['id', 'severity', 'status', 'assigned_to', 'due_date', 'overdue_workdays', 'amount', 'title'];
const TABLE_LABELS = { assigned_to: 'assigned', due_date: 'due', overdue_workdays: 'overdue', amount: 'amount (元)' };

function tableRow(f: TrackedFlag): Record<string, unknown> {
  return { ...listRow(f), id: shortFlagId(f.flag_id), amount: f.amount === null ? '' : money(f.amount) };
}

function label(status: string | null): string {
  if (!status) return '';
  return isStatus(status) ? `${STATUS_LABELS[status].zh}(${status})` : status;
}

/** An action's outcome as printed: the tracker's flag and the events in the alert's shape (FLAGS.md). */
interface PrintedResult {
  flag: TrackedFlag;
  events: FlagEventJson[];
}

function printResult(ctx: CliContext, r: PrintedResult, format: string): void {
  if (format === 'json') {
    ctx.io.out(`${JSON.stringify({ flag: r.flag, events: r.events }, null, 2)}\n`);
    return;
  }
  for (const e of r.events) {
    const move = e.to_status ? `${label(e.from_status)} → ${label(e.to_status)}` : label(r.flag.status);
    ctx.io.out(`${r.flag.flag_id}\t#${e.seq}\t${e.type}\t${move}${e.note ? `\t${e.note}` : ''}\n`);
  }
  const f = r.flag;
  if (f.due_date) ctx.log(`截止 due ${f.due_date}（报告 report by ${f.report_due}）交办 assigned to ${f.assigned_to ?? '-'}`);
  ctx.log(`可执行 next: ${f.allowed_actions.join(', ') || '-'}`);
}

function textFormat(v: string): 'text' | 'json' {
  if (v !== 'text' && v !== 'json') throw new UsageError(`--format must be text or json (got "${v}")`);
  return v;
}

/**
 * A flag id argument through a running server: a full id goes as given (the API says
 * whether it exists); a prefix is looked up with the flag filter's text search, which
 * matches id prefixes (flags/filter.ts), and must name one flag.
 */
async function apiFlagId(api: NonNullable<ReturnType<typeof apiTarget>>, given: string): Promise<string> {
  const prefix = idPrefixOf(given);
  if (!prefix || prefix.length === 32) return given.trim();
  const page: { items: FlagRecordJson[] } = await apiCall(api, 'GET', `/v1/flags?${new URLSearchParams({ q: prefix, limit: '500' })}`);
  return pickFlagId(given, page.items);
}

async function act(ctx: CliContext, given: string, input: TrackAction, o: ActorOpts & { format: string; api?: string; token?: string }): Promise<void> {
  const format = textFormat(o.format);
  const api = apiTarget(o);
  if (api) {
    // Through a running server: the actor is the token's holder, not --actor/--role.
    // The API answers with the same shapes the library's result prints as.
    const flagId = await apiFlagId(api, given);
    const res: PrintedResult = await apiCall(api, 'POST', `/v1/flags/${encodeURIComponent(flagId)}/actions`, input);
    printResult(ctx, res, format);
    return;
  }
  const store = await ctx.open();
  const flagId = await resolveFlagId(store, given);
  const r = await performAction(store, flagId, input, actorOf(o));
  printResult(ctx, { flag: r.flag, events: r.events.map(eventJson) }, format);
  if (r.flag.due_date) await warnCalendar(ctx, store, [r.flag.due_date]);
}

const LIST_COLUMNS = [
  'flag_id',
  'severity',
  'rule_id',
  'agency_code',
  'assigned_to',
  'status',
  'status_zh',
  'due_date',
  'overdue_workdays',
  'workdays_left',
  'reproduced',
  'needs_decision',
  'escalation',
  'amount',
  'title',
];

function listRow(f: TrackedFlag): Record<string, unknown> {
  return {
    flag_id: f.flag_id,
    severity: f.severity,
    rule_id: f.rule_id,
    agency_code: f.agency_code,
    assigned_to: f.assigned_to,
    status: f.status,
    status_zh: f.status_label.zh,
    due_date: f.due_date,
    overdue_workdays: f.clock_running ? f.overdue_workdays : null,
    workdays_left: f.workdays_left,
    reproduced: f.reproduced,
    needs_decision: f.needs_decision,
    escalation: f.escalation,
    amount: f.amount,
    title: f.title,
  };
}

const FIGURE_LABELS: Record<keyof Figures, string> = {
  discovered: '发现问题',
  pending_confirmation: '待确认',
  confirmed: '已确认',
  dismissed: '已排除',
  assigned: '已交办',
  explained: '说清销号',
  awaiting_decision: '已说清待认定',
  rectifying: '整改中',
  rectified: '已整改',
  verified: '已验收销号',
  overdue: '逾期',
  not_reproduced_pending: '不再复现待决定',
  confirmed_and_dismissed: '确认后排除',
  rectification_rate: '整改率',
  responses: '已答复',
  on_time_responses: '按期答复',
  on_time_rate: '按期率',
  money_involved: '涉及金额(元)',
  money_recovered: '追回金额(元)',
  money_regularised: '规范金额(元)',
  votes: '满意度测评次数',
  votes_failed: '测评未过半次数',
  satisfaction_rate: '测评通过率',
  escalated: '列入质询候选',
  inquiry: '提请质询',
};

const GROUP_COLUMNS: (keyof Figures)[] = [
  'discovered',
  'dismissed',
  'explained',
  'rectifying',
  'rectified',
  'overdue',
  'rectification_rate',
  'on_time_rate',
  'money_involved',
  'money_recovered',
];

export const register: RegisterCommand = (program, ctx) => {
  const track = program
    .command('track')
    .description('闭环跟踪：确认、交办、说清、整改、验收、测评 — the closed loop for flags (see tracker/README.md)');
  const base = (name: string) =>
    track
      .command(name)
      .option('--actor <name>', 'who acts (default env FISCUS_ACTOR or the OS user)')
      .option('--role <role>', `${ROLES.join(' | ')}`, 'supervisor')
      .option('--agency-code <code>', 'the acting unit, for --role agency')
      .option('--format <format>', 'text | json', 'text')
      .option('--api <url>', 'act through a running `fiscus serve` as the token holder (env FISCUS_API)')
      .option('--token <token>', 'API token for --api (env FISCUS_TOKEN)');

  base('confirm').description('确认 discovered → confirmed').argument('<flag_id>', FLAG_ID_HELP).option('--note <text>')
    .action(async (id, o) => act(ctx, id, { action: 'confirm', note: o.note }, o));

  base('dismiss').description('排除 (with a reason) → dismissed').argument('<flag_id>', FLAG_ID_HELP).requiredOption('--note <reason>', 'why')
    .action(async (id, o) => act(ctx, id, { action: 'dismiss', note: o.note }, o));

  base('keep')
    .description('保留：a flag no longer reproduced stays open (committee decision)')
    .argument('<flag_id>', FLAG_ID_HELP)
    .requiredOption('--note <reason>', 'why it stays open')
    .action(async (id, o) => act(ctx, id, { action: 'keep', note: o.note }, o));

  base('assign')
    .description('交办 confirmed → assigned; --all with --rule/--agency assigns every confirmed flag, one event each')
    .argument('[flag_id]', FLAG_ID_HELP)
    .option('--to <agency>', "agency or department code (default: the flag's agency)")
    .option('--due <date>', 'due date YYYY-MM-DD (default by severity, in working days)', dateArg)
    .option('--note <text>')
    .option('--all', 'bulk: every confirmed flag matching --rule / --agency')
    .option('--rule <rule_id>', 'with --all')
    .option('--agency <code>', 'with --all: flags of this agency or department')
    .action(async (id, o) => {
    const format = textFormat(o.format);
    if (o.all) {
      if (id) throw new UsageError('give either a flag_id or --all, not both');
      const store = await ctx.open();
      const results = await assignAll(store, { rule: o.rule, agency: o.agency, to: o.to, due: o.due, note: o.note }, actorOf(o));
      if (format === 'json') ctx.io.out(`${JSON.stringify(results.map((r) => ({ flag: r.flag, events: r.events.map(eventJson) })), null, 2)}\n`);
      else for (const r of results) ctx.io.out(`${r.flag.flag_id}\t#${r.event.seq}\t${r.event.event_type}\t→ ${r.flag.assigned_to}\t${r.flag.due_date}\n`);
      ctx.log(`已交办 ${results.length} 条 / assigned ${results.length} flag(s)`);
      return;
    }
    if (!id) throw new UsageError('assign needs a flag_id (or --all with --rule / --agency)');
    if (o.rule || o.agency) throw new UsageError('--rule / --agency select flags only with --all');
    await act(ctx, id, { action: 'assign', to: o.to, due: o.due, note: o.note }, o);
  });

  base('explain')
    .description('说明情况 (the unit shows it is not a problem) assigned → explained')
    .argument('<flag_id>', FLAG_ID_HELP)
    .requiredOption('--note <text>', 'the explanation')
    .option('--doc <file>', 'evidence document (repeatable), recorded by name + SHA-256', collect, [] as string[])
    .action(async (id, o) => act(ctx, id, { action: 'explain', note: o.note, documents: hashDocs(o.doc) }, o));

  base('accept-explanation').description('认定说清 explained → closed_explained').argument('<flag_id>', FLAG_ID_HELP).option('--note <text>')
    .action(async (id, o) => act(ctx, id, { action: 'accept-explanation', note: o.note }, o));

  base('reject-explanation')
    .description('不予认定 explained → assigned')
    .argument('<flag_id>', FLAG_ID_HELP)
    .requiredOption('--note <reason>', 'why')
    .option('--due <date>', 'new due date', dateArg)
    .action(async (id, o) => act(ctx, id, { action: 'reject-explanation', note: o.note, due: o.due }, o));

  base('start-rectification')
    .description('开始整改 assigned → rectifying')
    .argument('<flag_id>', FLAG_ID_HELP)
    .requiredOption('--category <category>', 'immediate 立行立改 | phased 分阶段整改 | ongoing 持续整改')
    .option('--timetable <date:task>', 'milestone (repeatable; required for ongoing), e.g. 2026-06-30:完成制度修订', collect, [] as string[])
    .option('--note <text>')
    .action(async (id, o) =>
      act(ctx, id, { action: 'start-rectification', category: o.category as 'immediate', timetable: parseTimetable(o.timetable), note: o.note }, o),
    );

  base('report-rectified')
    .description('报告整改完成 rectifying → rectified')
    .argument('<flag_id>', FLAG_ID_HELP)
    .requiredOption('--note <text>', 'what was done')
    .option('--amount <yuan>', 'money recovered (追回), e.g. 12000.00')
    .option('--regularised <yuan>', 'money regularised (规范/调账)')
    .option('--doc <file>', 'evidence document (repeatable), recorded by name + SHA-256', collect, [] as string[])
    .action(async (id, o) =>
      act(ctx, id, { action: 'report-rectified', note: o.note, amount_recovered: o.amount, amount_regularised: o.regularised, documents: hashDocs(o.doc) }, o),
    );

  base('verify').description('验收销号 rectified → verified').argument('<flag_id>', FLAG_ID_HELP).option('--note <text>')
    .action(async (id, o) => act(ctx, id, { action: 'verify', note: o.note }, o));

  base('reopen')
    .description('重新交办 rectified | verified | closed_explained → assigned')
    .argument('<flag_id>', FLAG_ID_HELP)
    .requiredOption('--note <reason>', 'why')
    .option('--due <date>', 'new due date (default by severity)', dateArg)
    .action(async (id, o) => act(ctx, id, { action: 'reopen', note: o.note, due: o.due }, o));

  base('extend')
    .description('延期: a later due date, with a reason')
    .argument('<flag_id>', FLAG_ID_HELP)
    .requiredOption('--due <date>', 'the new due date', dateArg)
    .requiredOption('--note <reason>', 'reason for the extension')
    .action(async (id, o) => act(ctx, id, { action: 'extend', due: o.due, note: o.note }, o));

  base('vote')
    .description('满意度测评 on a rectification report: fails when 满意+基本满意 ≤ half the members')
    .argument('<flag_id>', FLAG_ID_HELP)
    .requiredOption('--satisfied <n>', '满意', intArg('--satisfied'))
    .requiredOption('--basic <n>', '基本满意', intArg('--basic'))
    .requiredOption('--unsatisfied <n>', '不满意', intArg('--unsatisfied'))
    .requiredOption('--members <n>', 'committee members (组成人员)', intArg('--members'))
    .option('--note <text>')
    .action(async (id, o) =>
      act(ctx, id, { action: 'vote', satisfied: o.satisfied, basic: o.basic, unsatisfied: o.unsatisfied, members: o.members, note: o.note }, o),
    );

  track
    .command('show')
    .description('a flag: status and full history')
    .argument('<flag_id>', FLAG_ID_HELP)
    .option('--as-of <date>', 'judge deadlines on this day (default today, Asia/Shanghai)', dateArg)
    .option('--format <format>', 'text | json', 'text')
    .action(async (id, o) => {
      const format = textFormat(o.format);
      const store = await ctx.open();
      const h = await flagHistory(store, await resolveFlagId(store, id), { today: o.asOf });
      await warnCalendar(ctx, store, [o.asOf ?? todayInShanghai(), h.flag.due_date, h.flag.deadline]);
      if (format === 'json') {
        ctx.io.out(`${JSON.stringify(h, null, 2)}\n`);
        return;
      }
      const f = h.flag;
      const lines = [
        `${f.flag_id}  ${f.title}`,
        `状态 status: ${f.status_label.zh} (${f.status})${f.reproduced ? '' : '  ⚠ 不再复现 no longer reproduced'}${f.needs_decision ? ' — 待决定 awaiting dismiss/keep' : ''}`,
        `规则 rule: ${f.rule_id} v${f.rule_version}  严重程度 severity: ${f.severity}  金额 amount: ${f.amount === null ? '-' : `${money(f.amount)} 元`}`,
        `单位 agency: ${f.agency_code ?? '-'}  交办 assigned to: ${f.assigned_to ?? '-'}`,
        f.due_date
          ? `截止 due: ${f.due_date} (deadline ${f.deadline}, report by ${f.report_due})${f.overdue ? `  逾期 overdue ${f.overdue_workdays} working day(s)` : f.workdays_left !== null ? `  剩余 ${f.workdays_left} working day(s)` : ''}`
          : '截止 due: -',
        f.escalation ? `测评 votes: ${f.votes}, failed ${f.failing_votes} → ${f.escalation === 'inquiry' ? '提请质询 marked for inquiry' : '质询候选 inquiry candidate'}` : `测评 votes: ${f.votes}`,
        `可执行 next: ${f.allowed_actions.join(', ') || '-'}`,
        '',
      ];
      ctx.io.out(`${lines.join('\n')}\n`);
      // The alert's event fields (FLAGS.md), as --format json and the API give them.
      const rows = h.events.map((e) => ({
        seq: e.seq,
        at: e.at,
        type: e.type,
        actor: e.actor,
        role: e.role,
        from_status: e.from_status ?? '',
        to_status: e.to_status ?? '',
        note: e.note ?? '',
        data: e.data === null ? '' : JSON.stringify(e.data),
      }));
      ctx.io.out(formatRows(rows, 'table', ['seq', 'at', 'type', 'actor', 'role', 'from_status', 'to_status', 'note', 'data']));
    });

  track
    .command('list')
    .description('tracked flags with their status, deadlines and escalation')
    .option('--status <statuses>', 'comma-separated status ids, e.g. assigned,rectifying')
    .option('--agency <codes>', 'agency or department codes, comma-separated (their flags, flags assigned to them, and their units’)')
    .option('--rule <rule_ids>', 'comma-separated rule ids')
    .option('--severity <severities>', 'high | medium | low, comma-separated')
    .option('--region <codes>', 'region codes, comma-separated, with the regions below them')
    .option('--text <words>', 'words in the title or entity name, an exact entity id, or a flag id or its first 6+ characters')
    .option('--overdue', 'only overdue flags')
    .option('--due-within <n>', 'deadline within N working days', intArg('--due-within'))
    .option('--not-reproduced', 'only flags the rules no longer raise')
    .option('--needs-decision', 'only flags no longer reproduced awaiting the committee')
    .option('--as-of <date>', 'the flags as they stood at the end of this day (Asia/Shanghai), rebuilt from the event log; deadlines judged on it (default: now)', dateArg)
    .option('--format <format>', 'table | csv | json | jsonl', 'table')
    .action(async (o) => {
      const format = parseFormat(o.format);
      // Unknown values are usage errors with a did-you-mean, never a silent "(no rows)".
      const status = checkChoices('--status', splitList(o.status), STATUSES);
      // The flags filter's text form (flags/filter.ts), as `fiscus flags` and GET /v1/flags read it.
      const severity = checkChoices('--severity', splitList(o.severity), SEVERITIES);
      const [rule, agency, region] = [splitList(o.rule), splitList(o.agency), splitList(o.region)];
      const store = await ctx.open();
      if (rule) checkKnown('--rule', rule, await knownRuleIds(store), 'rule', 'fiscus rules list shows the rule ids');
      if (agency) checkKnown('--agency', agency, await knownAgencyCodes(store), 'agency', 'codes of ref.agencies or of a flag');
      if (region) checkKnown('--region', region, await knownRegionCodes(store), 'region', 'codes of ref.regions or of a flag');
      const flags = await listTracked(store, {
        status,
        agency,
        rule,
        severity,
        region,
        q: o.text?.trim() || undefined,
        overdue: o.overdue ? true : undefined,
        reproduced: o.notReproduced ? false : undefined,
        dueWithin: o.dueWithin,
        needsDecision: o.needsDecision,
        today: o.asOf,
        asOf: o.asOf,
      });
      flags.sort(byDeadline);
      if (format === 'json' || format === 'jsonl') ctx.io.out(formatRows(flags as unknown as Record<string, unknown>[], format));
      else if (format === 'table') ctx.io.out(fitTable(flags.map(tableRow), TABLE_COLUMNS, { width: outputWidth(ctx.io.columns), flex: 'title', labels: TABLE_LABELS, right: ['amount', 'overdue_workdays'] }));
      else ctx.io.out(formatRows(flags.map(listRow), format, LIST_COLUMNS));
      await warnCalendar(ctx, store, [o.asOf ?? todayInShanghai(), ...flags.map((f) => f.due_date)]);
    });

  track
    .command('stats')
    .description('headline figures of the loop (definitions: tracker/README.md)')
    .option('--year <year>', 'flags of this year (see --basis)', intArg('--year'))
    .option('--quarter <q>', '1-4, with --year', intArg('--quarter'))
    .option('--ytd', 'with --quarter: January 1 through the end of the quarter')
    .option('--basis <basis>', 'first_seen: the day a rule run first raised the flag; period: the day the finding is about', 'first_seen')
    .option('--region <code>')
    .option('--as-of <date>', 'count the flags in their state at the end of this day (Asia/Shanghai), rebuilt from the event log (default today)', dateArg)
    .option('--format <format>', 'table | json', 'table')
    .action(async (o) => {
      const format = parseFormat(o.format, ['table', 'json']);
      if (o.basis !== 'first_seen' && o.basis !== 'period') throw new UsageError(`--basis must be first_seen or period (got "${o.basis}")`);
      const store = await ctx.open();
      const s = await trackStats(
        store,
        { year: o.year, quarter: o.quarter, region: o.region, basis: o.basis, ytd: Boolean(o.ytd) },
        { today: o.asOf },
      );
      await warnCalendar(ctx, store, [s.scope.as_of]);
      if (format === 'json') {
        ctx.io.out(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      ctx.io.out(`范围 scope: ${s.scope.year ?? 'all years'}${s.scope.quarter ? ` Q${s.scope.quarter}` : ''}${s.scope.region ? ` region ${s.scope.region}` : ''}; ${s.scope.basis}; as of ${s.scope.as_of}\n`);
      // As people read them: rates in percent, money grouped, agencies by name (JSON keeps fractions and codes).
      const shown = displayFigures(s.totals);
      const totals = (Object.keys(FIGURE_LABELS) as (keyof Figures)[]).map((k) => ({ figure: k, 指标: FIGURE_LABELS[k], value: shown[k] }));
      ctx.io.out(formatRows(totals, 'table', ['figure', '指标', 'value']));
      const groups: [string, string, { label: string; f: Figures }[]][] = [
        ['按严重程度 by severity', 'severity', s.by_severity.map((r) => ({ label: r.severity, f: r }))],
        ['按规则 by rule', 'rule_id', s.by_rule.map((r) => ({ label: r.rule_id, f: r }))],
        ['按单位 by agency', 'agency', s.by_agency.map((r) => ({ label: r.agency_name === r.agency ? r.agency : `${r.agency_name}（${r.agency}）`, f: r }))],
      ];
      for (const [title, key, rows] of groups) {
        ctx.io.out(`\n${title}\n`);
        ctx.io.out(formatRows(rows.map((r) => ({ [key]: r.label, ...displayFigures(r.f) })), 'table', [key, ...GROUP_COLUMNS]));
      }
    });

  track
    .command('scan')
    .description('append flag.overdue / flag.due_soon events (once per flag per due date) for the alert feed')
    .option('--as-of <date>', 'the day to judge (default today, Asia/Shanghai)', dateArg)
    .option('--format <format>', 'text | json', 'text')
    .action(async (o) => {
      const format = textFormat(o.format);
      const store = await ctx.open();
      const r = await scanDeadlines(store, { today: o.asOf });
      await warnCalendar(ctx, store, [r.today]);
      if (format === 'json') {
        ctx.io.out(`${JSON.stringify({ today: r.today, overdue: r.overdue.map((e) => ({ flag_id: e.flag_id, event: eventJson(e) })), due_soon: r.due_soon.map((e) => ({ flag_id: e.flag_id, event: eventJson(e) })) }, null, 2)}\n`);
        return;
      }
      for (const e of [...r.overdue, ...r.due_soon]) ctx.io.out(`${e.flag_id}\t#${e.seq}\t${e.event_type}\t${e.note ?? ''}\n`);
      ctx.log(`${r.today}: 逾期 overdue ${r.overdue.length}, 临期 due soon ${r.due_soon.length} new event(s)`);
    });

  track
    .command('verify-log')
    .description('check the keyed event log against the log key and the signed checkpoints; names the first broken event (exit 1 when broken)')
    .option('--witness <file>', 'checkpoints kept elsewhere (e.g. the portal\'s copy, JSON lines); repeatable', collect, [] as string[])
    .option('--format <format>', 'text | json', 'text')
    .action(async (o) => {
      const format = textFormat(o.format);
      const store = await ctx.open();
      const c = await verifyLog(store, { witnesses: o.witness });
      if (format === 'json') ctx.io.out(`${JSON.stringify(c, null, 2)}\n`);
      if (c.ok) {
        if (format === 'text') {
          const cp = c.checkpoints.newest;
          ctx.io.out(
            `日志完整 event log intact: ${c.events} event(s), chain and flag states verified` +
              (c.legacy_events > 0 ? `; ${c.legacy_events} legacy (unkeyed) event(s) before the log was keyed` : '') +
              `; key ${c.key_versions.at(-1) ?? '(none)'} (${c.key_file ?? 'in memory'})` +
              (cp ? `; newest checkpoint #${cp.seq} of ${cp.at} (${c.checkpoints.sources.reduce((n, s) => n + s.checkpoints, 0)} checked)` : '; no checkpoints yet') +
              '\n',
          );
          if (c.checkpoints.events_after_newest > 0 && cp) {
            ctx.log(`fiscus: note: ${c.checkpoints.events_after_newest} event(s) after the newest checkpoint #${cp.seq} are covered by the key only`);
          }
        }
        return;
      }
      if (format === 'text') ctx.io.out(`${c.problems.join('\n')}\n`);
      throw new FiscusError(`事件日志被篡改 / the event log does not verify: ${c.problems[0]}`, { code: 'LOG_BROKEN', exitCode: 1 });
    });
};
