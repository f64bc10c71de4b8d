// The Files view's editor in headless Chromium, at desktop (1280x800) and phone (390x844) sizes,
// under the page's real CSP: open a file, edit, save (button and Ctrl+S), reload shows it; a change
// on disk in between is a conflict (reload or overwrite); unsaved changes are not lost silently
// (another file, another screen, closing the page); a token without write gets a highlighted
// read-only view. Screenshots go to test-artifacts/browser/file-edit-*.png.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { registerWeb } from '../../src/server/routes/web.js';
import { computedStyle, findChromium, launchChromium, screenshot, watchedPage, type WatchedPage } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const found = findChromium();
if (found.path === null) {
  if (process.env.TETHER_REQUIRE_BROWSER === '1') {
    it('file editor browser tests: chromium not found and TETHER_REQUIRE_BROWSER=1 requires it', () => {
      throw new Error(`chromium not found: ${found.reason}`);
    });
  } else {
    console.warn(`\n*** file editor browser tests skipped: chromium not found (${found.reason}) ***\n`);
    it.skip('file editor browser tests skipped: chromium not found (set CHROME_PATH)', () => {});
  }
}

const UI = 10_000;
const SIZES = [
  { label: 'desktop', width: 1280, height: 800 },
  { label: 'phone', width: 390, height: 844 },
] as const;

const TS_SOURCE = 'export const answer = 42;\n// a comment\nfunction greet(name: string) {\n  return `hi ${name}`;\n}\n';

