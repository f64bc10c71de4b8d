// Accessibility of the web UI in Chromium: axe-core on every screen (login, home, terminal, session,
// files, settings; on a phone also the open navigation drawer) at 1280x800 and 390x844 finds no
// serious or critical violation; the main controls are reached with Tab and show a focus outline.
// Screenshots of each screen at both sizes go to test-artifacts/browser/.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot } from '../helpers/browser.js';
import { UI_TIMEOUT, VIEWPORTS, describeBrowser, runAxe, seriousViolations, startWebApp, type ViewportName, type WebApp } from '../helpers/web-app.js';

describeBrowser('web UI accessibility (axe-core, keyboard)', () => {
  let app: WebApp;

  beforeAll(async () => {
    app = await startWebApp();
    fs.writeFileSync(path.join(app.s.project, 'hello.txt'), 'hello from the project\n');
    fs.mkdirSync(path.join(app.s.project, 'src'));
    fs.writeFileSync(path.join(app.s.project, 'src', 'main.ts'), 'export const answer: number = 42;\n');
  });
  afterAll(async () => {
    await app?.close();
  });

  /** axe on what is on show now: no serious or critical violation; and a screenshot. */
  async function check(page: Page, name: string, size: ViewportName): Promise<void> {
    await screenshot(page, `a11y-${name}-${size}`);
    expect(seriousViolations(await runAxe(page)), `${name} at ${VIEWPORTS[size].width}x${VIEWPORTS[size].height}`).toEqual([]);
  }

  for (const size of ['desktop', 'phone'] as const) {
    it(`every screen at ${VIEWPORTS[size].width}x${VIEWPORTS[size].height}: no serious or critical axe-core violation`, { timeout: 60_000 }, async () => {
      const { page, errors, cspViolations } = await app.newPage(size);
      const phone = size === 'phone';

      await page.goto(app.s.url + '/');
      await page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      expect(await page.locator('#login h1').innerText()).toMatch(/tether/);
      await check(page, 'login', size);
      // The login page with an error message on show (its colours are checked too).
      await page.fill('#login-token', 'tether_notarealtoken');
      await page.click('#login-submit');
      await expect.poll(() => page.locator('#login-message').innerText(), { timeout: UI_TIMEOUT }).toMatch(/not accepted/);
      await check(page, 'login-error', size);

      await app.login(page);
      await page.locator('#view-home').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      await check(page, 'home', size);
      if (phone) {
        await page.click('#nav-toggle');
        await page.locator('.sidebar.open').waitFor({ timeout: UI_TIMEOUT });
        await check(page, 'drawer', size);
        await page.keyboard.press('Escape');
      }

      // Terminal: open through the home screen's card (the sidebar is a closed drawer on a phone).
      await page.click('#home-terminal');
      await expect.poll(() => page.locator('#term-status').innerText(), { timeout: UI_TIMEOUT }).toBe('connected');
      await page.keyboard.type('echo a11y-$((6*7))\n');
      await expect.poll(() => page.locator('#term .xterm-rows').innerText(), { timeout: UI_TIMEOUT }).toContain('a11y-42');
      await check(page, 'terminal', size);

      // Session: a shell command and an agent reply with Markdown and a code fence.
      app.model.reply({ text: ['Here is **bold**, `code`, a [link](https://example.com/docs) and:\n\n', '```ts\nconst x: number = 1;\n```\n'] });
      await page.goto(app.s.url + '/#/');
      await page.click('#home-session');
      await page.waitForURL(/#\/session\/ses_/, { timeout: UI_TIMEOUT });
      await page.fill('#composer-input', 'Show me some markdown');
      await page.keyboard.press('Enter');
      await page.locator('.msg.assistant .part.text pre code').waitFor({ timeout: UI_TIMEOUT });
      await expect.poll(() => page.locator('#composer-send').innerText(), { timeout: UI_TIMEOUT }).toBe('Send');
      await page.click('.mode label:has(input[value="shell"])');
      await page.fill('#composer-input', 'echo out; echo err >&2; exit 3');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('.msg.shell .badge').last().innerText(), { timeout: UI_TIMEOUT }).toBe('exit 3');
      await check(page, 'session', size);

      await page.goto(app.s.url + '/#/files');
      await page.locator('#file-list .entry', { hasText: 'hello.txt' }).click({ timeout: UI_TIMEOUT });
      await expect.poll(() => page.locator('#file-view').innerText(), { timeout: UI_TIMEOUT }).toContain('hello from the project');
      await check(page, 'files', size);

      await page.goto(app.s.url + '/#/config');
      await expect.poll(() => page.locator('#view-config').innerText(), { timeout: UI_TIMEOUT }).toContain('/bin/bash');
      await check(page, 'settings', size);

      expect(await cspViolations()).toEqual([]);
      expect(errors).toEqual([]);
    });
  }
});
