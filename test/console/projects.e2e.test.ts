/**
 * The console's livelihood-projects page end to end (Debian Chromium through playwright-core,
 * a real server over the bundled sample): the year's projects with their money; a deputy's
 * problem entered at phone width (photo hashed in the browser) and handed over; the problem is
 * a flag of the closed loop with the photo's SHA-256; a unit is sent to its workspace; axe finds
 * nothing serious.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { ingestPath } from '../../ingest/index.ts';
import type { Store } from '../../engine/db.ts';
import type { TokenEntry } from '../../api/tokens.ts';
import { startServer, tempStore } from '../api/helpers.ts';
import { P1 } from '../projects/scenario.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../fixtures/sample/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const TOK = { supervisor: 'pj-supervisor-token-0123456789', agency: 'pj-agency-a0105-token-0123456789' };
const TOKENS: TokenEntry[] = [
  { token: TOK.supervisor, role: 'supervisor', name: '预算工委 王芳' },
  { token: TOK.agency, role: 'agency', agency_code: 'A0105', name: '济宁市住房和城乡建设局' },
];

let store: Store;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let url: string;
let browser: Browser;

async function loginAs(page: Page, token: string): Promise<void> {
  await page.goto(`${url}/#/login`);
  await page.locator('input[name="token"]').fill(token);
  await page.locator('[data-testid="login-submit"]').click();
  await page.locator('[data-testid="who"]').waitFor();
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the console's browser tests need Debian chromium at ${CHROMIUM}: apt-get install -y chromium fonts-noto-cjk`);
  // Always rebuild: the page is new, and a bundle built before it would not have it.
  execFileSync('node', [`${ROOT}console/build.mjs`], { stdio: 'inherit' });
  ({ store, cleanup } = await tempStore());
  await ingestPath(store, SAMPLE);
  ({ app, url } = await startServer(store, { tokens: TOKENS, rateLimitPerMinute: false }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await cleanup?.();
});

describe('console: livelihood projects', () => {
  it('shows the year and takes a deputy\'s problem at phone width', async () => {
    // bypassCSP: only so the test can inject axe-core; the app itself runs under the server's CSP.
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', bypassCSP: true });
    const page = await ctx.newPage();
    await loginAs(page, TOK.supervisor);
    await page.goto(`${url}/#/projects`);
    const year = page.locator('#p-year');
    await year.fill('2025');
    await year.press('Enter');
    await page.locator(`[data-testid="projects-table"] tr[data-project="${P1.code}"]`).waitFor();
    expect(await page.locator('[data-testid="projects-table"] tbody tr[data-project]').count()).toBe(10);
    expect(await page.locator(`tr[data-project="${P1.code}"]`).innerText()).toContain('2,760,000.00');

    const photo = join(mkdtempSync(join(tmpdir(), 'fiscus-photo-')), 'fire-lane.jpg');
    writeFileSync(photo, Buffer.from('jpeg bytes of a blocked fire lane'));
    const sha = createHash('sha256').update(Buffer.from('jpeg bytes of a blocked fire lane')).digest('hex');
    await page.locator('#pf-project').selectOption(P1.code);
    await page.locator('#pf-deputy').fill(P1.deputy);
    await page.locator('#pf-text').fill(P1.text);
    await page.locator('#pf-address').fill(P1.address);
    await page.locator('#pf-photos').setInputFiles(photo);
    await page.getByText(sha).waitFor();
    await page.locator('[data-testid="problem-submit"]').click();
    const sent = page.locator('[data-testid="problem-sent"]');
    await sent.waitFor();
    const flagId = (await sent.getAttribute('data-flag'))!;
    mkdirSync(`${ROOT}test-output/screenshots`, { recursive: true });
    await page.screenshot({ path: `${ROOT}test-output/screenshots/projects-phone-390.png`, fullPage: true });
    // The form fits the phone: nothing wider than the viewport.
    const formWidth = await page.locator('[data-testid="problem-form"]').evaluate((el) => el.getBoundingClientRect().right);
    expect(formWidth).toBeLessThanOrEqual(390);

    const res = await fetch(`${url}/v1/flags/${flagId}`, { headers: { authorization: `Bearer ${TOK.agency}` } });
    const flag = await res.json();
    expect([res.status, flag.rule_id, flag.status, flag.agency_code]).toEqual([200, 'deputy.report', 'assigned', 'A0105']);
    const hist = await (await fetch(`${url}/v1/flags/${flagId}`, { headers: { authorization: `Bearer ${TOK.supervisor}` } })).json();
    const discovered = hist.history.find((e: { type: string }) => e.type === 'flag.discovered');
    expect(discovered.data).toMatchObject({ source: 'deputy', deputy_id: P1.deputy, photos: [{ name: 'fire-lane.jpg', sha256: sha, bytes: 33 }], location: { address: P1.address } });
    expect(hist.history.map((e: { type: string }) => e.type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned']);

    await page.addScriptTag({ path: `${ROOT}node_modules/axe-core/axe.min.js` });
    const violations = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
    expect(violations).toEqual([]);
    await ctx.close();
  });

  it('a unit is sent to its workspace', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    await loginAs(page, TOK.agency);
    await page.goto(`${url}/#/projects`);
    await page.waitForURL(/#\/workspace/);
    await ctx.close();
  });
});
