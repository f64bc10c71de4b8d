// A tether server with the web UI, a fake model and headless Chromium, for the browser suites that
// look at the UI as a whole (a11y, phone, markdown). Each suite starts its own (one server and one
// browser per file); pages get a fresh context at the viewport asked for.
//
// Without Chromium a suite is skipped, loudly; with TETHER_REQUIRE_BROWSER=1 (CI) that is a failure.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ptyRoutes } from '../../src/server/routes/pty.js';
import { registerSession } from '../../src/server/routes/session.js';
import { registerWeb } from '../../src/server/routes/web.js';
import { findChromium, launchChromium, watchedPage, type WatchedPage } from './browser.js';
import { startFakeModel, type FakeModel } from './fake-model.js';
import { startTestServer, type TestServer } from './server.js';

export const UI_TIMEOUT = 10_000;

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

const found = findChromium();

/** `describe` for a browser suite: skipped (loudly) without Chromium, failing instead when CI requires it. */
export function describeBrowser(name: string, body: () => void): void {
  if (found.path === null) {
    const required = process.env.TETHER_REQUIRE_BROWSER === '1';
    console.warn(`\n*** ${name}: skipped, chromium not found (${found.reason}). Set CHROME_PATH, or TETHER_REQUIRE_BROWSER=1 to make this a failure. ***\n`);
    if (required) {
      it(`${name}: chromium not found and TETHER_REQUIRE_BROWSER=1 requires it`, () => {
        throw new Error(`chromium not found: ${found.reason}`);
      });
    } else {
      it.skip(`${name}: skipped, chromium not found (set CHROME_PATH)`, () => {});
    }
  }
  describe.skipIf(found.path === null)(name, body);
}

export interface WebApp {
  s: TestServer;
  model: FakeModel;
  browser: Browser;
  /** A token with every permission, named `web-admin`. */
  admin: { token: string; id: string };
  /** A page in a fresh context; requests to anything but the test server are aborted and listed in `offLoopback`. */
  newPage(viewport?: ViewportName): Promise<WatchedPage & { offLoopback: string[] }>;
  /** Opens the page and logs in through the form. */
  login(page: Page, token?: string): Promise<void>;
  /** POST with the admin token; returns the JSON answer. */
  post<T = { id: string }>(path: string, body: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function startWebApp(): Promise<WebApp> {
  const s = await startTestServer({ registrars: [ptyRoutes(), registerSession, registerWeb], sweepMs: 100 });
  const model = await startFakeModel();
  const setup = (await s.token()).token;
  const patch = await s.fetch('/config', {
    method: 'PATCH',
    token: setup,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ shell: '/bin/bash', modelUrl: model.baseURL, model: 'test-model', apiKey: 'sk-test-web-123456' }),
  });
  expect(patch.status).toBe(200);
  const admin = await s.token(['read', 'write', 'execute'], { name: 'web-admin' });
  const browser = await launchChromium(found.path!);
  const contexts: BrowserContext[] = [];
  const app: WebApp = {
    s,
    model,
    browser,
    admin,
    async newPage(viewport = 'desktop') {
      const context = await browser.newContext({ viewport: VIEWPORTS[viewport] });
      contexts.push(context);
      // Tests send traffic to loopback only, whatever a page under test tries.
      const offLoopback: string[] = [];
      const origin = new URL(s.url).origin;
      await context.route(
        (url) => url.origin !== origin,
        (route) => {
          offLoopback.push(route.request().url());
          return route.abort();
        },
      );
      return { ...(await watchedPage(context)), offLoopback };
    },
    async login(page, token = admin.token) {
      await page.goto(s.url + '/');
      await page.locator('#login').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      await page.fill('#login-token', token);
      await page.click('#login-submit');
      await page.locator('#app').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    },
    async post(path, body) {
      const r = await s.fetch(path, { method: 'POST', token: admin.token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status, path).toBeLessThan(300);
      return r.json();
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close().catch(() => {});
      await model.close().catch(() => {});
      await s.close();
    },
  };
  return app;
}

// ---------- axe-core ----------

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

let axeSource: string | null = null;

/** Runs axe-core in the page (WCAG 2.x A/AA and best practices) and returns its violations. The
 * source is evaluated through the DevTools protocol, which the page's CSP does not govern: the
 * page's own policy stays as it is served. */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  axeSource ??= fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate<boolean>('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  return page.evaluate<AxeViolation[]>(`(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.map(String), failureSummary: n.failureSummary })) }));
  })()`);
}

/** The serious and critical ones, as readable lines (empty when there are none). */
export function seriousViolations(violations: AxeViolation[]): string[] {
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => `${n.target.join(' ')}${n.failureSummary ? ` -- ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`).join('; ')}`,
    );
}
