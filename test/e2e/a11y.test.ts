// Accessibility of the web UI in Chromium: axe-core on every screen (login, home, terminal, session,
// files, settings; on a phone also the open navigation drawer) at 1280x800 and 390x844 finds no
// serious or critical violation; the main controls are reached with Tab and show a focus outline.
// Screenshots of each screen at both sizes go to test-artifacts/browser/.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { deleteTokens } from '../../src/auth/token-admin.js';
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

  /** The focused element, described, and whether its focus shows: an outline on it (on the visible
   * option for a hidden radio), or the composer's ring around its textarea. */
  const FOCUS = `(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { name: 'body', shown: false };
    const ring = (node) => {
      if (!node) return false;
      const cs = getComputedStyle(node);
      return (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 1) || cs.boxShadow !== 'none';
    };
    const target = el.matches('.mode input') ? el.nextElementSibling : el.matches('#composer-input') ? el.closest('.composer') : el;
    const name = el.id ? '#' + el.id : el.dataset.nav ? 'nav:' + el.dataset.nav : el.tagName.toLowerCase() + ':' + (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40);
    return { name, shown: ring(target) && target.getBoundingClientRect().width > 0 };
  })()`;
  const focused = (page: Page) => page.evaluate<{ name: string; shown: boolean }>(FOCUS);

  /** Presses Tab until `name` has focus (checking every stop shows its focus); returns the names passed. */
  async function tabTo(page: Page, name: string | RegExp, { max = 40, back = false } = {}): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < max; i++) {
      await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
      const f = await focused(page);
      seen.push(f.name);
      expect(f.shown, `focus on ${f.name} is visible (after ${seen.join(', ')})`).toBe(true);
      if (typeof name === 'string' ? f.name === name : name.test(f.name)) return seen;
    }
    throw new Error(`Tab never reached ${String(name)}; it went through ${seen.join(', ')}`);
  }

  it('every main control is reached with Tab, shows its focus, and works from the keyboard (1280x800)', { timeout: 60_000 }, async () => {
    const { page, errors, cspViolations } = await app.newPage('desktop');
    // Login: the token field has focus; Tab reaches the button; Enter logs in.
    await page.goto(app.s.url + '/');
    await page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect((await focused(page)).name).toBe('#login-token');
    await page.keyboard.type(app.admin.token);
    await tabTo(page, '#login-submit', { max: 2 });
    await page.keyboard.press('Enter');
    await page.locator('#view-home').waitFor({ state: 'visible', timeout: UI_TIMEOUT });

    // Home: one pass of Tab goes through the top bar, the sidebar and the screen's actions.
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    const seen = await tabTo(page, "a:Browse filesRead the project's files");
    for (const name of ['a:tether', '#logout', '#new-terminal', '#new-session', 'nav:files', 'nav:config', '#home-terminal', '#home-session'])
      expect(seen, `Tab reaches ${name}`).toContain(name);

    // A session, from the keyboard: open it, switch the composer to Shell with the arrow keys, run a command.
    await tabTo(page, '#home-session', { back: true });
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/session\/ses_/, { timeout: UI_TIMEOUT });
    await expect.poll(async () => (await focused(page)).name, { timeout: UI_TIMEOUT }).toBe('#composer-input');
    await tabTo(page, /^input:/, { back: true, max: 3 }); // the "Send as" radio group
    await page.keyboard.press('ArrowRight');
    expect(await page.locator('.mode input[value="shell"]').isChecked()).toBe(true);
    // (Choosing a mode puts the focus back in the text field.)
    expect(await focused(page)).toEqual({ name: '#composer-input', shown: true });
    await page.keyboard.type('echo kb-$((3*3))');
    await page.keyboard.press('Enter');
    await expect
      .poll(
        () =>
          page
            .locator('.msg.shell pre.stdout')
            .last()
            .innerText()
            .catch(() => ''),
        { timeout: UI_TIMEOUT },
      )
      .toBe('kb-9\n');
    // The toolbar's buttons are reached too.
    await tabTo(page, '#ses-delete', { back: true });

    // Files: an entry opens with Enter.
    await tabTo(page, 'nav:files', { back: true });
    await page.keyboard.press('Enter');
    await page.locator('#file-list .entry', { hasText: 'hello.txt' }).waitFor({ timeout: UI_TIMEOUT });
    await tabTo(page, /^li:.*hello\.txt/);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#file-view').innerText(), { timeout: UI_TIMEOUT }).toContain('hello from the project');

    // Settings.
    await tabTo(page, 'nav:config', { back: true });
    await page.keyboard.press('Enter');
    await page.locator('#view-config').waitFor({ state: 'visible', timeout: UI_TIMEOUT });

    // A terminal: typing goes to the shell (Tab too); F6 leaves it for its toolbar.
    await tabTo(page, '#new-terminal', { back: true });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#term-status').innerText(), { timeout: UI_TIMEOUT }).toBe('connected');
    await page.keyboard.type('echo kb-$((4*4))\n');
    await expect.poll(() => page.locator('#term .xterm-rows').innerText(), { timeout: UI_TIMEOUT }).toContain('kb-16');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<boolean>('document.getElementById("term").contains(document.activeElement)')).toBe(true);
    await page.keyboard.press('F6');
    expect(await focused(page)).toEqual({ name: '#term-kill', shown: true });
    await screenshot(page, 'a11y-keyboard-terminal');
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the phone drawer works from the keyboard (390x844)', async () => {
    const { page, errors, cspViolations } = await app.newPage('phone');
    await app.login(page);
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await tabTo(page, '#nav-toggle', { max: 3 });
    await page.keyboard.press('Enter');
    await page.locator('#sidebar.open').waitFor({ timeout: UI_TIMEOUT });
    expect((await focused(page)).shown).toBe(true);
    await tabTo(page, 'nav:config');
    await page.keyboard.press('Enter');
    await page.locator('#view-config').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect.poll(() => page.locator('#sidebar').isVisible(), { timeout: UI_TIMEOUT }).toBe(false);
    // Focus is not lost on the hidden drawer: it is back on the menu button.
    await expect.poll(async () => (await focused(page)).name, { timeout: UI_TIMEOUT }).toBe('#nav-toggle');
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a live update of the sidebar keeps the keyboard focus on the item it was on', async () => {
    const { page, errors, cspViolations } = await app.newPage('desktop');
    const first = await app.post('/session', { title: 'focus-keeper' });
    await app.login(page);
    const link = `#session-list a[data-id="${first.id}"]`;
    await page.locator(link).waitFor({ timeout: UI_TIMEOUT });
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await tabTo(page, /^a:.*focus-keeper/);
    const before = await page.locator(link).elementHandle();
    // Made elsewhere: the list is re-rendered with one more session.
    const other = await app.post('/session', { title: 'made-meanwhile' });
    await page.locator(`#session-list a[data-id="${other.id}"]`).waitFor({ timeout: UI_TIMEOUT });
    expect(await before.evaluate((el: any) => el.isConnected)).toBe(false); // a new element...
    expect(await page.evaluate<string>('document.activeElement.dataset.id')).toBe(first.id); // ...with the focus
    expect((await focused(page)).shown).toBe(true);
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the login page says once why a token was refused, and what to do', async () => {
    const gone = await app.s.token(['read'], { name: 'a11y-deleted' });
    await deleteTokens([gone.id], app.s.env.tokenFile);
    const expired = await app.s.token(['read'], { name: 'a11y-expired', expiresAt: new Date(Date.now() - 60_000).toISOString() });
    const { page, errors } = await app.newPage('desktop');
    await page.goto(app.s.url + '/');
    await page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    for (const [token, text] of [
      [gone.token, 'That token was not accepted: it was revoked, or this server never issued it.'],
      [expired.token, 'That token has expired. Create a new one on the server.'],
      ['tether_short', 'That token was not accepted: a tether token is "tether_" followed by 28 letters and digits; paste it whole.'],
    ]) {
      await page.fill('#login-token', token);
      await page.click('#login-submit');
      await expect.poll(() => page.locator('#login-message').innerText(), { timeout: UI_TIMEOUT }).toBe(text);
    }
    expect(errors).toEqual([]);
  });

  it('a read-only token: its home screen with the note, and its files (no serious or critical violation)', async () => {
    const reader = await app.s.token(['read'], { name: 'a11y-reader' });
    const { page, errors, cspViolations } = await app.newPage('desktop');
    await app.login(page, reader.token);
    await page.locator('#no-exec-note').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await check(page, 'read-only-home', 'desktop');
    await page.goto(app.s.url + '/#/files');
    await page.locator('#file-list .entry').first().waitFor({ timeout: UI_TIMEOUT });
    await check(page, 'read-only-files', 'desktop');
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

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
      // Said once, and what to do (it used to read "not accepted (that token was not accepted)").
      await expect
        .poll(() => page.locator('#login-message').innerText(), { timeout: UI_TIMEOUT })
        .toBe('That token was not accepted: a tether token is "tether_" followed by 28 letters and digits; paste it whole.');
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

      // Loaded when GET /config has answered and the screen no longer says "Loading" (whatever
      // controls it shows the values in).
      const settings = page.waitForResponse((r) => new URL(r.url()).pathname === '/config' && r.request().method() === 'GET', { timeout: UI_TIMEOUT });
      await page.goto(app.s.url + '/#/config');
      expect((await settings).status()).toBe(200);
      await page.locator('#view-config').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      await expect.poll(() => page.locator('#view-config').innerText(), { timeout: UI_TIMEOUT }).not.toMatch(/Loading/);
      await check(page, 'settings', size);

      expect(await cspViolations()).toEqual([]);
      expect(errors).toEqual([]);
    });
  }
});