describe.skipIf(found.path === null)('the Files view editor in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let writer: string;
  let reader: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    s = await startTestServer({ registrars: [registerWeb] });
    writer = (await s.token(['read', 'write'], { name: 'web-writer' })).token;
    reader = (await s.token(['read'], { name: 'web-reader' })).token;
    browser = await launchChromium(found.path!);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
  });

  const file = (rel: string) => path.join(s.project, rel);

  async function open(size: (typeof SIZES)[number], token: string): Promise<WatchedPage> {
    const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
    contexts.push(context);
    const w = await watchedPage(context);
    await w.page.goto(s.url + '/');
    await w.page.locator('#login').waitFor({ state: 'visible', timeout: UI });
    await w.page.fill('#login-token', token);
    await w.page.click('#login-submit');
    await w.page.locator('#app').waitFor({ state: 'visible', timeout: UI });
    return w;
  }

  /** Opens the Files screen (by its address: the phone layout may hide the sidebar) and a file in it. */
  async function openFile(page: Page, name: string): Promise<void> {
    if (!page.url().includes('#/files')) await page.goto(`${s.url}/#/files`);
    await page.locator('#file-list .entry', { hasText: name }).click({ timeout: UI });
  }

  /** The editor's text as shown, lines joined with \n (the files here are small: every line is rendered). */
  const editorText = (page: Page) =>
    page.locator('#file-editor .cm-content').evaluate((el: any) => [...el.querySelectorAll('.cm-line')].map((l: any) => l.textContent as string).join('\n'));
  const stateText = (page: Page) => page.locator('#file-state').innerText();

  /** Types at the end of the document. */
  async function typeAtEnd(page: Page, text: string): Promise<void> {
    await page.locator('#file-editor .cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(text);
  }

  for (const size of SIZES) {
    describe(`${size.label} (${size.width}x${size.height})`, () => {
      it('renders the editor styled and highlighted under the strict CSP', async () => {
        fs.writeFileSync(file('app.ts'), TS_SOURCE);
        const { page, errors, cspViolations } = await open(size, writer);
        await openFile(page, 'app.ts');
        await page.locator('#file-editor .cm-editor').waitFor({ state: 'visible', timeout: UI });
        expect(await editorText(page)).toBe(TS_SOURCE);
        // CodeMirror's own CSS arrived (through a constructed stylesheet, not a <style> element)...
        expect(await computedStyle(page.locator('#file-editor .cm-editor'), 'display')).toBe('flex');
        expect(await computedStyle(page.locator('#file-editor .cm-gutters'), 'background-color')).toBe('rgb(16, 20, 29)');
        expect(await computedStyle(page.locator('#file-editor .cm-lineNumbers .cm-gutterElement').nth(1), 'text-align')).toBe('right');
        // ...and the tokens are highlighted by the file's language.
        const keyword = page.locator('#file-editor .tok-keyword', { hasText: 'const' });
        expect(await computedStyle(keyword, 'color')).toBe('rgb(201, 164, 255)');
        expect(await computedStyle(page.locator('#file-editor .tok-comment').first(), 'font-style')).toBe('italic');
        expect(await page.locator('style').count()).toBe(0); // no inline <style> anywhere
        expect(await page.evaluate('document.adoptedStyleSheets.length')).toBeGreaterThan(0);
        await screenshot(page, `file-edit-${size.label}-open`);
        expect(await cspViolations()).toEqual([]);
        expect(errors).toEqual([]);
      });

      it('edits and saves (button, then Ctrl+S); a reload shows the saved text; line endings are kept', async () => {
        fs.writeFileSync(file('notes.md'), '# Notes\r\n\r\nfirst line\r\n');
        const { page, errors, cspViolations } = await open(size, writer);
        await openFile(page, 'notes.md');
        await page.locator('#file-editor .cm-editor').waitFor({ timeout: UI });
        expect(await page.locator('#file-save').isDisabled()).toBe(true);
        await typeAtEnd(page, 'added in the browser');
        await expect.poll(() => stateText(page), { timeout: UI }).toMatch(/Unsaved changes/);
        expect(await page.locator('#file-save').isEnabled()).toBe(true);
        await screenshot(page, `file-edit-${size.label}-unsaved`);
        await page.click('#file-save');
        await expect.poll(() => stateText(page), { timeout: UI }).toBe('Saved');
        expect(fs.readFileSync(file('notes.md'), 'utf8')).toBe('# Notes\r\n\r\nfirst line\r\nadded in the browser');

        await typeAtEnd(page, '\nand more'); // (the Save button had the focus)
        await expect.poll(() => stateText(page), { timeout: UI }).toMatch(/Unsaved changes/);
        await page.keyboard.press('Control+s');
        await expect.poll(() => stateText(page), { timeout: UI }).toBe('Saved');
        expect(fs.readFileSync(file('notes.md'), 'utf8')).toBe('# Notes\r\n\r\nfirst line\r\nadded in the browser\r\nand more');

        await page.reload();
        await page.locator('#app').waitFor({ state: 'visible', timeout: UI });
        await openFile(page, 'notes.md');
        await expect.poll(() => editorText(page).catch(() => ''), { timeout: UI }).toBe('# Notes\n\nfirst line\nadded in the browser\nand more');

        // Tab indents inside the editor; Escape then Tab leaves it (the keyboard is never trapped).
        await page.locator('#file-editor .cm-content').click();
        await page.keyboard.press('Tab');
        expect(await page.evaluate('document.activeElement.classList.contains("cm-content")')).toBe(true);
        await expect.poll(() => editorText(page), { timeout: UI }).toMatch(/^\s+\S/m);
        await page.keyboard.press('Escape');
        await page.keyboard.press('Tab');
        expect(await page.evaluate('document.activeElement.closest(".cm-editor") === null')).toBe(true);
        expect(await page.locator('#file-editor .cm-content').getAttribute('aria-describedby')).toBe('file-editor-hint');
        expect(await cspViolations()).toEqual([]);
        expect(errors).toEqual([]);
      });

      it('a change on disk in between is a conflict: nothing is overwritten; reload takes theirs, overwrite keeps mine', async () => {
        fs.writeFileSync(file('shared.txt'), 'original\n');
        const { page, errors, cspViolations } = await open(size, writer);
        await openFile(page, 'shared.txt');
        await page.locator('#file-editor .cm-editor').waitFor({ timeout: UI });
        await typeAtEnd(page, 'mine');
        fs.writeFileSync(file('shared.txt'), 'theirs\n'); // another program, between open and save
        await page.click('#file-save');
        await page.locator('#file-conflict').waitFor({ state: 'visible', timeout: UI });
        expect(await page.locator('#file-conflict').innerText()).toMatch(/changed on disk/);
        expect(fs.readFileSync(file('shared.txt'), 'utf8')).toBe('theirs\n');
        await screenshot(page, `file-edit-${size.label}-conflict`);
        // Save again (button or Ctrl+S) is still a conflict, never an overwrite.
        await page.keyboard.press('Control+s');
        await page.locator('#file-conflict').waitFor({ state: 'visible', timeout: UI });
        expect(fs.readFileSync(file('shared.txt'), 'utf8')).toBe('theirs\n');

        await page.click('#file-reload');
        await page.locator('#file-conflict').waitFor({ state: 'hidden', timeout: UI });
        expect(await editorText(page)).toBe('theirs\n');

        await typeAtEnd(page, 'mine again');
        fs.writeFileSync(file('shared.txt'), 'theirs, second time\n');
        await page.click('#file-save');
        await page.locator('#file-conflict').waitFor({ state: 'visible', timeout: UI });
        await page.click('#file-overwrite');
        await page.locator('#file-conflict').waitFor({ state: 'hidden', timeout: UI });
        await expect.poll(() => stateText(page), { timeout: UI }).toBe('Saved');
        expect(fs.readFileSync(file('shared.txt'), 'utf8')).toBe('theirs\nmine again');

        // Deleted on disk: the conflict says so, and overwrite creates it again.
        await typeAtEnd(page, '!');
        fs.rmSync(file('shared.txt'));
        await page.click('#file-save');
        await expect.poll(() => page.locator('#file-conflict').innerText(), { timeout: UI }).toMatch(/deleted on disk/);
        await page.click('#file-overwrite');
        await expect.poll(() => stateText(page), { timeout: UI }).toBe('Saved');
        expect(fs.readFileSync(file('shared.txt'), 'utf8')).toBe('theirs\nmine again!');
        expect(await cspViolations()).toEqual([]);
        expect(errors).toEqual([]);
      });

      it('unsaved changes: another file or screen asks first (cancel keeps them), and so does closing the page', async () => {
        fs.writeFileSync(file('a.txt'), 'file a\n');
        fs.writeFileSync(file('b.txt'), 'file b\n');
        const { page, errors } = await open(size, writer);
        await openFile(page, 'a.txt');
        await page.locator('#file-editor .cm-editor').waitFor({ timeout: UI });
        await typeAtEnd(page, 'draft');
        await expect.poll(() => stateText(page), { timeout: UI }).toMatch(/Unsaved/);

        const dialogs: string[] = [];
        let answer = false;
        page.on('dialog', (d) => {
          dialogs.push(`${d.type()}: ${d.message()}`);
          void (answer ? d.accept() : d.dismiss());
        });
        // Another file: cancelled, the draft stays.
        await page.locator('#file-list .entry', { hasText: 'b.txt' }).click();
        expect(dialogs).toEqual([expect.stringMatching(/^confirm: .*unsaved changes to a\.txt/)]);
        expect(await editorText(page)).toBe('file a\ndraft');
        // Another screen: cancelled, still here (the address too).
        await page.evaluate(() => (location.hash = '#/config'));
        await expect.poll(() => dialogs.length, { timeout: UI }).toBe(2);
        expect(page.url()).toMatch(/#\/files$/);
        expect(await page.locator('#view-files').isVisible()).toBe(true);
        expect(await editorText(page)).toBe('file a\ndraft');
        // Closing the page: the browser's own warning.
        await page.close({ runBeforeUnload: true });
        await expect.poll(() => dialogs.length, { timeout: UI }).toBe(3);
        expect(dialogs[2]).toMatch(/^beforeunload/);
        expect(page.isClosed()).toBe(false);
        // Accepted: it goes, and the file on disk was never touched.
        answer = true;
        await page.locator('#file-list .entry', { hasText: 'b.txt' }).click();
        await expect.poll(() => editorText(page), { timeout: UI }).toBe('file b\n');
        expect(fs.readFileSync(file('a.txt'), 'utf8')).toBe('file a\n');
        expect(errors).toEqual([]);
      });

      it('a token without write gets a highlighted read-only view, no editor and no Save', async () => {
        fs.writeFileSync(file('app.ts'), TS_SOURCE);
        const { page, errors, cspViolations } = await open(size, reader);
        await openFile(page, 'app.ts');
        await expect.poll(() => page.locator('#file-content').innerText(), { timeout: UI }).toBe(TS_SOURCE);
        await page.locator('#file-content .tok-keyword').first().waitFor({ timeout: UI });
        expect(await computedStyle(page.locator('#file-content .tok-keyword').first(), 'color')).toBe('rgb(201, 164, 255)');
        expect(await page.locator('#file-editor').isVisible()).toBe(false);
        expect(await page.locator('#file-save').isVisible()).toBe(false);
        expect(await stateText(page)).toMatch(/Read-only/);
        await screenshot(page, `file-edit-${size.label}-read-only`);
        expect(await cspViolations()).toEqual([]);
        expect(errors).toEqual([]);
      });
    });
  }

  it('a change saved elsewhere reloads a clean editor live, and only marks a dirty one', async () => {
    fs.writeFileSync(file('live.txt'), 'v1\n');
    const { page, errors } = await open(SIZES[0], writer);
    await openFile(page, 'live.txt');
    await page.locator('#file-editor .cm-editor').waitFor({ timeout: UI });
    const put = (content: string) =>
      s.fetch('/file/content?path=live.txt', {
        method: 'PUT',
        token: writer,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content }),
      });
    expect((await put('v2 from another editor\n')).status).toBe(200);
    await expect.poll(() => editorText(page), { timeout: UI }).toBe('v2 from another editor\n');
    await typeAtEnd(page, 'draft');
    expect((await put('v3 from another editor\n')).status).toBe(200);
    await expect.poll(() => stateText(page), { timeout: UI }).toMatch(/Changed on disk by someone else/);
    expect(await editorText(page)).toBe('v2 from another editor\ndraft');
    await page.click('#file-save');
    await page.locator('#file-conflict').waitFor({ state: 'visible', timeout: UI });
    expect(fs.readFileSync(file('live.txt'), 'utf8')).toBe('v3 from another editor\n');
    expect(errors).toEqual([]);
  });
});
