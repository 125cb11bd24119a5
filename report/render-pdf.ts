/**
 * HTML → PDF with Debian's chromium driven by playwright-core (no browser
 * download: STACK-NOTES.md). Without chromium the caller says so and keeps the HTML.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser to print with: FISCUS_CHROMIUM (a path, or `off` to never print), else a Debian install. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.FISCUS_CHROMIUM;
  if (fromEnv === 'off') return undefined;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

export async function htmlToPdf(htmlPath: string, pdfPath: string, executablePath: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // Flags the machine needs: no sandbox as root, and no background network calls (the network is closed).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`file://${htmlPath}`, { waitUntil: 'load' });
    await page.pdf({
      path: pdfPath,
      format: 'A4',
      printBackground: true,
      margin: { top: '18mm', bottom: '18mm', left: '16mm', right: '16mm' },
      displayHeaderFooter: true,
      headerTemplate: '<span></span>',
      footerTemplate: '<div style="font-size:8px;width:100%;text-align:center;color:#888"><span class="pageNumber"></span> / <span class="totalPages"></span></div>',
    });
  } finally {
    await browser.close();
  }
}
