/**
 * The committee console end to end: a real server over the bundled sample (ingest → rules),
 * driven by Debian's Chromium through playwright-core. Each role logs in; a supervisor walks
 * a flag from discovered to verified; a unit answers an assigned flag with a document and
 * never sees another unit's flag; an alert from a rule run appears in an open inbox without
 * a reload; every dashboard renders its chart; accessibility (axe-core) and screenshots at
 * desktop (1440) and tablet (820) width into test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { ingestPath } from '../../ingest/index.ts';
import { compileLoaded, loadDefinitions, withConfig } from '../../rules/run/catalog.ts';
import { runRules } from '../../rules/run/runner.ts';
import type { Store } from '../../engine/db.ts';
import type { TokenEntry } from '../../api/tokens.ts';
import { startServer, tempStore } from '../api/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../fixtures/sample/', import.meta.url));
const SHOTS = `${ROOT}test-output/screenshots`;
const CHROMIUM = '/usr/bin/chromium';
const AS_OF = JSON.parse(readFileSync(`${SAMPLE}manifest.json`, 'utf8')).as_of as string;
const HELD_BACK = 'treasury.nonworking_day';

const TOK = {
  admin: 'e2e-admin-token-0123456789',
  supervisor: 'e2e-supervisor-token-0123456789',
  analyst: 'e2e-analyst-token-0123456789',
  portal: 'e2e-portal-token-0123456789',
  agency: 'e2e-agency-a0101-token-0123456789',
};
const TOKENS: TokenEntry[] = [
  { token: TOK.admin, role: 'admin', name: '系统管理员' },
  { token: TOK.supervisor, role: 'supervisor', name: '预算工委 王芳' },
  { token: TOK.analyst, role: 'analyst', name: '财经委分析员' },
  { token: TOK.portal, role: 'portal', name: '智慧人大门户' },
  // 济宁市教育局, the department of 济宁市第一中学 (A010101).
  { token: TOK.agency, role: 'agency', agency_code: 'A0101', name: '济宁市教育局' },
];

let store: Store;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let url: string;
let browser: Browser;
let walkId: string;
let unitId: string;
let otherId: string;

async function api(path: string, token: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function runPack(only?: string) {
  const defs = await loadDefinitions();
  const rules = withConfig(defs).filter((r) => r.enabled && (only ? r.def.meta.id === only : r.def.meta.id !== HELD_BACK));
  return runRules(store, await Promise.all(rules.map((r) => compileLoaded(r))), { asOf: AS_OF, actor: 'e2e' });
}

async function context(width: number, opts: { bypassCSP?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width, height: width >= 1200 ? 900 : 1180 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true, ...opts });
}

async function loginAs(page: Page, token: string): Promise<void> {
  await page.goto(`${url}/#/login`);
  await page.locator('input[name="token"]').fill(token);
  await page.locator('[data-testid="login-submit"]').click();
  await page.locator('[data-testid="who"]').waitFor();
}

/** Signs out and waits until the console has: the header goes when DELETE /v1/session has
 * answered. Until then the router still holds the old session and sends #/login on to that
 * role's start page, so the next sign-in would begin on the wrong page. */
async function logOut(page: Page): Promise<void> {
  await page.locator('[data-testid="logout"]').click();
  await page.locator('[data-testid="who"]').waitFor({ state: 'detached' });
  await page.locator('input[name="token"]').waitFor();
}

async function act(page: Page, action: string, fill?: (p: Page) => Promise<void>, expectStatus?: string): Promise<void> {
  await page.locator(`[data-testid="actions"] button[data-action="${action}"]`).click();
  const dialog = page.locator('.el-dialog');
  await dialog.waitFor();
  if (fill) await fill(page);
  await dialog.locator('[data-testid="action-submit"]').click();
  if (expectStatus) await page.locator(`[data-testid="flag-status"][data-status="${expectStatus}"]`).waitFor();
}

