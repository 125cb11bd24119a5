/** deadline — a start, a limit in days or working days, and an end date or a condition judged at the due date. */
import type { DeadlinePlan, IR } from '../plan/types.ts';
import type { KindChecker } from './kind.ts';

export const checkDeadline: KindChecker<DeadlinePlan> = (c, m) => {
  let src = c.source(m, '`deadline`', () => {}, ['start', 'within', 'end', 'met']);
  const s = src.scope;
  c.globals(s);
  c.lets(s);
  const start = c.expr(c.y.required(m, 'start', '`deadline`'), s, '`start`', 'date');
  const withinNode = c.y.required(m, 'within', '`deadline`');
  const within = c.expr(withinNode, s, '`within`', 'any');
  if (!within.poison && within.type !== 'days' && within.type !== 'workdays') {
    c.diagnostics.push(c.y.err(withinNode, '`within` is a number of days or working days, e.g. `30 days` or `$limit workdays`'));
  }
  const workdays = within.type === 'workdays';
  if (workdays) {
    c.env.workdays = true;
    c.needs(withinNode, 'workdays', '`within: … workdays`');
  }
  const info = { agg: false, span: start.span };
  const due: IR = { k: 'call', fn: workdays ? 'add_workdays' : 'add_days', args: [start, within], distinct: false, type: 'date', ...info };
  s.names.set('due', { kind: 'ir', ir: due });
  s.names.set('limit', { kind: 'ir', ir: { k: 'let', name: 'limit', body: within, type: 'integer', ...info } });
  s.names.set('start', { kind: 'ir', ir: start });
  src = c.where(m, src);
  const endNode = c.y.get(m, 'end');
  const metNode = c.y.get(m, 'met');
  if ((endNode ? 1 : 0) + (metNode ? 1 : 0) !== 1) {
    c.diagnostics.push(c.y.err(m, '`deadline` needs either `end:` (the date the thing was done, null while not done) or `met:` (a condition judged at the deadline)'));
  }
  let end: IR | undefined;
  let met: IR | undefined;
  if (endNode) {
    end = c.expr(endNode, s, '`end`', 'date');
    s.names.set('end', { kind: 'ir', ir: end });
    s.names.set('elapsed', {
      kind: 'ir',
      ir: { k: 'call', fn: workdays ? 'workdays_between' : 'days_between', args: [start, end], distinct: false, type: 'integer', ...info },
    });
  } else if (metNode) {
    met = c.expr(metNode, s, '`met`', 'boolean');
  }
  return {
    plan: { kind: 'deadline', source: src.plan, start, within, workdays, due, ...(end ? { end } : {}), ...(met ? { met } : {}) },
    scope: s,
  };
};
