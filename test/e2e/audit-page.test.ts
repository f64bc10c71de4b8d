// The web UI's Audit page in headless Chromium: listed for tokens with read + execute only, shows
// the trail newest first with its filters, renders attacker-controlled text as text, and says when
// the log cannot be written. No CSP violation, no page error.
//
// Without Chromium the suite is skipped, loudly; with TETHER_REQUIRE_BROWSER=1 (CI) that is a failure.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { findChromium, launchChromium, screenshot, watchedPage } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempEnv } from '../helpers/env.js';
import { UI_TIMEOUT, describeBrowser } from '../helpers/web-app.js';

const found = findChromium();
const json = { 'content-type': 'application/json' };

describeBrowser('the Audit page in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let admin: { token: string; id: string };

  beforeAll(async () => {
    s = await startTestServer({ registrars: await productionRegistrars() });
    browser = await launchChromium(found.path!);
    admin = await s.token(['read', 'write', 'execute'], { name: 'auditor' });
    const ses = await (await s.fetch('/session', { method: 'POST', token: admin.token, headers: json, body: '{}' })).json();
    // A command an attacker chose: markup and escape sequences, which must stay text.
    const evil = 'echo "<img src=x onerror=alert(1)>" \u001b[31m';
    const r = await s.fetch(`/session/${ses.id}/shell`, { method: 'POST', token: admin.token, headers: json, body: JSON.stringify({ command: evil }) });
    expect(r.status).toBe(200);
    expect((await s.fetch('/config', { method: 'PATCH', token: admin.token, headers: json, body: '{"model":"m"}' })).status).toBe(200);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
  });

  async function loggedIn(token: string): Promise<{ page: Page; errors: string[]; cspViolations: () => Promise<string[]> }> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    contexts.push(context);
    const w = await watchedPage(context);
    await w.page.goto(s.url + '/');
    await w.page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await w.page.fill('#login-token', token);
    await w.page.click('#login-submit');
    await w.page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    return w;
  }

  const rows = (page: Page) => page.locator('#audit-rows tr');

  it('shows the trail newest first, filters it, and keeps commands as text', async () => {
    const { page, errors, cspViolations } = await loggedIn(admin.token);
    await page.locator('#nav-audit a').click();
    await page.locator('#view-audit').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect.poll(() => rows(page).count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(3);
    const kinds = await page.locator('#audit-rows tr').evaluateAll((trs) => trs.map((tr) => (tr as any).dataset.kind as string));
    // Newest first: the login this page just made is at the top.
    expect(kinds[0]).toBe('web.login');
    expect(kinds).toEqual(expect.arrayContaining(['config.update', 'shell.exit', 'shell.start', 'server.start']));
    const shell = page.locator('#audit-rows tr[data-kind="shell.start"] td.what');
    expect(await shell.innerText()).toContain('<img src=x onerror=alert(1)>');
    expect(await page.locator('#audit-rows img').count()).toBe(0);
    expect(await page.locator('#audit-rows tr[data-kind="config.update"] td').nth(2).innerText()).toBe('auditor');

    await page.selectOption('#audit-kind', 'config');
    await page.click('#audit-form button[type=submit]');
    await expect
      .poll(() => page.locator('#audit-rows tr').evaluateAll((trs) => trs.map((tr) => (tr as any).dataset.kind as string)))
      .toEqual(['config.update']);
    await page.selectOption('#audit-kind', '');
    await page.fill('#audit-token', 'nobody-by-that-name');
    await page.click('#audit-form button[type=submit]');
    await expect.poll(() => page.locator('#audit-summary').innerText()).toBe('No events match.');
    await page.fill('#audit-token', admin.id);
    await page.click('#audit-form button[type=submit]');
    await expect.poll(() => rows(page).count()).toBeGreaterThan(3);
    await page.fill('#audit-token', '');
    await page.click('#audit-form button[type=submit]');
    await expect.poll(() => rows(page).count()).toBeGreaterThan(3);
    expect(await page.locator('#audit-warning').isVisible()).toBe(false);
    await screenshot(page, 'audit-page');
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('is not offered to a token without execute, and its route falls back to home', async () => {
    const reader = await s.token(['read', 'write'], { name: 'no-exec' });
    const { page, errors } = await loggedIn(reader.token);
    expect(await page.locator('#nav-audit').isVisible()).toBe(false);
    await page.goto(s.url + '/#/audit');
    await page.locator('#view-home').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#view-audit').isVisible()).toBe(false);
    expect(errors).toEqual([]);
  });

  it('says when the audit log cannot be written', async () => {
    const blocked = tempEnv();
    fs.writeFileSync(path.join(blocked.root, 'file'), 'x');
    const failing = await startTestServer({ registrars: await productionRegistrars(), audit: { dir: path.join(blocked.root, 'file', 'tether') } });
    try {
      const t = await failing.token(['read', 'write', 'execute']);
      const context = await browser.newContext();
      contexts.push(context);
      const { page } = await watchedPage(context);
      await page.goto(failing.url + '/#/audit');
      await page.fill('#login-token', t.token);
      await page.click('#login-submit');
      await page.locator('#audit-warning').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      expect(await page.locator('#audit-warning').innerText()).toMatch(/The audit log cannot be written \(.*(ENOTDIR|EEXIST).*\); \d+ event\(s\) not recorded/);
      await screenshot(page, 'audit-page-failing');
    } finally {
      await failing.close();
      blocked.cleanup();
    }
  });
});
