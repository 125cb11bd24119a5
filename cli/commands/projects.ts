/**
 * `fiscus projects`: livelihood projects (民生实事) from the vote to the year-end evaluation
 * (projects/README.md). Problems deputies report become flags of the closed loop; their
 * further steps are the ordinary `fiscus track` actions.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import { checkIsoDate, todayInShanghai } from '../../engine/dates.ts';
import { UsageError } from '../../engine/errors.ts';
import { parseFormat } from '../context.ts';
import { fitTable, outputWidth } from '../table.ts';
import { ROLES, type Actor, type Role } from '../../tracker/index.ts';
import {
  gradeProject, handOverProblem, issueChecklist, projectYear, recordFlagId, reportProblem, syncProjects, voteSatisfaction,
} from '../../projects/index.ts';
import { readFlagEvents } from '../../engine/flag-events.ts';
import { resolveFlagId } from '../../flags/short-id.ts';
import type { RegisterCommand } from './index.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

function year(v: string): number {
  if (!/^\d{4}$/.test(v)) throw new UsageError(`--year must be a year such as 2025 (got "${v}")`);
  return Number(v);
}

function int(option: string, v: string): number {
  if (!/^\d{1,6}$/.test(v)) throw new UsageError(`${option} must be a whole number (got "${v}")`);
  return Number(v);
}

interface ActorOpts { actor?: string; role: string; agencyCode?: string }

function actorOf(o: ActorOpts): Actor {
  if (!(ROLES as readonly string[]).includes(o.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')} (got "${o.role}")`);
  let os = 'unknown';
  try {
    os = userInfo().username || 'unknown';
  } catch { /* no passwd entry */ }
  return { name: o.actor ?? process.env.FISCUS_ACTOR ?? os, role: o.role as Role, agencyCode: o.agencyCode };
}

/** Photos are recorded by file name, size and SHA-256 of their bytes (archive the files themselves elsewhere). */
function hashFiles(option: string, files: string[]): { name: string; sha256: string; bytes: number }[] {
  return files.map((f) => {
    let buf: Buffer;
    try {
      if (!statSync(f).isFile()) throw new Error('not a file');
      buf = readFileSync(f);
    } catch (err) {
      throw new UsageError(`${option} ${f}: cannot read (${(err as Error).message})`);
    }
    return { name: basename(f), sha256: createHash('sha256').update(buf).digest('hex'), bytes: buf.length };
  });
}

