import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cli, insertAgencies, insertFlags, tempDb, withStore } from './helpers.ts';

let db: string;
let dir: string;
let docA: string;
let docB: string;
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

beforeAll(async () => {
  const t = tempDb();
  db = t.db;
  dir = t.dir;
  docA = path.join(dir, '整改报告.pdf');
  docB = path.join(dir, 'receipt.txt');
  fs.writeFileSync(docA, '%PDF-1.4 整改报告 fake body');
  fs.writeFileSync(docB, '收款收据 1200.50');
  await withStore(db, async (s) => {
    await insertAgencies(s);
    await insertFlags(s, [
      { flag_id: 'P-LOOP', severity: 'high', agency_code: 'A01', amount: '50000.00' },
      { flag_id: 'P-DISMISS', severity: 'low' },
      { flag_id: 'P-IMM', severity: 'medium', agency_code: 'B01' },
      { flag_id: 'P-BULK1', rule_id: 'treasury.split_payment', agency_code: 'A01' },
      { flag_id: 'P-BULK2', rule_id: 'treasury.split_payment', agency_code: 'A02' },
      { flag_id: 'P-BULK3', rule_id: 'treasury.no_budget', agency_code: 'A02' },
    ]);
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function ok(...args: string[]) {
  const r = await cli(db, ...args);
  if (r.code !== 0) throw new Error(`fiscus ${args.join(' ')} → exit ${r.code}: ${r.err}`);
  return r;
}

async function showJson(id: string) {
  const r = await ok('track', 'show', id, '--format', 'json');
  return JSON.parse(r.out) as {
    flag: { status: string; due_date: string | null; assigned_to: string | null; escalation: string | null };
    events: { seq: number; id: string; type: string; from_status: string | null; to_status: string | null; actor: string; role: string; at: string; note: string | null; data: any }[];
  };
}

describe('fiscus track (CLI end to end)', () => {
  test('one flag walked through every path: explain accepted, reopened, explanation rejected, ongoing rectification, failed vote, re-report, passed vote, verify, reopen', async () => {
    const steps: [string[], string][] = [
      [['confirm', 'P-LOOP', '--actor', '张分析', '--role', 'analyst', '--note', '金额较大'], 'confirmed'],
      [['assign', 'P-LOOP', '--to', 'A01', '--due', '2030-06-28', '--actor', '王秘书'], 'assigned'],
      [['explain', 'P-LOOP', '--role', 'agency', '--agency-code', 'A01', '--actor', '一中', '--note', '属合同约定分期支付', '--doc', docB], 'explained'],
      [['accept-explanation', 'P-LOOP', '--role', 'committee', '--actor', '李主任'], 'closed_explained'],
      [['reopen', 'P-LOOP', '--role', 'committee', '--actor', '李主任', '--note', '审计发现新情况', '--due', '2030-07-31'], 'assigned'],
      [['explain', 'P-LOOP', '--role', 'agency', '--agency-code', 'D1', '--actor', '教育局', '--note', '再次说明'], 'explained'],
      [['reject-explanation', 'P-LOOP', '--role', 'committee', '--actor', '李主任', '--note', '说明不充分'], 'assigned'],
      [['extend', 'P-LOOP', '--due', '2030-08-30', '--note', '涉及多部门协调', '--actor', '王秘书'], 'assigned'],
      [
        ['start-rectification', 'P-LOOP', '--role', 'agency', '--agency-code', 'A01', '--actor', '一中', '--category', 'ongoing',
          '--timetable', '2030-09-30:修订财务制度', '--timetable', '2030-12-31:完成资金清理'],
        'rectifying',
      ],
      [['report-rectified', 'P-LOOP', '--role', 'agency', '--agency-code', 'A01', '--actor', '一中', '--note', '已追回资金', '--amount', '1200.50', '--regularised', '300', '--doc', docA, '--doc', docB], 'rectified'],
      [['vote', 'P-LOOP', '--role', 'committee', '--actor', '李主任', '--satisfied', '3', '--basic', '4', '--unsatisfied', '7', '--members', '14'], 'rectifying'],
      [['report-rectified', 'P-LOOP', '--role', 'agency', '--agency-code', 'A01', '--actor', '一中', '--note', '第二次整改报告'], 'rectified'],
      [['vote', 'P-LOOP', '--role', 'committee', '--actor', '李主任', '--satisfied', '9', '--basic', '3', '--unsatisfied', '2', '--members', '14'], 'rectified'],
      [['verify', 'P-LOOP', '--role', 'committee', '--actor', '李主任', '--note', '验收合格'], 'verified'],
      [['reopen', 'P-LOOP', '--role', 'committee', '--actor', '李主任', '--note', '问题反弹'], 'assigned'],
    ];
    for (const [args, status] of steps) {
      const r = await ok('track', ...args);
      expect(r.out).toContain('P-LOOP');
      expect((await showJson('P-LOOP')).flag.status).toBe(status);
    }
    const h = await showJson('P-LOOP');
    expect(h.events.map((e) => e.type)).toEqual([
      'flag.discovered',
      'flag.confirmed',
      'flag.assigned',
      'flag.explained',
      'flag.explanation_accepted',
      'flag.reopened',
      'flag.explained',
      'flag.explanation_rejected',
      'flag.extended',
      'flag.rectification_started',
      'flag.rectified',
      'flag.voted',
      'flag.escalated',
      'flag.rectified',
      'flag.voted',
      'flag.verified',
      'flag.reopened',
    ]);
    for (const e of h.events.slice(1)) {
      expect(e.actor.length).toBeGreaterThan(0);
      expect(['analyst', 'supervisor', 'agency', 'committee']).toContain(e.role);
      expect(Date.parse(e.at)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    }
    expect(h.events[1]).toMatchObject({ actor: '张分析', role: 'analyst', note: '金额较大' });
    expect(h.events[3].data.documents).toEqual([{ name: 'receipt.txt', sha256: sha(docB), bytes: fs.statSync(docB).size }]);
    expect(h.events[8].data).toEqual({ from_due: '2030-07-31', to_due: '2030-08-30' });
    expect(h.events[9].data).toMatchObject({
      category: 'ongoing',
      timetable: [
        { date: '2030-09-30', task: '修订财务制度' },
        { date: '2030-12-31', task: '完成资金清理' },
      ],
    });
    expect(h.events[10].data).toMatchObject({
      amount_recovered: '1200.50',
      amount_regularised: '300.00',
      documents: [
        { name: '整改报告.pdf', sha256: sha(docA) },
        { name: 'receipt.txt', sha256: sha(docB) },
      ],
    });
    expect(h.events[11].data).toMatchObject({ satisfied: 3, basic: 4, unsatisfied: 7, members: 14, passed: false });
    expect(h.events[12].data).toMatchObject({ level: 'candidate' });
    expect(h.events[14].data).toMatchObject({ passed: true });
    // The last reopen without --due takes the default for severity high from today.
    expect(h.flag.due_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(h.flag.escalation).toBe('candidate');

    const text = await ok('track', 'show', 'P-LOOP');
    expect(text.out).toContain('已交办 (assigned)');
    expect(text.out).toContain('flag.explanation_rejected');
  });

  test('dismiss with a reason; immediate rectification straight to verified', async () => {
    await ok('track', 'dismiss', 'P-DISMISS', '--note', '误报：系冲销凭证');
    expect((await showJson('P-DISMISS')).flag.status).toBe('dismissed');
    await ok('track', 'confirm', 'P-IMM');
    await ok('track', 'assign', 'P-IMM');
    const a = await showJson('P-IMM');
    expect(a.flag.assigned_to).toBe('B01');
    expect(a.events.at(-1)!.data).toMatchObject({ due_default: true });
    await ok('track', 'start-rectification', 'P-IMM', '--category', 'immediate', '--role', 'agency', '--agency-code', 'D2');
    await ok('track', 'report-rectified', 'P-IMM', '--note', '立行立改，已退回多付款项', '--amount', '800');
    await ok('track', 'verify', 'P-IMM', '--role', 'committee');
    expect((await showJson('P-IMM')).flag.status).toBe('verified');
  });

  test('an illegal step is refused with exit 1 and a message naming the state and allowed next steps', async () => {
    const r = await cli(db, 'track', 'verify', 'P-LOOP', '--role', 'committee');
    expect(r.code).toBe(1);
    expect(r.err).toContain('当前状态为「已交办」(assigned)');
    expect(r.err).toContain('Allowed next: explain, start-rectification, extend.');
    const closed = await cli(db, 'track', 'assign', 'P-DISMISS', '--to', 'A01');
    expect(closed.code).toBe(1);
    expect(closed.err).toContain('Allowed next: none (closed).');
    const forbidden = await cli(db, 'track', 'explain', 'P-LOOP', '--role', 'agency', '--agency-code', 'B01', '--note', 'x');
    expect(forbidden.code).toBe(1);
    expect(forbidden.err).toContain('B01');
    // An unknown flag id is a usage error (flags/short-id.ts), like an unknown rule id.
    const unknown = await cli(db, 'track', 'confirm', 'NO-SUCH');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no flag NO-SUCH');
  });

  test('usage errors exit 2: missing reason, bad category, unreadable document, bad role', async () => {
    expect((await cli(db, 'track', 'dismiss', 'P-BULK1')).code).toBe(2);
    expect((await cli(db, 'track', 'extend', 'P-LOOP', '--due', '2030-12-31')).code).toBe(2);
    const cat = await cli(db, 'track', 'start-rectification', 'P-LOOP', '--category', 'someday');
    expect(cat.code).toBe(2);
    expect(cat.err).toContain('category');
    const ongoing = await cli(db, 'track', 'start-rectification', 'P-LOOP', '--category', 'ongoing');
    expect(ongoing.code).toBe(2);
    expect(ongoing.err).toContain('timetable');
    expect((await cli(db, 'track', 'explain', 'P-LOOP', '--note', 'x', '--doc', path.join(dir, 'missing.pdf'))).code).toBe(2);
    expect((await cli(db, 'track', 'confirm', 'P-BULK1', '--role', 'mayor')).code).toBe(2);
    // None of them changed anything.
    expect((await showJson('P-BULK1')).flag.status).toBe('discovered');
  });

  test('bulk assign by rule, list filters and stats', async () => {
    for (const id of ['P-BULK1', 'P-BULK2', 'P-BULK3']) await ok('track', 'confirm', id);
    const r = await ok('track', 'assign', '--all', '--rule', 'treasury.split_payment', '--due', '2030-06-28', '--note', '批量交办');
    expect(r.out.trim().split('\n').map((l) => l.split('\t')[0])).toEqual(['P-BULK1', 'P-BULK2']);
    expect(r.err).toContain('assigned 2 flag(s)');
    const b1 = await showJson('P-BULK1');
    expect(b1.events.at(-1)).toMatchObject({ type: 'flag.assigned', note: '批量交办', data: { assigned_to: 'A01', due_date: '2030-06-28' } });

    const assigned = JSON.parse((await ok('track', 'list', '--status', 'assigned', '--format', 'json')).out) as { flag_id: string }[];
    expect(assigned.map((f) => f.flag_id).sort()).toEqual(['P-BULK1', 'P-BULK2', 'P-LOOP']);
    const dept = JSON.parse((await ok('track', 'list', '--agency', 'D1', '--status', 'assigned', '--format', 'json')).out) as { flag_id: string }[];
    expect(dept.map((f) => f.flag_id).sort()).toEqual(['P-BULK1', 'P-BULK2', 'P-LOOP']);
    const overdue = JSON.parse((await ok('track', 'list', '--overdue', '--as-of', '2030-07-15', '--format', 'json')).out) as { flag_id: string }[];
    // P-LOOP's last reopen took the default due date (weeks from today), long past by 2030.
    expect(overdue.map((f) => f.flag_id).sort()).toEqual(['P-BULK1', 'P-BULK2', 'P-LOOP']);
    const csv = await ok('track', 'list', '--status', 'verified,dismissed', '--format', 'csv');
    expect(csv.out.split('\n')[0]).toContain('flag_id,severity,rule_id');
    expect(csv.out).toContain('P-IMM');
    expect(csv.out).toContain('已排除');

    const stats = JSON.parse((await ok('track', 'stats', '--format', 'json', '--as-of', '2030-07-15')).out);
    expect(stats.totals).toMatchObject({ discovered: 6, dismissed: 1, verified: 1, overdue: 3, money_recovered: '800.00' });
    const table = await ok('track', 'stats');
    expect(table.out).toContain('rectification_rate');

    const scan = await ok('track', 'scan', '--as-of', '2030-07-15', '--format', 'json');
    expect(JSON.parse(scan.out).overdue.map((e: { flag_id: string }) => e.flag_id).sort()).toEqual(['P-BULK1', 'P-BULK2', 'P-LOOP']);
    expect(JSON.parse((await ok('track', 'scan', '--as-of', '2030-07-15', '--format', 'json')).out).overdue).toEqual([]);

    const v = await ok('track', 'verify-log');
    expect(v.out).toContain('event log intact');
  });
});
