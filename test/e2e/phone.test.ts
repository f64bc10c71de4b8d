// The web UI at phone width (390x844) in Chromium: the sidebar is a drawer (a button opens it;
// Escape, a click outside or choosing an item closes it; focus follows), the top bar fits on one
// line, the Files list keeps its height when a file is open, long titles end in an ellipsis and
// nothing scrolls sideways. Screenshots go to test-artifacts/browser/phone-*.png.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { computedStyle, screenshot } from '../helpers/browser.js';
import { UI_TIMEOUT, describeBrowser, startWebApp, type WebApp } from '../helpers/web-app.js';

const LONG = `a-very-long-title-${'without-any-spaces-'.repeat(8)}end`;

describeBrowser('web UI at phone width', () => {
  let app: WebApp;

  beforeAll(async () => {
    app = await startWebApp();
    fs.writeFileSync(path.join(app.s.project, 'hello.txt'), 'hello from the project\n'.repeat(200));
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(app.s.project, `file-${String(i).padStart(2, '0')}.txt`), `file ${i}\n`);
  });
  afterAll(async () => {
    await app?.close();
  });

  type Box = { x: number; y: number; width: number; height: number };
  const box = async (page: Page, selector: string): Promise<Box> => {
    const b = await page.locator(selector).first().boundingBox();
    expect(b, selector).not.toBeNull();
    return b!;
  };
  const focusedId = (page: Page) => page.evaluate<string>('document.activeElement ? document.activeElement.id : ""');
  const focusedInSidebar = (page: Page) => page.evaluate<boolean>('document.getElementById("sidebar").contains(document.activeElement)');
  /** Whether the page scrolls sideways. */
  const scrollsSideways = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth');

  it('the top bar fits: menu button, name, permissions and log out on one line, inside the screen', async () => {
    const { page, errors, cspViolations } = await app.newPage('phone');
    await app.login(page);
    const bar = await box(page, '.topbar');
    expect(bar.width).toBe(390);
    for (const sel of ['#nav-toggle', '.brand', '#who-name', '.perm[data-perm="read"]', '.perm[data-perm="write"]', '.perm[data-perm="execute"]', '#logout']) {
      const b = await box(page, sel);
      expect(b.x, sel).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width, sel).toBeLessThanOrEqual(390);
      // One line: every item is vertically centred in the 48 px bar.
      expect(Math.abs(b.y + b.height / 2 - (bar.y + bar.height / 2)), sel).toBeLessThanOrEqual(2);
      expect(b.height, sel).toBeLessThan(bar.height);
    }
    // The name shows whole (a longer one would end in an ellipsis, never push the rest out).
    expect(await page.locator('#who-name').innerText()).toBe('web-admin');
    expect(await page.locator('#who-name').evaluate((el: any) => el.scrollWidth <= el.clientWidth)).toBe(true);
    expect(await page.locator('#logout').isVisible()).toBe(true);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'phone-topbar');
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the sidebar is a drawer: the button opens it; Escape, a click outside and choosing an item close it; focus follows', async () => {
    const { page, errors, cspViolations } = await app.newPage('phone');
    await app.login(page);
    const toggle = page.locator('#nav-toggle');
    const sidebar = page.locator('#sidebar');
    // Closed: not on show, not focusable, the button says so.
    expect(await sidebar.isVisible()).toBe(false);
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await toggle.getAttribute('aria-controls')).toBe('sidebar');
    expect(await computedStyle(sidebar, 'visibility')).toBe('hidden');

    // Opened with the keyboard: focus moves into the drawer; the main view is inert.
    await toggle.focus();
    await page.keyboard.press('Enter');
    await page.locator('#sidebar.open').waitFor({ timeout: UI_TIMEOUT });
    await expect.poll(() => sidebar.evaluate((el: any) => el.getBoundingClientRect().x), { timeout: UI_TIMEOUT }).toBe(0);
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await focusedInSidebar(page)).toBe(true);
    expect(await page.evaluate<boolean>('document.getElementById("main").inert')).toBe(true);
    await screenshot(page, 'phone-drawer-open');
    // Tab stays in the drawer and the top bar: never reaches the inert main view.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate<boolean>('document.getElementById("main").contains(document.activeElement)')).toBe(false);
    }

    // Escape closes it and gives focus back to the button.
    await page.keyboard.press('Escape');
    await expect.poll(() => sidebar.isVisible(), { timeout: UI_TIMEOUT }).toBe(false);
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await focusedId(page)).toBe('nav-toggle');
    expect(await page.evaluate<boolean>('document.getElementById("main").inert')).toBe(false);

    // A click outside (on the dimmed page) closes it.
    await toggle.click();
    await page.locator('#sidebar.open').waitFor({ timeout: UI_TIMEOUT });
    await page.mouse.click(370, 500);
    await expect.poll(() => sidebar.isVisible(), { timeout: UI_TIMEOUT }).toBe(false);
    expect(await focusedId(page)).toBe('nav-toggle');
    expect(await page.locator('#view-home').isVisible()).toBe(true); // the click did not reach the page

    // Choosing an item closes it and opens the screen.
    await toggle.click();
    await page.locator('#sidebar.open').waitFor({ timeout: UI_TIMEOUT });
    await page.click('#sidebar a[data-nav="files"]');
    await page.locator('#view-files').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect.poll(() => sidebar.isVisible(), { timeout: UI_TIMEOUT }).toBe(false);
    expect(page.url()).toMatch(/#\/files$/);
    await expect.poll(() => focusedInSidebar(page), { timeout: UI_TIMEOUT }).toBe(false);

    // "New session" in the drawer: the drawer closes, the composer takes focus.
    await toggle.click();
    await page.locator('#sidebar.open').waitFor({ timeout: UI_TIMEOUT });
    await page.click('#new-session');
    await page.waitForURL(/#\/session\/ses_/, { timeout: UI_TIMEOUT });
    await expect.poll(() => sidebar.isVisible(), { timeout: UI_TIMEOUT }).toBe(false);
    await expect.poll(() => focusedId(page), { timeout: UI_TIMEOUT }).toBe('composer-input');

    // Wider than a phone, there is no drawer: the sidebar is always there and the button is not.
    await page.setViewportSize({ width: 1280, height: 800 });
    await expect.poll(() => sidebar.isVisible(), { timeout: UI_TIMEOUT }).toBe(true);
    expect(await toggle.isVisible()).toBe(false);
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the Files list keeps its height when a file is open, and both fit the screen', async () => {
    const { page, errors, cspViolations } = await app.newPage('phone');
    await app.login(page);
    await page.goto(app.s.url + '/#/files');
    await page.locator('#file-list .entry', { hasText: 'hello.txt' }).click({ timeout: UI_TIMEOUT });
    await expect.poll(() => page.locator('#file-view').innerText(), { timeout: UI_TIMEOUT }).toContain('hello from the project');
    const list = await box(page, '#file-list');
    const viewer = await box(page, '#file-view');
    expect(list.height).toBeGreaterThanOrEqual(120);
    expect(viewer.height).toBeGreaterThanOrEqual(200);
    expect(viewer.y).toBeGreaterThanOrEqual(list.y + list.height); // stacked, not overlapping
    expect(viewer.y + viewer.height).toBeLessThanOrEqual(844);
    // The list still scrolls through its 40-odd entries.
    expect(await page.locator('#file-list').evaluate((el: any) => el.scrollHeight > el.clientHeight)).toBe(true);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'phone-files-open');
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  for (const size of ['phone', 'desktop'] as const) {
    it(`long titles end in an ellipsis and never scroll the sidebar sideways (${size})`, async () => {
      const pty = await app.post('/pty', { title: `term-${LONG}` });
      const ses = await app.post('/session', { title: `session ${LONG}` });
      try {
        const { page, errors, cspViolations } = await app.newPage(size);
        await app.login(page);
        await page.goto(`${app.s.url}/#/session/${encodeURIComponent(ses.id)}`);
        await expect.poll(() => page.locator('#ses-title').innerText(), { timeout: UI_TIMEOUT }).toBe(`session ${LONG}`);
        if (size === 'phone') {
          await page.click('#nav-toggle');
          await page.locator('#sidebar.open').waitFor({ timeout: UI_TIMEOUT });
        }
        for (const sel of [`#session-list a[data-id="${ses.id}"] .label`, `#terminal-list a[data-id="${pty.id}"] .label`, '#ses-title']) {
          const label = page.locator(sel);
          await label.waitFor({ timeout: UI_TIMEOUT });
          expect(await computedStyle(label, 'text-overflow'), sel).toBe('ellipsis');
          expect(await computedStyle(label, 'white-space'), sel).toBe('nowrap');
          expect(await label.evaluate((el: any) => el.scrollWidth > el.clientWidth), `${sel} is cut`).toBe(true);
          const b = await box(page, sel);
          expect(b.x + b.width, sel).toBeLessThanOrEqual(size === 'phone' ? 390 : 1280);
        }
        expect(await page.locator('#sidebar').evaluate((el: any) => el.scrollWidth <= el.clientWidth)).toBe(true);
        expect(await scrollsSideways(page)).toBe(false);
        await screenshot(page, `phone-long-titles-${size}`);
        expect(await cspViolations()).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await app.s.fetch(`/pty/${pty.id}`, { method: 'DELETE', token: app.admin.token });
        await app.s.fetch(`/session/${ses.id}`, { method: 'DELETE', token: app.admin.token });
      }
    });
  }

  it('no screen scrolls sideways at phone width, even with a wide code block in a reply', async () => {
    const { page, errors, cspViolations } = await app.newPage('phone');
    await app.login(page);
    app.model.reply({
      text: [
        '```js\n',
        `const wide = "${'x'.repeat(300)}";\n`,
        '```\n\n| a | b | c | d | e | f |\n|---|---|---|---|---|---|\n',
        `| ${'cell '.repeat(30)} | 2 | 3 | 4 | 5 | 6 |\n`,
      ],
    });
    await page.click('#home-session');
    await page.waitForURL(/#\/session\/ses_/, { timeout: UI_TIMEOUT });
    await page.fill('#composer-input', 'wide please');
    await page.keyboard.press('Enter');
    await page.locator('.msg.assistant .part.text pre code').waitFor({ timeout: UI_TIMEOUT });
    await expect.poll(() => page.locator('#composer-send').innerText(), { timeout: UI_TIMEOUT }).toBe('Send');
    expect(await scrollsSideways(page)).toBe(false);
    // The code block scrolls inside itself.
    expect(await page.locator('.msg.assistant pre').evaluate((el: any) => el.scrollWidth > el.clientWidth)).toBe(true);
    const msg = await box(page, '.msg.assistant');
    expect(msg.x + msg.width).toBeLessThanOrEqual(390);
    await screenshot(page, 'phone-wide-reply');
    for (const hash of ['#/', '#/files', '#/config']) {
      await page.goto(app.s.url + '/' + hash);
      await page.locator('.view:not([hidden])').waitFor({ timeout: UI_TIMEOUT });
      expect(await scrollsSideways(page), hash).toBe(false);
    }
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });
});