export const register: RegisterCommand = (program, ctx) => {
  const projects = program.command('projects').description('livelihood projects (民生实事): vote, progress, deputies\' problems, checklist, year-end evaluation');
  const out = (v: unknown) => ctx.io.out(`${JSON.stringify(v, null, 2)}\n`);

  projects
    .command('list')
    .description("one line per project of the year: budget, spending (treasury.payments by project_code), progress, problems, grades, vote")
    .requiredOption('--year <year>', 'fiscal year')
    .option('--as-of <date>', 'spending and deadlines as of this day (default today, at most the year end)')
    .option('--format <format>', 'table | json', 'table')
    .action(async (o) => {
      const y = year(o.year);
      const format = parseFormat(o.format, ['table', 'json']);
      const asOf = o.asOf ? checkIsoDate(o.asOf, '--as-of') : minDay(todayInShanghai(), `${y}-12-31`);
      const store = await ctx.open();
      const data = await projectYear(store, y, asOf);
      if (format === 'json') return out(data);
      const rows = data.projects.map((p) => ({
        project: p.project_code, name: p.project_name, agency: p.agency_code, budget: p.budget, spent: p.spent,
        execution: p.execution_pct === null ? '—' : `${p.execution_pct}%`, progress: p.percent_complete === null ? '—' : `${p.percent_complete}%`,
        problems: `${p.problems_fixed}/${p.problems_raised}${p.problems_overdue ? ` (${p.problems_overdue} overdue)` : ''}`,
        grades: p.grades.map((g) => g.grade).join(',') || '—',
        vote: p.vote ? `${p.vote.satisfied}/${p.vote.basic}/${p.vote.unsatisfied}` : '—',
      }));
      ctx.io.out(fitTable(rows, ['project', 'name', 'agency', 'budget', 'spent', 'execution', 'progress', 'problems', 'grades', 'vote'], { width: outputWidth(ctx.io.columns), flex: 'name' }));
    });

  projects
    .command('sync')
    .description('put the year\'s voted projects and their progress reports in the event log (project.voted, project.progress_reported); idempotent')
    .requiredOption('--year <year>', 'fiscal year')
    .action(async (o) => {
      const store = await ctx.open();
      out(await syncProjects(store, year(o.year)));
    });

  projects
    .command('report-problem')
    .description('a deputy reports a problem found on site: a new flag (rule deputy.report, source deputy) in the closed loop')
    .requiredOption('--year <year>', 'fiscal year')
    .requiredOption('--project <code>', 'project code')
    .requiredOption('--deputy <id>', "deputy id (must be in the project's supervision group)")
    .requiredOption('--text <text>', 'what the deputy found')
    .option('--photo <file>', 'photo (repeatable), recorded by name + SHA-256', collect, [] as string[])
    .option('--address <text>', 'where')
    .option('--lat <deg>', 'latitude')
    .option('--lng <deg>', 'longitude')
    .option('--severity <s>', 'high | medium | low', 'medium')
    .option('--actor <name>', 'who enters it (default env FISCUS_ACTOR or the OS user)')
    .option('--role <role>', ROLES.join(' | '), 'supervisor')
    .action(async (o) => {
      const lat = o.lat === undefined ? undefined : Number(o.lat);
      const lng = o.lng === undefined ? undefined : Number(o.lng);
      if ((lat !== undefined && !Number.isFinite(lat)) || (lng !== undefined && !Number.isFinite(lng))) throw new UsageError('--lat/--lng must be numbers');
      const location = o.address !== undefined || lat !== undefined || lng !== undefined ? { address: o.address, lat, lng } : undefined;
      const store = await ctx.open();
      const r = await reportProblem(store, year(o.year), o.project, {
        deputy_id: o.deputy, text: o.text, photos: hashFiles('--photo', o.photo), location, severity: o.severity as 'medium',
      }, actorOf(o));
      out(r);
    });

  projects
    .command('hand-over')
    .description("confirm a deputy's problem and assign it to the department, due in N working days")
    .argument('<flag_id>', 'the problem\'s flag id, or a unique prefix of at least 6 characters')
    .requiredOption('--workdays <n>', 'deadline in working days from today')
    .option('--to <agency>', "agency or department (default the project's agency)")
    .option('--note <text>')
    .option('--actor <name>')
    .option('--role <role>', ROLES.join(' | '), 'supervisor')
    .action(async (flagId, o) => {
      const store = await ctx.open();
      const r = await handOverProblem(store, await resolveFlagId(store, flagId), { workdays: int('--workdays', o.workdays), to: o.to, note: o.note }, actorOf(o));
      out(r.map((x) => ({ flag_id: x.flag.flag_id, status: x.flag.status, due_date: x.flag.due_date, assigned_to: x.flag.assigned_to, event: x.event.event_type })));
    });

  projects
    .command('checklist')
    .description('mid-year inspection checklist (督查督办清单): one flag per item, handed over together with one deadline')
    .requiredOption('--year <year>', 'fiscal year')
    .option('--item <code=text>', 'PROJECT_CODE=problem (repeatable)', collect, [] as string[])
    .option('--due <date>', 'the one deadline')
    .option('--workdays <n>', 'or: due in N working days')
    .option('--id <checklist_id>', 'checklist id (default generated)')
    .option('--actor <name>')
    .option('--role <role>', ROLES.join(' | '), 'supervisor')
    .action(async (o) => {
      if (o.item.length === 0) throw new UsageError('give at least one --item PROJECT_CODE=problem');
      const items = o.item.map((s) => {
        const i = s.indexOf('=');
        if (i <= 0 || i === s.length - 1) throw new UsageError(`--item must be PROJECT_CODE=problem (got "${s}")`);
        return { project_code: s.slice(0, i).trim(), text: s.slice(i + 1).trim() };
      });
      if ((o.due === undefined) === (o.workdays === undefined)) throw new UsageError('give exactly one of --due and --workdays');
      const store = await ctx.open();
      const r = await issueChecklist(store, year(o.year), {
        checklist_id: o.id, items,
        due: o.due === undefined ? undefined : checkIsoDate(o.due, '--due'),
        workdays: o.workdays === undefined ? undefined : int('--workdays', o.workdays),
      }, actorOf(o));
      out({ checklist_id: r.checklist_id, due: r.due, flag_ids: r.flag_ids, assigned: r.assigned.map((a) => ({ flag_id: a.flag.flag_id, assigned_to: a.flag.assigned_to, due_date: a.flag.due_date })) });
    });

  projects
    .command('grade')
    .description("a supervision group's overall year-end grade of its project (好/较好/一般/差)")
    .requiredOption('--year <year>', 'fiscal year')
    .requiredOption('--project <code>', 'project code')
    .requiredOption('--group <id>', 'supervision group id')
    .requiredOption('--grade <g>', '好 | 较好 | 一般 | 差')
    .option('--note <text>')
    .option('--actor <name>')
    .option('--role <role>', 'committee | supervisor | admin', 'supervisor')
    .action(async (o) => {
      const store = await ctx.open();
      out(await gradeProject(store, year(o.year), o.project, { group_id: o.group, grade: o.grade as '好', note: o.note }, actorOf(o)));
    });

  projects
    .command('satisfaction')
    .description("the deputies' satisfaction vote on a project (满意/基本满意/不满意)")
    .requiredOption('--year <year>', 'fiscal year')
    .requiredOption('--project <code>', 'project code')
    .requiredOption('--satisfied <n>', '满意')
    .requiredOption('--basic <n>', '基本满意')
    .requiredOption('--unsatisfied <n>', '不满意')
    .option('--note <text>')
    .option('--actor <name>')
    .option('--role <role>', 'committee | supervisor | admin', 'supervisor')
    .action(async (o) => {
      const store = await ctx.open();
      out(await voteSatisfaction(store, year(o.year), o.project, {
        satisfied: int('--satisfied', o.satisfied), basic: int('--basic', o.basic), unsatisfied: int('--unsatisfied', o.unsatisfied), note: o.note,
      }, actorOf(o)));
    });

  projects
    .command('history')
    .description("a project's record in the event log: vote, progress reports, grades, satisfaction vote")
    .requiredOption('--year <year>', 'fiscal year')
    .requiredOption('--project <code>', 'project code')
    .action(async (o) => {
      const store = await ctx.open();
      const id = recordFlagId(year(o.year), o.project);
      out((await readFlagEvents(store, { flagId: id })).map((e) => ({ ...e, at: new Date(e.at_ms).toISOString(), data: e.data === null ? null : JSON.parse(e.data) })));
    });
};

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}
