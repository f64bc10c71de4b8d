// Web UI login in headless Chromium: no token in links, and no login that silently replaces the
// session of another tab (tabs of one origin share the cookie). Two pages of one browser context
// are two tabs of one browser profile.
//
// Without Chromium the suite is skipped, loudly; with TETHER_REQUIRE_BROWSER=1 (CI) that is a failure.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ptyRoutes } from '../../src/server/routes/pty.js';
import { registerSession } from '../../src/server/routes/session.js';
import { registerWeb } from '../../src/server/routes/web.js';
import { WEB_LOGIN_COOKIE as SESSION_COOKIE } from '../../src/auth/credential-headers.js';
import { findChromium, launchChromium, screenshot, watchedPage } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const found = findChromium();
const required = process.env.TETHER_REQUIRE_BROWSER === '1';
if (found.path === null) {
  console.warn(
    `\n*** web login suite skipped: chromium not found (${found.reason}). Set CHROME_PATH, or TETHER_REQUIRE_BROWSER=1 to make this a failure. ***\n`,
  );
  if (required) {
    it('web login suite: chromium not found and TETHER_REQUIRE_BROWSER=1 requires it', () => {
      throw new Error(`chromium not found: ${found.reason}`);
    });
  } else {
    it.skip('web login suite skipped: chromium not found (set CHROME_PATH)', () => {});
  }
}

const UI_TIMEOUT = 10_000;

