// Share links in headless Chromium (README "Share links"): the share page reads its token from the
// fragment and erases it, shows the live terminal (view only: not one frame is ever sent) or the
// live session, with a "view only" banner and the time left; revoking or expiring the link closes
// the watching page within a second; the end of the terminal or session is said; the Share button
// makes a link; a browser logged in to tether can watch too. Screenshots: test-artifacts/browser/.
//
// Without Chromium the suite is skipped, loudly; with TETHER_REQUIRE_BROWSER=1 (CI) that is a failure.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, WebSocket as PwWebSocket } from 'playwright-core';
import { deleteTokens, listTokens } from '../../src/auth/token-admin.js';
import { ptyRoutes } from '../../src/server/routes/pty.js';
import { sessionRoutes } from '../../src/server/routes/session.js';
import { registerWeb } from '../../src/server/routes/web.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { findChromium, launchChromium, screenshot, watchedPage, type WatchedPage } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { bash, connect, ready, type TermClient } from '../pty-routes/helpers.js';
import { briefShare, makeShare } from '../pty-routes/share-helpers.js';
import { UI_TIMEOUT, describeBrowser } from '../helpers/web-app.js';

const found = findChromium();

describeBrowser('share links in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let admin: string;
  let model: FakeModel;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    model = await startFakeModel();
    // The server's default revocation sweep (250 ms), as `tether serve` runs it.
    s = await startTestServer({ registrars: [ptyRoutes(), sessionRoutes({ modelRetries: 0 }), registerWeb] });
    admin = (await s.token(['read', 'write', 'execute'], { name: 'owner' })).token;
    await api('PATCH', '/config', { shell: '/bin/bash', modelUrl: model.baseURL, model: 'test-model', apiKey: 'sk-test' });
    browser = await launchChromium(found.path!);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
    await model?.close();
  });

  async function api(method: string, p: string, body?: unknown): Promise<any> {
    const r = await s.fetch(p, {
      method,
      token: admin,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${p} -> ${r.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }

  interface Watched extends WatchedPage {
    /** Frames the page sent on any WebSocket. */
    sent: string[];
    /** When each of the page's WebSockets closed (Date.now()). */
    closedAt: number[];
    requested: string[];
  }

  async function newPage(context?: BrowserContext): Promise<Watched> {
    const ctx = context ?? (await browser.newContext({ viewport: { width: 1200, height: 760 } }));
    if (!context) contexts.push(ctx);
    const w = (await watchedPage(ctx)) as Watched;
    w.sent = [];
    w.closedAt = [];
    w.requested = [];
    w.page.on('websocket', (ws: PwWebSocket) => {
      ws.on('framesent', (f) => w.sent.push(typeof f.payload === 'string' ? f.payload : `<binary ${f.payload.length}>`));
      ws.on('close', () => w.closedAt.push(Date.now()));
    });
    w.page.on('request', (r) => w.requested.push(`${r.method()} ${r.url()}`));
    return w;
  }

  const state = (page: Page) => page.evaluate(() => document.body.dataset.state ?? '');
  const endedAt = async (page: Page) => Number(await page.evaluate(() => document.body.dataset.endedAt ?? 'NaN'));
  const waitState = (page: Page, want: string) =>
    page
      .waitForFunction((w) => document.body.dataset.state === w, want, { timeout: UI_TIMEOUT })
      .catch(async (err: Error) => {
        throw new Error(`${err.message}; state ${await state(page)}, banner ${JSON.stringify(await page.locator('#share-banner').innerText())}`);
      });
  const screen = (page: Page) => page.locator('#share-term .xterm-rows').innerText();
  const rows = (page: Page) => page.locator('#share-term .xterm-rows > div').count();

  async function terminalWithOwner(size = { cols: 90, rows: 20 }): Promise<{ id: string; owner: TermClient }> {
    const pty = await api('POST', '/pty', bash(size));
    const owner = await connect(`${s.url.replace(/^http/, 'ws')}/pty/${pty.id}/connect`, { token: admin });
    await ready(owner);
    return { id: pty.id, owner };
  }

  it('a terminal link: fragment erased, view-only banner and time left, scrollback then live output at its size; not one frame sent', async () => {
    const { id, owner } = await terminalWithOwner();
    owner.type('echo before-$((4*4))\r');
    await owner.waitText('before-16');
    const link = await makeShare(s, 'pty', id, admin);
    const w = await newPage();
    await w.page.goto(link.url);
    await waitState(w.page, 'live');
    // The secret left the address bar and the history entry at once, and no URL ever carried it.
    expect(w.page.url()).toBe(`${s.url}/share`);
    expect(await w.page.evaluate(() => location.hash)).toBe('');
    expect(w.requested.filter((r) => r.includes(link.token))).toEqual([]);
    expect(await w.page.locator('#share-kind').innerText()).toMatch(/view only/i);
    expect(await w.page.locator('#share-title').innerText()).toBe('Terminal · bash');
    expect(await w.page.locator('#share-left').innerText()).toMatch(/^(59:[0-5]\d|1 h 00 min) left$/);
    await expect.poll(() => screen(w.page), { timeout: UI_TIMEOUT }).toContain('before-16');
    expect(await rows(w.page)).toBe(20);

    owner.type('echo live-$((5*5))\r');
    await expect.poll(() => screen(w.page), { timeout: UI_TIMEOUT }).toContain('live-25');
    // Typing into the page reaches nothing: the page sends no frame at all.
    await w.page.locator('#share-term').click();
    await w.page.keyboard.type('echo TYPED-IN-VIEWER\n');
    await w.page.keyboard.press('Control+C');
    owner.type('echo sync-$((7*7))\r');
    await expect.poll(() => screen(w.page), { timeout: UI_TIMEOUT }).toContain('sync-49');
    expect(w.sent).toEqual([]);
    expect(owner.text()).not.toContain('TYPED-IN-VIEWER');
    // The owner resizes: the page follows the terminal's size.
    await api('PUT', `/pty/${id}`, { cols: 100, rows: 30 });
    await expect.poll(() => rows(w.page), { timeout: UI_TIMEOUT }).toBe(30);
    await screenshot(w.page, 'share-01-terminal');
    expect(w.sent).toEqual([]);
    expect(await w.cspViolations()).toEqual([]);
    expect(w.errors).toEqual([]);
    owner.close();
  });

  it('revoking the link closes the watching page within 1 s, and a reload shows nothing', async () => {
    const { id, owner } = await terminalWithOwner();
    const link = await makeShare(s, 'pty', id, admin);
    const w = await newPage();
    await w.page.goto(link.url);
    await waitState(w.page, 'live');
    const before = Date.now();
    await deleteTokens([link.id], s.env.tokenFile);
    const deletedAt = Date.now();
    await waitState(w.page, 'revoked');
    // The bound is timed in the page (when it ended the view); the test process hears of the
    // socket's close through the browser protocol, late by however busy it is (it also runs the
    // server and the rest of the suite: 1,069 ms once in a full local run).
    await waitFor(() => w.closedAt.length > 0, { what: 'the WebSocket to close', timeout: 3000 });
    expect(w.closedAt[0]).toBeGreaterThanOrEqual(before);
    expect((await endedAt(w.page)) - deletedAt).toBeLessThan(1000);
    expect(await endedAt(w.page)).toBeGreaterThanOrEqual(before);
    expect(await w.page.locator('#share-banner').innerText()).toMatch(/revoked/);
    await screenshot(w.page, 'share-02-revoked');
    // The page forgot the token: a reload has nothing to show.
    await w.page.reload();
    await waitState(w.page, 'invalid');
    expect(w.sent).toEqual([]);
    expect(w.errors).toEqual([]);
    owner.close();
  });

  it('an expiring link closes the watching page within 1 s of its expiry', async () => {
    const { id, owner } = await terminalWithOwner();
    // Shorter than the API's minimum (1 minute): written through token-admin.
    const brief = await briefShare(s, 'pty', id, 3000);
    const w = await newPage();
    await w.page.goto(`${s.url}/share#${brief.token}`);
    await waitState(w.page, 'live');
    await waitState(w.page, 'expired');
    await waitFor(() => w.closedAt.length > 0, { what: 'the WebSocket to close', timeout: 3000 });
    // Timed in the page, as above.
    expect(w.closedAt[0]).toBeGreaterThanOrEqual(brief.expiresAt);
    expect(await endedAt(w.page)).toBeGreaterThanOrEqual(brief.expiresAt);
    expect((await endedAt(w.page)) - brief.expiresAt).toBeLessThan(1000);
    expect(await w.page.locator('#share-banner').innerText()).toMatch(/expired/);
    expect(w.errors).toEqual([]);
    owner.close();
  });

  it('when the shared terminal ends, the page says so', async () => {
    const { id, owner } = await terminalWithOwner();
    const link = await makeShare(s, 'pty', id, admin);
    const w = await newPage();
    await w.page.goto(link.url);
    await waitState(w.page, 'live');
    owner.type('exit 4\r');
    await waitState(w.page, 'ended');
    expect(await w.page.locator('#share-banner').innerText()).toMatch(/terminal has ended: its program exited with code 4/);
    await expect.poll(() => screen(w.page), { timeout: UI_TIMEOUT }).toContain('[process exited with code 4]');
    await screenshot(w.page, 'share-03-terminal-ended');
    expect(w.errors).toEqual([]);
  });

  it('a session link: messages, tool calls and shell results stream in; its deletion is said', async () => {
    const ses = await api('POST', '/session', { title: 'pairing' });
    await api('POST', `/session/${ses.id}/shell`, { command: 'echo earlier-$((3*3))' });
    const link = await makeShare(s, 'session', ses.id, admin, { expires: '15m' });
    const w = await newPage();
    await w.page.goto(link.url);
    await waitState(w.page, 'live');
    expect(await w.page.locator('#share-title').innerText()).toBe('Session · pairing');
    expect(await w.page.locator('#share-left').innerText()).toMatch(/^1[45]:[0-5]\d left$/);
    const messages = () => w.page.locator('#share-messages').innerText();
    await expect.poll(messages, { timeout: UI_TIMEOUT }).toContain('earlier-9');

    await api('POST', `/session/${ses.id}/shell`, { command: 'echo streamed-$((8*8))' });
    await expect.poll(messages, { timeout: UI_TIMEOUT }).toContain('streamed-64');
    model.reply({ toolCalls: [{ name: 'run_command', args: { command: 'echo tool-$((6*6))' } }] }, { text: ['All ', 'done, ', 'the answer is 36.'] });
    await api('POST', `/session/${ses.id}/message`, { text: 'compute it' });
    await expect.poll(messages, { timeout: UI_TIMEOUT }).toContain('the answer is 36.');
    expect(await messages()).toContain('run_command');
    expect(await messages()).toContain('compute it');
    // The reply is rendered as Markdown, with its stylesheet (read in one page task: it may re-render).
    await expect
      .poll(
        () =>
          w.page.evaluate(() => {
            const el = (globalThis as any).document.querySelector('#share-messages .part.text.markdown');
            return el ? (globalThis as any).getComputedStyle(el).whiteSpace : 'missing';
          }),
        { timeout: UI_TIMEOUT },
      )
      .toBe('normal');
    await screenshot(w.page, 'share-04-session');

    await api('DELETE', `/session/${ses.id}`);
    await waitState(w.page, 'ended');
    expect(await w.page.locator('#share-banner').innerText()).toMatch(/session was deleted/);
    expect(w.sent).toEqual([]);
    expect(await w.cspViolations()).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('the Share button makes a link shown once; a browser logged in to tether watches with it', async () => {
    const { id, owner } = await terminalWithOwner();
    const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
    contexts.push(context);
    const ui = await newPage(context);
    await ui.page.goto(s.url + '/');
    await ui.page.fill('#login-token', admin);
    await ui.page.click('#login-submit');
    await ui.page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await ui.page.goto(`${s.url}/#/terminal/${id}`);
    await ui.page.locator('#term-share').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await ui.page.click('#term-share');
    await ui.page.selectOption('#share-expires', '15m');
    await ui.page.click('#share-create');
    await ui.page.locator('#share-result').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const url = await ui.page.inputValue('#share-url');
    expect(url).toMatch(new RegExp(`^${s.url}/share#tether_[0-9A-Za-z]{28}$`));
    expect(await ui.page.locator('#share-note').innerText()).toMatch(/Shown only once.*tether auth token delete tok_/);
    await screenshot(ui.page, 'share-05-dialog');
    const listed = (await listTokens(s.env.tokenFile)).filter((t) => t.kind === 'share' && t.target?.id === id);
    expect(listed).toHaveLength(1);
    expect(Date.parse(listed[0].expiresAt!) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    // Closing the dialog forgets the link.
    await ui.page.click('#share-close');
    expect(await ui.page.inputValue('#share-url')).toBe('');

    // Same browser, logged in (its cookie goes with every request to this host): the link still works.
    const viewer = await newPage(context);
    await viewer.page.goto(url);
    await waitState(viewer.page, 'live');
    owner.type('echo both-$((6*6))\r');
    await expect.poll(() => screen(viewer.page), { timeout: UI_TIMEOUT }).toContain('both-36');
    expect(viewer.sent).toEqual([]);
    // ...and the logged-in tab is still logged in as itself.
    expect(
      await ui.page.evaluate(() =>
        fetch('/auth/whoami', { headers: { 'x-tether-session': sessionStorage.getItem('tether.sessionKey') ?? '' } }).then((r) => r.json()),
      ),
    ).toMatchObject({
      name: 'owner',
    });
    // The session screen has the button too; a token that cannot make links does not see it.
    const ses = await api('POST', '/session', {});
    await ui.page.goto(`${s.url}/#/session/${ses.id}`);
    await ui.page.locator('#ses-share').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(ui.errors).toEqual([]);
    const { token: rx } = await s.token(['read', 'execute']);
    const weak = await newPage();
    await weak.page.goto(s.url + '/');
    await weak.page.fill('#login-token', rx);
    await weak.page.click('#login-submit');
    await weak.page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await weak.page.goto(`${s.url}/#/terminal/${id}`);
    await weak.page.locator('#term-title').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect.poll(() => weak.page.locator('#term-title').innerText(), { timeout: UI_TIMEOUT }).not.toBe('Terminal');
    expect(await weak.page.locator('#term-share').isHidden()).toBe(true);
    expect(viewer.errors).toEqual([]);
    owner.close();
  });

  it('a link without a share token shows nothing: none, a damaged one, or a full access token (not kept)', async () => {
    const w = await newPage();
    await w.page.goto(`${s.url}/share`);
    await waitState(w.page, 'invalid');
    await w.page.goto(`${s.url}/share#not-a-token`);
    await waitState(w.page, 'invalid');
    expect(await w.page.evaluate(() => location.hash)).toBe('');
    const { token: full } = await s.token(['read', 'write', 'execute']);
    await w.page.goto(`${s.url}/share#${full}`);
    await waitState(w.page, 'refused');
    expect(await w.page.evaluate(() => location.hash + (sessionStorage.getItem('tether.share') ?? ''))).toBe('');
    expect(await w.page.locator('#share-banner').innerText()).toMatch(/not a share link/);
    await screenshot(w.page, 'share-06-refused');
    expect(w.sent).toEqual([]);
    expect(w.errors).toEqual([]);
  });
});
