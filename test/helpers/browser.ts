// Headless Chromium for the browser tests: playwright-core driving the system's Chromium (Debian's
// `chromium`), never a browser downloaded by `playwright install`. Found via CHROME_PATH, else on
// PATH. Playwright gives every launch a fresh temporary profile (its own --user-data-dir, removed
// on close), so no state leaks between runs.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const ARTIFACTS_DIR = path.resolve('test-artifacts', 'browser');

const CANDIDATES = ['chromium', 'chromium-browser'];

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The Chromium to drive, or null with the reason it was not found. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { path: string } | { path: null; reason: string } {
  const fromEnv = env.CHROME_PATH?.trim();
  if (fromEnv) {
    return executable(fromEnv) ? { path: fromEnv } : { path: null, reason: `CHROME_PATH=${fromEnv} is not an executable file` };
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of CANDIDATES) {
      const file = path.join(dir, name);
      if (executable(file)) return { path: file };
    }
  }
  return { path: null, reason: `none of ${CANDIDATES.join(', ')} is on PATH and CHROME_PATH is not set` };
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export interface WatchedPage {
  page: Page;
  /** Content-Security-Policy violations the page reported. */
  cspViolations: () => Promise<string[]>;
  /** Uncaught page errors and console errors (not Chromium's "Failed to load resource" lines for
   * HTTP error statuses: the tests check statuses themselves, and a 401 is how the login probe works). */
  errors: string[];
}

/** A page that records CSP violations (via the securitypolicyviolation event) and page errors. */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  // Page-side code is given as source text: this project compiles without the DOM library.
  await page.addInitScript({
    content: `window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__csp.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' ' + (e.sample || '')));`,
  });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource: the server responded with a status of'))
      errors.push(`console: ${msg.text()}`);
  });
  return {
    page,
    errors,
    cspViolations: () => page.evaluate<string[]>('window.__csp.slice()'),
  };
}

/** Saves a full-page screenshot as test-artifacts/browser/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** A computed style property of the first element a locator matches. */
export function computedStyle(locator: Locator, property: string): Promise<string> {
  return locator.evaluate((el: any, prop: string) => (globalThis as any).getComputedStyle(el).getPropertyValue(prop) as string, property);
}