describe.skipIf(found.path === null)('web UI login in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    s = await startTestServer({ registrars: [ptyRoutes(), registerSession, registerWeb] });
    browser = await launchChromium(found.path!);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
  });

  async function newContext(): Promise<BrowserContext> {
    const c = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    contexts.push(c);
    return c;
  }

  const logins = () => s.logs.filter((l) => l.event === 'web.login').length;

  async function openLogin(page: Page): Promise<void> {
    await page.goto(s.url + '/');
    await page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  }

  async function submit(page: Page, token: string): Promise<void> {
    await page.fill('#login-token', token);
    await page.click('#login-submit');
  }

  /** Whether a page's own session (its cookie and its key) still works, asked from inside the page. */
  const works = (page: Page) =>
    page.evaluate(() => fetch('/auth/whoami', { headers: { 'x-tether-session': sessionStorage.getItem('tether.sessionKey') ?? '' } }).then((r) => r.status));

  it('a /#token= link is not a login: the fragment is erased, sent nowhere, and the page says to paste', async () => {
    const admin = await s.token(['read', 'write', 'execute'], { name: 'link-victim' });
    const { page, errors } = await watchedPage(await newContext());
    const requested: string[] = [];
    page.on('request', (r) => requested.push(`${r.url()} ${r.postData() ?? ''}`));
    const before = logins();
    await page.goto(`${s.url}/#token=${admin.token}`);
    await page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#login-message').innerText()).toMatch(/token in the link .* is not supported.*paste it below/i);
    expect(page.url()).toBe(s.url + '/');
    expect(await page.evaluate('location.hash')).toBe('');
    expect(requested.filter((u) => u.includes(admin.token))).toEqual([]);
    expect(requested.filter((u) => u.includes('/auth/session'))).toEqual([]);
    expect(logins()).toBe(before);
    expect((await page.context().cookies(s.url)).find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    // Typed into the address bar of an open page (a hashchange): the same.
    await page.evaluate((t) => (location.hash = `#/files&token=${t}`), admin.token);
    await expect.poll(() => page.evaluate('location.hash'), { timeout: UI_TIMEOUT }).toBe('');
    expect(logins()).toBe(before);
    // The paste login still works.
    await submit(page, admin.token);
    await page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#who-name').innerText()).toBe('link-victim');
    await screenshot(page, '10-token-link-refused');
    expect(errors).toEqual([]);
  });

  it("a page on another origin cannot swap the user's login by opening a #token= link", async () => {
    const victim = await s.token(['read', 'write', 'execute'], { name: 'victim' });
    const attacker = await s.token(['read', 'write', 'execute'], { name: 'attacker' });
    const ctx = await newContext();
    const { page } = await watchedPage(ctx);
    await openLogin(page);
    await submit(page, victim.token);
    await page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const before = logins();

    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>evil</title><script>window.open(${JSON.stringify(`${s.url}/#token=${attacker.token}`)}); document.title = 'opened';</script>`,
      );
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const evilPage = await ctx.newPage();
      const popup = ctx.waitForEvent('page', { timeout: UI_TIMEOUT });
      await evilPage.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const opened = await popup;
      await opened.waitForLoadState();
      // Whatever the new tab shows (the login page, or this browser's own session), it says no.
      await expect
        .poll(
          () =>
            opened
              .locator('#login-message, #banner')
              .filter({ hasText: /not supported/ })
              .count(),
          { timeout: UI_TIMEOUT },
        )
        .toBe(1);
      expect(await opened.evaluate('location.hash')).toBe('');
    } finally {
      evil.closeAllConnections();
      await new Promise((r) => evil.close(r));
    }
    expect(logins()).toBe(before);
    expect(await works(page)).toBe(200);
    expect(await page.locator('#who-name').innerText()).toBe('victim');
  });

  it('logging in while another tab is logged in asks first: Cancel leaves it alone, confirming ends it with a reason', async () => {
    const first = await s.token(['read'], { name: 'tab-a-user' });
    const second = await s.token(['read'], { name: 'tab-b-user' });
    const ctx = await newContext();
    const a = await watchedPage(ctx);
    await openLogin(a.page);
    await submit(a.page, first.token);
    await a.page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const b = await watchedPage(ctx);
    await openLogin(b.page);
    const before = logins();

    await submit(b.page, second.token);
    await b.page.locator('#login-confirm').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await b.page.locator('#login-confirm-text').innerText()).toMatch(
      /logged in as tab-a-user in another tab.*ends that tab's session.*Log in here anyway\?/,
    );
    await screenshot(b.page, '11-login-confirm');
    // Nothing was sent yet: tab A is untouched.
    expect(logins()).toBe(before);
    expect(await works(a.page)).toBe(200);

    await b.page.click('#login-confirm-no');
    await expect.poll(() => b.page.locator('#login-message').innerText(), { timeout: UI_TIMEOUT }).toMatch(/other session is untouched/);
    expect(await b.page.locator('#login-confirm').isVisible()).toBe(false);
    expect(logins()).toBe(before);
    expect(await works(a.page)).toBe(200);
    expect(await a.page.locator('#app').isVisible()).toBe(true);

    await submit(b.page, second.token);
    await b.page.locator('#login-confirm').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await b.page.click('#login-confirm-yes');
    await b.page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await b.page.locator('#who-name').innerText()).toBe('tab-b-user');
    expect(logins()).toBe(before + 1);
    // Tab A learns at once, and says why.
    await a.page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await a.page.locator('#login-message').innerText()).toMatch(/A login as tab-b-user in another tab ended this tab's session/);
    expect(await works(a.page)).toBe(401);
    expect(await works(b.page)).toBe(200);
    await screenshot(a.page, '12-login-replaced-elsewhere');
    expect(a.errors.filter((e) => !/401/.test(e))).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it('a login cookie this browser sent at start (a sleeping tab, another tether on this host) also asks first', async () => {
    const user = await s.token(['read'], { name: 'cookie-user' });
    const ctx = await newContext();
    // As another tether server on another port of this host would have left it: same host, any port.
    await ctx.addCookies([{ name: SESSION_COOKIE, value: 'from-elsewhere', url: s.url, httpOnly: true, sameSite: 'Strict' }]);
    const { page } = await watchedPage(ctx);
    await openLogin(page);
    const before = logins();
    await submit(page, user.token);
    await page.locator('#login-confirm').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#login-confirm-text').innerText()).toMatch(/already holds a tether login for this host.*replaces it/);
    expect(logins()).toBe(before);
    await page.click('#login-confirm-yes');
    await page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#who-name').innerText()).toBe('cookie-user');
  });

  it('with no other login, logging in asks nothing', async () => {
    const user = await s.token(['read'], { name: 'alone' });
    const ctx = await newContext();
    const { page } = await watchedPage(ctx);
    await openLogin(page);
    // Another tab of the same browser that is not logged in does not count.
    const idle = await ctx.newPage();
    await openLogin(idle);
    await submit(page, user.token);
    await page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#login-confirm').isVisible()).toBe(false);
    expect(await idle.locator('#login-message').isVisible()).toBe(false);
  });
});