async function noSeriousA11y(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ path: `${ROOT}node_modules/axe-core/axe.min.js` });
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  expect(violations, `axe on ${what}`).toEqual([]);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the console's browser tests need Debian chromium at ${CHROMIUM}: apt-get install -y chromium fonts-noto-cjk (.ci/run does)`);
  if (!existsSync(`${ROOT}console/dist/index.html`)) execFileSync('node', [`${ROOT}console/build.mjs`], { stdio: 'inherit' });
  mkdirSync(SHOTS, { recursive: true });
  ({ store, cleanup } = await tempStore());
  await ingestPath(store, SAMPLE);
  await runPack();
  ({ app, url } = await startServer(store, { tokens: TOKENS, rateLimitPerMinute: false, pollIntervalMs: 100 }));
  // A flag of 济宁市第一中学 (under the agency token's department), and one of another unit, both assigned.
  const pick = async (where: string) =>
    (await api('/v1/query', TOK.analyst, { sql: `SELECT flag_id FROM fiscus.flags WHERE ${where} ORDER BY flag_id LIMIT 1` })).rows[0]?.flag_id as string;
  walkId = await pick(`rule_id = 'treasury.split_payment' AND status = 'discovered'`);
  unitId = await pick(`agency_code IN ('A0101', 'A010101') AND status = 'discovered' AND flag_id <> '${walkId}'`);
  otherId = await pick(`agency_code NOT IN ('A0101', 'A010101') AND agency_code IS NOT NULL AND status = 'discovered' AND flag_id <> '${walkId}'`);
  expect([walkId, unitId, otherId].every(Boolean)).toBe(true);
  for (const id of [unitId, otherId]) {
    await api(`/v1/flags/${id}/actions`, TOK.supervisor, { action: 'confirm' });
    await api(`/v1/flags/${id}/actions`, TOK.supervisor, { action: 'assign' });
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await cleanup?.();
});

