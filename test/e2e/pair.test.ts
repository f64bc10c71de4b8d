// Pairing a browser in headless Chromium, the whole way: `tether pair` prints a link, the "phone"
// opens it, pairs with one click and is in the app under its own device token, which it never saw;
// the token is listed as a device; `tether auth token delete` logs the browser out within a second.
//
// Without Chromium the suite is skipped, loudly; with TETHER_REQUIRE_BROWSER=1 (CI) that is a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ptyRoutes } from '../../src/server/routes/pty.js';
import { registerSession } from '../../src/server/routes/session.js';
import { registerWeb } from '../../src/server/routes/web.js';
import { listTokens } from '../../src/auth/token-admin.js';
import { BIN, runCli } from '../helpers/cli.js';
import { findChromium, launchChromium, screenshot, watchedPage } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { UI_TIMEOUT, describeBrowser } from '../helpers/web-app.js';

const found = findChromium();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

describeBrowser('pairing a browser in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let admin: { token: string; id: string };
  const contexts: BrowserContext[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // A fixed port, so that a restart keeps the origin (the page's key is kept per origin).
    s = await startTestServer({ registrars: [ptyRoutes(), registerSession, registerWeb], port: await freePort() });
    admin = await s.token(['read', 'write', 'execute'], { name: 'laptop' });
    browser = await launchChromium(found.path!);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
  });

  async function phone(): Promise<BrowserContext> {
    const c = await browser.newContext({ viewport: { width: 390, height: 844 }, userAgent: ANDROID, isMobile: true, hasTouch: true });
    contexts.push(c);
    return c;
  }

  /** `tether pair --json` with the admin's token: its output, and the link once printed. */
  async function pairCli(args: string[] = []) {
    const child = spawn(process.execPath, [BIN, 'pair', '--json', ...args], {
      env: { ...s.env.env, TETHER_URL: s.url, TETHER_TOKEN: admin.token },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const first = await waitFor(() => out.stdout.includes('\n') && (JSON.parse(out.stdout.split('\n')[0]) as { link: string; id: string }), {
      what: 'the pairing link',
    });
    return { ...first, code: first.link.split('#')[1], out, exited };
  }

  async function openAndPair(page: Page, link: string): Promise<void> {
    await page.goto(link);
    await page.locator('#pair-submit:not([disabled])').waitFor({ timeout: UI_TIMEOUT });
    await page.click('#pair-submit');
  }

  it('the link pairs this browser once: logged in under a device token it never sees, listed, and logged out within a second of its deletion', async () => {
    const cli = await pairCli();
    const ctx = await phone();
    const { page, errors, cspViolations } = await watchedPage(ctx);
    const seen: string[] = [];
    page.on('request', (r) => seen.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`));
    const bodies: string[] = [];
    page.on(
      'response',
      (r) =>
        void r.text().then(
          (t) => bodies.push(t),
          () => {},
        ),
    );

    await page.goto(cli.link);
    await page.locator('#pair-submit:not([disabled])').waitFor({ timeout: UI_TIMEOUT });
    // The code left the address bar and the history entry before anything was sent.
    expect(page.url()).toBe(`${s.url}/pair`);
    expect(await page.locator('#pair-host').innerText()).toBe(new URL(s.url).host);
    await screenshot(page, 'pair-01-link-opened');
    await page.click('#pair-submit');
    await page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#who-name').innerText()).toBe('Chrome-on-Android');
    await screenshot(page, 'pair-02-paired');

    // `tether pair` saw it and said so.
    expect(await cli.exited).toBe(0);
    expect(JSON.parse(cli.out.stdout.trim().split('\n').at(-1)!)).toMatchObject({ state: 'paired', device: { name: 'Chrome-on-Android' } });

    // The code went out once, in the body of the exchange, and in no URL; no token ever reached the page.
    expect(seen.filter((r) => r.includes(cli.code))).toEqual([expect.stringMatching(/^POST .*\/auth\/pair \{"code":/)]);
    expect(bodies.join('\n')).not.toMatch(/tether_[0-9A-Za-z]{28}/);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie);
    expect(stored).not.toMatch(/tether_[0-9A-Za-z]{28}/);

    // Listed as a device, with where it was last used from.
    const device = (await listTokens(s.env.tokenFile)).find((t) => t.name === 'Chrome-on-Android');
    expect(device).toMatchObject({ kind: 'device', permissions: ['read', 'write', 'execute'] });
    await waitFor(
      async () => /Chrome-on-Android +device .* 127\.0\.0\.1 +active/.test((await runCli(['auth', 'token', 'list'], { ...s.env.env, COLUMNS: '250' })).stdout),
      {
        what: 'the device in `auth token list` with its address',
        timeout: 15_000,
        interval: 250,
      },
    );

    // A second tab of this browser (a fresh sessionStorage) is logged in too: a paired device keeps its login.
    const tab2 = await watchedPage(ctx);
    await tab2.page.goto(s.url + '/');
    await tab2.page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await tab2.page.locator('#who-name').innerText()).toBe('Chrome-on-Android');

    // The same link again, in another browser: spent, one clear message, no login.
    const other = await watchedPage(await phone());
    await openAndPair(other.page, cli.link);
    await expect
      .poll(() => other.page.locator('#pair-message').innerText(), { timeout: UI_TIMEOUT })
      .toMatch(/this pairing link was used, expired or cancelled; ask for a new one/);
    expect(await other.page.locator('#pair-submit').isDisabled()).toBe(true);
    expect((await other.page.context().cookies(s.url)).find((c) => c.name === 'tether_session')).toBeUndefined();
    await screenshot(other.page, 'pair-03-link-spent');

    // Deleting the device token logs both tabs out within a second.
    const del = await runCli(['auth', 'token', 'delete', 'Chrome-on-Android'], s.env.env);
    expect(del.code, del.stderr).toBe(0);
    const t0 = Date.now();
    await Promise.all([page, tab2.page].map((p) => p.locator('#login').waitFor({ state: 'visible', timeout: 1000 })));
    const loggedOutMs = Date.now() - t0;
    console.log(`device logged out ${loggedOutMs} ms after \`tether auth token delete\` exited`);
    expect(loggedOutMs).toBeLessThan(1000);
    expect(await page.locator('#login-message').innerText()).toMatch(/token was revoked/);
    expect(await page.evaluate(() => localStorage.getItem('tether.deviceKey'))).toBeNull();
    await screenshot(page, 'pair-04-deleted-logged-out');

    expect(errors).toEqual([]);
    expect(tab2.errors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
  });

  it('a paired browser stays logged in across a server restart', async () => {
    const cli = await pairCli(['--name', 'tablet', '--permissions', 'read']);
    const { page } = await watchedPage(await phone());
    await openAndPair(page, cli.link);
    await page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#who-name').innerText()).toBe('tablet');
    expect(await cli.exited).toBe(0);
    await s.restart();
    await page.goto(s.url + '/');
    await page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('#who-name').innerText()).toBe('tablet');
    // Logging out ends it for good: the device token goes too (nobody else could ever use it).
    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect((await listTokens(s.env.tokenFile)).map((t) => t.name)).not.toContain('tablet');
  });

  it('a page without a code, or with a cancelled one, says so and logs nothing in', async () => {
    const { page } = await watchedPage(await phone());
    await page.goto(s.url + '/pair');
    await expect.poll(() => page.locator('#pair-message').innerText(), { timeout: UI_TIMEOUT }).toMatch(/holds no pairing code/);
    expect(await page.locator('#pair-submit').isDisabled()).toBe(true);

    const cli = await pairCli();
    const child = children.at(-1)!;
    child.kill('SIGINT');
    expect(await cli.exited).toBe(1);
    // From /pair, the link is only a fragment change (no page load): the page takes the code all the same.
    await openAndPair(page, cli.link);
    expect(page.url()).toBe(`${s.url}/pair`);
    await expect.poll(() => page.locator('#pair-message').innerText(), { timeout: UI_TIMEOUT }).toMatch(/used, expired or cancelled/);
    expect((await page.context().cookies(s.url)).find((c) => c.name === 'tether_session')).toBeUndefined();
  });
});