describe('committee console in Chromium', () => {
  it('each role logs in and sees its own navigation; the session cookie is not readable by script', async () => {
    const ctx = await context(1440);
    const page = await ctx.newPage();
    const expected: Record<keyof typeof TOK, RegExp> = {
      admin: /预警收件箱.*分析看板.*查询分析.*季度报告/s,
      supervisor: /预警收件箱.*分析看板.*查询分析.*季度报告/s,
      analyst: /预警收件箱.*分析看板.*查询分析.*季度报告/s,
      agency: /本单位工作台/,
      portal: /预警动态/,
    };
    for (const role of Object.keys(TOK) as (keyof typeof TOK)[]) {
      await loginAs(page, TOK[role]);
      const nav = await page.locator('nav.nav').innerText();
      expect(nav, role).toMatch(expected[role]);
      if (role === 'agency') expect(nav).not.toMatch(/收件箱|查询分析/);
      if (role === 'portal') expect(nav).not.toMatch(/收件箱|工作台/);
      expect(await page.evaluate(() => document.cookie)).not.toContain('fiscus_session');
      const cookies = await ctx.cookies();
      const c = cookies.find((x) => x.name === 'fiscus_session');
      expect(c?.httpOnly).toBe(true);
      expect(c?.sameSite).toBe('Strict');
      await logOut(page);
    }
    // A wrong token shows the server's message; English switch.
    await page.locator('input[name="token"]').fill('wrong-token-0000000000');
    await page.locator('[data-testid="login-submit"]').click();
    await expect.poll(() => page.locator('[data-testid="login-error"]').innerText()).toMatch(/unknown token/);
    await page.locator('label:has-text("EN")').click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Sign in to the console');
    await page.locator('label:has-text("中文")').click();
    await ctx.close();
  });

  it('a request of a signed-out session answering late does not sign out the next session', async () => {
    // CI once logged out of the supervisor's dashboards and in as a unit, and the unit's header
    // never appeared: a dashboard request of the old session, still retrying, answered 401
    // after the new login and the console took it for the end of the new session. Here that
    // request is held until the next session has begun, then sent with the old cookie.
    const ctx = await context(1440);
    const page = await ctx.newPage();
    await loginAs(page, TOK.supervisor);
    const old = (await ctx.cookies()).find((c) => c.name === 'fiscus_session')!.value;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const intercepted = new Promise<void>((r) => (reached = r));
    let answered!: (status: number) => void;
    const lateStatus = new Promise<number>((r) => (answered = r));
    await page.route('**/v1/stats**', async (route) => {
      reached();
      await held;
      const res = await route.fetch({ headers: { ...route.request().headers(), cookie: `fiscus_session=${old}` } });
      answered(res.status());
      await route.fulfill({ response: res });
    }, { times: 1 });
    await page.goto(`${url}/#/dashboards`);
    await intercepted;
    await logOut(page);
    await loginAs(page, TOK.analyst);
    release();
    expect(await lateStatus).toBe(401); // the real server: the old session is gone
    await page.waitForTimeout(500);
    await expect.poll(() => page.locator('[data-testid="who"]').innerText()).toContain('财经委分析员');
    expect(page.url()).not.toContain('ended');
    await ctx.close();
  });

  it('a supervisor walks one flag from discovered to verified', async () => {
    const ctx = await context(1440);
    const page = await ctx.newPage();
    await loginAs(page, TOK.supervisor);
    await page.goto(`${url}/#/flags/${walkId}`);
    await page.locator('[data-testid="flag-status"][data-status="discovered"]').waitFor();
    // The evidence rows themselves, and measure against threshold.
    expect(await page.locator('[data-testid="evidence-table"] tbody tr').count()).toBeGreaterThan(1);
    // Headed in Chinese from the feed catalogue, not with the column identifiers.
    const heads = await page.locator('[data-testid="evidence-table"] thead th').allInnerTexts();
    expect(heads).toEqual(expect.arrayContaining(['记录编号', '支付日期', '支付金额', '收款人名称']));
    expect(heads).not.toContain('pay_date');
    expect(await page.locator('.card:has([data-testid="evidence-table"]) .muted').first().innerText()).toContain('国库集中支付明细');
    expect(await page.locator('[data-testid="measure-threshold"]').innerText()).not.toBe('—');
    // The measure by what readers call it (the rule's measure.label), not its identifier alone.
    expect(await page.locator('[data-testid="measure-name"]').innerText()).toMatch(/\p{Script=Han}/u);
    // A refused action shows the server's message (dismiss needs a reason).
    await act(page, 'dismiss');
    await expect.poll(() => page.locator('[data-testid="action-error"]').innerText()).toMatch(/请求参数无效|note/);
    await page.locator('.el-dialog button:has-text("取消")').click();

    await act(page, 'confirm', undefined, 'confirmed');
    await act(page, 'assign', async (p) => {
      // The due date comes from the PRC working-day calendar.
      await expect.poll(() => p.locator('[data-testid="due-info"]').innerText()).toMatch(/个工作日后/);
    }, 'assigned');
    await act(page, 'start-rectification', async (p) => {
      await p.locator('.el-dialog label:has-text("立行立改")').click();
    }, 'rectifying');
    await page.locator('[data-testid="doc-file"]').setInputFiles({ name: '整改报告.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% rectification report\n') });
    await page.locator('[data-testid="doc-upload"]').click();
    await page.locator('[data-testid="documents"] li:has-text("整改报告.pdf")').waitFor();
    await act(page, 'report-rectified', async (p) => {
      await p.locator('.el-dialog textarea').fill('已收回资金并规范支付流程');
      await p.locator('.el-dialog input[placeholder="0.00"]').first().fill('12000.00');
      await p.locator('.el-dialog .el-checkbox:has-text("整改报告.pdf")').click();
    }, 'rectified');
    await act(page, 'vote', async (p) => {
      const inputs = p.locator('.el-dialog .el-input-number input');
      await inputs.nth(0).fill('4');
      await inputs.nth(1).fill('1');
      await inputs.nth(3).fill('7');
      await inputs.nth(3).blur();
    });
    await expect.poll(() => page.locator('[data-testid="votes"]').innerText()).toBe('1');
    await act(page, 'verify', undefined, 'verified');
    const history = await page.locator('[data-testid="history"]').innerText();
    for (const step of ['规则发现', '确认', '交办', '开始整改', '报告整改完成', '满意度测评', '验收销号']) expect(history).toContain(step);
    expect(history).toContain('整改报告.pdf');
    expect(await page.locator('[data-testid="actions"] button').allInnerTexts()).toEqual(['重新交办']);
    // Let the confirmation toasts go before the pictures.
    await expect.poll(() => page.locator('.el-message').count(), { timeout: 8000 }).toBe(0);
    for (const w of [1440, 820]) {
      await page.setViewportSize({ width: w, height: w === 1440 ? 900 : 1180 });
      await page.screenshot({ path: `${SHOTS}/flag-${w}.png`, fullPage: true });
    }
    await ctx.close();
  });

  it('a unit answers its assigned flag with a document and never sees another unit’s flag', async () => {
    const ctx = await context(1440);
    const page = await ctx.newPage();
    await loginAs(page, TOK.agency);
    await page.locator('[data-testid="workspace-table"] tbody tr').first().waitFor();
    const shown = await page.locator('[data-testid="workspace-table"] a[data-flag]').evaluateAll((as) => as.map((a) => a.getAttribute('data-flag')));
    expect(shown).toContain(unitId);
    expect(shown).not.toContain(otherId);
    expect(await page.locator('[data-testid="days-left"]').first().innerText()).toMatch(/剩 \d+ 个工作日/);
    for (const w of [1440, 820]) {
      await page.setViewportSize({ width: w, height: w === 1440 ? 900 : 1180 });
      await page.screenshot({ path: `${SHOTS}/workspace-${w}.png`, fullPage: true });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.locator(`a[data-flag="${unitId}"]`).click();
    await page.locator('[data-testid="flag-status"][data-status="assigned"]').waitFor();
    expect(await page.locator('[data-testid="actions"] button').allInnerTexts()).toEqual(['说明情况', '开始整改']);
    await page.locator('[data-testid="doc-file"]').setInputFiles({ name: '情况说明.txt', mimeType: 'text/plain', buffer: Buffer.from('该笔支付已按规定补办审批手续。\n') });
    await page.locator('[data-testid="doc-upload"]').click();
    await page.locator('[data-testid="documents"] li:has-text("情况说明.txt")').waitFor();
    // The archived document downloads (scope-checked, attachment).
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="documents"] a:has-text("情况说明.txt")').click()]);
    expect(download.suggestedFilename()).toBe('情况说明.txt');
    await act(page, 'explain', async (p) => {
      await p.locator('.el-dialog textarea').fill('该笔支付属正常业务，已补办审批手续，详见附件。');
      await p.locator('.el-dialog .el-checkbox:has-text("情况说明.txt")').click();
    }, 'explained');
    expect(await page.locator('[data-testid="history"]').innerText()).toContain('情况说明.txt');
    // Another unit's flag: the same answer as a flag that does not exist.
    await page.goto(`${url}/#/flags/${otherId}`);
    await expect.poll(() => page.locator('[data-testid="flag-error"]').innerText()).toMatch(/未找到该预警/);
    expect(await page.locator('[data-testid="flag-title"]').count()).toBe(0);
    await ctx.close();
  });

  it('an alert created by a rule run appears in an open inbox without a reload', async () => {
    const ctx = await context(1440);
    const page = await ctx.newPage();
    await loginAs(page, TOK.supervisor);
    await page.goto(`${url}/#/inbox`);
    await page.locator('[data-testid="inbox-table"] tbody tr').first().waitFor();
    await expect.poll(() => page.locator('[data-testid="live"]').innerText()).toMatch(/实时接收/);
    const before = Number((await page.locator('[data-testid="total"]').innerText()).match(/共 (\d+) 条/)![1]);
    await page.evaluate(() => { (window as unknown as { __noReload: boolean }).__noReload = true; });
    const summary = await runPack(HELD_BACK);
    const created = (await api(`/v1/flags?rule=${HELD_BACK}&limit=50`, TOK.analyst)).items.map((f: { flag_id: string }) => f.flag_id) as string[];
    expect(created.length).toBeGreaterThan(0);
    void summary;
    await page.locator(`[data-testid="inbox-table"] a[data-flag="${created[0]}"]`).waitFor({ timeout: 15_000 });
    const after = Number((await page.locator('[data-testid="total"]').innerText()).match(/共 (\d+) 条/)![1]);
    expect(after).toBe(before + created.length);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    for (const w of [1440, 820]) {
      await page.setViewportSize({ width: w, height: w === 1440 ? 900 : 1180 });
      await expect.poll(() => page.locator('.el-loading-mask').count()).toBe(0);
      await page.screenshot({ path: `${SHOTS}/inbox-${w}.png`, fullPage: false });
    }
    await ctx.close();
  });

  it('every dashboard renders its chart, linked to its query', async () => {
    const ctx = await context(1440);
    const page = await ctx.newPage();
    await loginAs(page, TOK.analyst);
    await page.goto(`${url}/#/dashboards`);
    await expect.poll(() => page.locator('[data-testid="chart"] svg').count(), { timeout: 20_000 }).toBe(4);
    for (let i = 0; i < 4; i++) expect(await page.locator('[data-testid="chart"]').nth(i).locator('svg path').count()).toBeGreaterThan(3);
    for (const q of ['q-loop', 'q-exec', 'q-books', 'q-debt']) expect(await page.locator(`[data-testid="${q}"]`).getAttribute('href')).toMatch(/#\/query\?/);
    for (const w of [1440, 820]) {
      await page.setViewportSize({ width: w, height: w === 1440 ? 900 : 1180 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${SHOTS}/dashboard-${w}.png`, fullPage: true });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    // The chart's query opens in the query workspace and runs there.
    await page.locator('[data-testid="q-exec"]').click();
    await expect.poll(() => page.locator('[data-testid="row-count"]').innerText(), { timeout: 15_000 }).toMatch(/\d+ 行/);
    expect(await page.locator('[data-testid="result-grid"] tbody tr').count()).toBeGreaterThan(0);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="export-csv"]').click()]);
    expect(csv.suggestedFilename()).toBe('budget_execution.csv');
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="export-xlsx"]').click()]);
    expect(xlsx.suggestedFilename()).toBe('budget_execution.xlsx');
    // The sandbox's refusal reaches the analyst as the server wrote it.
    await page.locator('[data-testid="sql"]').fill('DELETE FROM fiscus.flags');
    await page.locator('[data-testid="run"]').click();
    await expect.poll(() => page.locator('[data-testid="query-error"]').innerText()).toMatch(/查询被拒绝|SELECT/);
    await ctx.close();
  });

  it('the quarterly report downloads as HTML and PDF', async () => {
    const ctx = await context(1440);
    const page = await ctx.newPage();
    await loginAs(page, TOK.supervisor);
    await page.goto(`${url}/#/reports`);
    await page.locator('.el-input-number input').first().fill('2025');
    await page.locator('label:has-text("Q4")').click();
    const [html] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="report-html"]').click()]);
    expect(html.suggestedFilename()).toBe('quarterly-2025-Q4-zh.html');
    expect(readFileSync(await html.path(), 'utf8')).toContain('<svg');
    const [pdf] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.locator('[data-testid="report-pdf"]').click()]);
    expect(readFileSync(await pdf.path()).subarray(0, 5).toString()).toBe('%PDF-');
    await ctx.close();
  });

  it('has no serious or critical axe-core violations, and is keyboard-operable', async () => {
    const ctx = await context(1440, { bypassCSP: true });
    const page = await ctx.newPage();
    await page.goto(`${url}/#/login`);
    await page.locator('input[name="token"]').waitFor();
    await noSeriousA11y(page, 'login');
    // Keyboard only: type the token, Enter submits.
    await page.locator('input[name="token"]').focus();
    await page.keyboard.type(TOK.supervisor);
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="who"]').waitFor();
    await page.locator('[data-testid="inbox-table"] tbody tr').first().waitFor();
    await noSeriousA11y(page, 'inbox');
    await page.goto(`${url}/#/flags/${walkId}`);
    await page.locator('[data-testid="flag-title"]').waitFor();
    await noSeriousA11y(page, 'flag page');
    await page.goto(`${url}/#/dashboards`);
    await expect.poll(() => page.locator('[data-testid="chart"] svg').count(), { timeout: 20_000 }).toBe(4);
    await noSeriousA11y(page, 'dashboards');
    await page.goto(`${url}/#/query`);
    await page.locator('[data-testid="sql"]').waitFor();
    await noSeriousA11y(page, 'query');
    await page.goto(`${url}/#/reports`);
    await page.locator('[data-testid="report-html"]').waitFor();
    await noSeriousA11y(page, 'reports');
    // From a fresh load, Tab reaches the skip link, then the navigation in order; Enter follows a link.
    await page.reload();
    await page.locator('[data-testid="report-html"]').waitFor();
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
    }
    expect(seen).toEqual(['跳到正文', '预警收件箱', '分析看板', '查询分析', '季度报告']);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url()).toMatch(/#\/dashboards/);
    await logOut(page);
    await loginAs(page, TOK.agency);
    await page.locator('[data-testid="workspace-table"] tbody tr').first().waitFor();
    await noSeriousA11y(page, 'workspace');
    await ctx.close();
  });
});
