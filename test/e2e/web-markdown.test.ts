// Agent replies as Markdown in Chromium, under the page's strict CSP: a hostile reply renders inert
// (no script, handler, image, frame or script URL reaches the page, nothing runs, nothing loads);
// the page's allowlist holds even for HTML the renderer never makes; a streamed reply is rendered
// as it arrives, at most once per animation frame; fences are highlighted; without the renderer,
// replies stay plain text. Screenshots go to test-artifacts/browser/markdown-*.png.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot } from '../helpers/browser.js';
import { HOSTILE } from '../helpers/hostile-markdown.js';
import { UI_TIMEOUT, describeBrowser, startWebApp, type WebApp } from '../helpers/web-app.js';

/** What is wrong with the markup inside `selector`, as lines (empty when it is inert). */
const INSPECT = `(selector) => {
  const bad = [];
  const root = document.querySelector(selector);
  if (!root) return ['no ' + selector];
  const allowed = new Set(['DIV', 'P', 'BR', 'HR', 'H3', 'H4', 'H5', 'H6', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'PRE', 'CODE', 'SPAN', 'EM', 'STRONG', 'S', 'A', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD']);
  for (const el of root.querySelectorAll('*')) {
    if (!allowed.has(el.tagName)) bad.push('element ' + el.tagName);
    for (const a of el.attributes) {
      if (/^on/i.test(a.name) || a.name === 'style' || a.name === 'src' || a.name === 'srcdoc' || a.name === 'action' || a.name === 'formaction') bad.push('attribute ' + a.name + ' on ' + el.tagName);
    }
    if (el.tagName === 'A') {
      const url = new URL(el.getAttribute('href'), location.href);
      if (!['http:', 'https:', 'mailto:'].includes(url.protocol)) bad.push('link to ' + url.href);
      if (el.target !== '_blank' || el.rel !== 'noopener noreferrer') bad.push('link without target/rel: ' + el.outerHTML);
    }
  }
  return bad;
}`;

describeBrowser('agent replies as Markdown in Chromium', () => {
  let app: WebApp;

  beforeAll(async () => {
    app = await startWebApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Logs in, opens a new session, sends `text` to the agent; returns the page with the reply on show. */
  async function ask(page: Page, text: string): Promise<void> {
    await app.login(page);
    await page.click('#home-session');
    await page.waitForURL(/#\/session\/ses_/, { timeout: UI_TIMEOUT });
    await page.fill('#composer-input', text);
    await page.keyboard.press('Enter');
  }

  it('a hostile reply renders inert: no script, handler, image, frame or script URL; nothing runs or loads', async () => {
    const { page, errors, cspViolations, offLoopback } = await app.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // Every hostile fragment as its own paragraph, then all of them in one list item and one quote.
    const body = HOSTILE.join('\n\n') + '\n\n- ' + HOSTILE.join(' ') + '\n\n> ' + HOSTILE.join(' ');
    app.model.reply({ text: [body.slice(0, 500), body.slice(500, 1500), body.slice(1500)] });
    await ask(page, 'attack yourself');
    const reply = page.locator('.msg.assistant .part.text.markdown').last();
    await reply.waitFor({ timeout: UI_TIMEOUT });
    await expect.poll(() => page.locator('#composer-send').innerText(), { timeout: UI_TIMEOUT }).toBe('Send');
    expect(await page.evaluate<string[]>(`(${INSPECT})('.msg.assistant .part.text')`)).toEqual([]);
    // The source text is there, as text.
    const text = await reply.innerText();
    expect(text).toContain('<script>alert(1)</script>');
    expect(text).toContain('<img src=x onerror=alert(1)>');
    expect(text).toContain('image: a');
    // Hover and focus every element of the reply: no handler fires.
    const count = await reply.locator('*').count();
    expect(count).toBeGreaterThan(20);
    await page.evaluate(
      `for (const el of document.querySelectorAll('.msg.assistant .part.text *')) { el.dispatchEvent(new MouseEvent('mouseover', { bubbles: true })); el.focus?.(); }`,
    );
    // The links left are the safe ones (http, https, mailto); the script URLs are text.
    const hrefs = await reply.locator('a').evaluateAll((els: any[]) => els.map((a) => a.href as string));
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^(https?:|mailto:)/);
    await screenshot(page, 'markdown-hostile');
    expect(dialogs).toEqual([]);
    expect(offLoopback).toEqual([]); // nothing was fetched: no image, no frame, no prefetch
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the page keeps only allowed elements and attributes even from HTML the renderer never makes', async () => {
    const { page, errors, cspViolations, offLoopback } = await app.newPage();
    await app.login(page);
    const result = await page.evaluate<{ html: string; bad: string[]; ran: boolean }>(`(async () => {
      window.__ran = false;
      const { sanitize } = await import('/ui/modules/markdown-view.js');
      const frag = sanitize(
        '<p onclick="window.__ran = true" style="position:fixed">para</p>' +
        '<img src="x" onerror="window.__ran = true"><script>window.__ran = true<\\/script>' +
        '<a href="javascript:window.__ran = true">js</a><a href=" JAVASCRIPT:x">js2</a><a href="data:text/html,x">data</a>' +
        '<a href="vbscript:x">vb</a><a href="https://ok.test/" target="_self" onmouseover="x">ok</a>' +
        '<svg><a href="javascript:x"><text>svg</text></a></svg><math><mi>m</mi></math>' +
        '<iframe srcdoc="<script>x<\\/script>"></iframe><form action="https://evil.test"><input name="t" value="v"><button formaction="x">b</button></form>' +
        '<code class="language-js evil-class hljs-keyword">c</code><ol start="3x"><li>l</li></ol><div><span class="function_">d</span></div>' +
        '<template><img src=x onerror="window.__ran = true"></template><!-- comment -->');
      const box = document.createElement('div');
      box.className = 'probe';
      box.append(frag);
      document.body.append(box);
      await new Promise((r) => setTimeout(r, 50));
      return { html: box.innerHTML, bad: (${INSPECT})('.probe'), ran: window.__ran };
    })()`);
    expect(result.bad).toEqual([]);
    expect(result.ran).toBe(false);
    expect(result.html).toBe(
      '<p>para</p>jsjs2datavb<a href="https://ok.test/" target="_blank" rel="noopener noreferrer">ok</a>' +
        'b<code class="language-js hljs-keyword">c</code><ol><li>l</li></ol><span class="function_">d</span>',
    );
    expect(offLoopback).toEqual([]);
    // Parsing this input (even into an inert document) makes Chromium check the handler and style
    // attributes against the page's CSP, which refuses them: a third layer, seen here only because
    // this input skips the renderer. The hostile reply above, through the renderer, causes none.
    expect(new Set(await cspViolations())).toEqual(new Set(['script-src-attr blocked inline ', 'style-src-attr blocked inline ']));
    expect(errors.filter((e) => !/violates the following Content Security Policy directive/.test(e))).toEqual([]);
  });

  it('a streamed reply is rendered as Markdown while it arrives, at most once per animation frame', async () => {
    const { page, errors, cspViolations } = await app.newPage();
    // First a reply that stays open after its text: it must show rendered before it completes.
    app.model.reply({ hang: true, text: ['# Plan\n\n', '- one\n', '- **two**\n\n', '```py\nprint("hi")\n```\n'] });
    await ask(page, 'stream something');
    const reply = page.locator('.msg.assistant .part.text.markdown').last();
    await expect
      .poll(
        () =>
          reply
            .locator('pre code .hljs-built_in')
            .innerText()
            .catch(() => ''),
        { timeout: UI_TIMEOUT },
      )
      .toBe('print');
    expect(await page.locator('.msg.assistant').last().getAttribute('data-status')).not.toBe('completed');
    expect(await reply.locator('h3').innerText()).toBe('Plan');
    expect(await reply.locator('li').allInnerTexts()).toEqual(['one', 'two']);
    expect(await reply.locator('li strong').innerText()).toBe('two');
    await screenshot(page, 'markdown-streaming');
    await page.click('#ses-abort');
    await expect.poll(() => page.locator('#composer-send').innerText(), { timeout: UI_TIMEOUT }).toBe('Send');

    // Then 400 small pieces in a burst: the page renders per frame, not per piece.
    await page.evaluate(`(() => {
      window.__frames = 0; window.__renders = 0; window.__counting = true;
      const tick = () => { if (!window.__counting) return; window.__frames++; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      new MutationObserver((records) => {
        if (records.some((r) => r.target.id === 'messages' && r.type === 'childList')) window.__renders++;
      }).observe(document.getElementById('messages'), { childList: true });
    })()`);
    const pieces = Array.from({ length: 400 }, (_, i) => (i % 20 === 19 ? `**w${i}**\n\n` : `w${i} `));
    app.model.reply({ text: pieces });
    await page.fill('#composer-input', 'many pieces');
    await page.keyboard.press('Enter');
    await expect
      .poll(
        () =>
          reply
            .locator('strong')
            .last()
            .innerText()
            .catch(() => ''),
        { timeout: UI_TIMEOUT },
      )
      .toBe('w399');
    await expect.poll(() => page.locator('#composer-send').innerText(), { timeout: UI_TIMEOUT }).toBe('Send');
    const { frames, renders } = await page.evaluate<{ frames: number; renders: number }>(
      '(() => { window.__counting = false; return { frames: window.__frames, renders: window.__renders }; })()',
    );
    expect(renders).toBeGreaterThan(0);
    expect(renders).toBeLessThanOrEqual(frames + 1);
    expect(renders).toBeLessThan(pieces.length / 4);
    expect(await reply.locator('strong').count()).toBe(20);
    expect(await cspViolations()).toEqual([]);
    // Stopping the first run cuts its response stream short: Chromium logs that, and only that.
    expect(errors.filter((e) => !e.includes('net::ERR_INCOMPLETE_CHUNKED_ENCODING'))).toEqual([]);
  });

  it('fences are highlighted with the dark theme; links open in a new tab without opener or referrer', async () => {
    const { page, errors, cspViolations } = await app.newPage();
    app.model.reply({
      text: ['See [the docs](https://example.com/docs).\n\n```ts\n// note\nconst n: number = 42;\nexport function f() { return "s"; }\n```\n'],
    });
    await ask(page, 'code please');
    const reply = page.locator('.msg.assistant .part.text.markdown').last();
    await reply.locator('pre code.language-ts').waitFor({ timeout: UI_TIMEOUT });
    // Found and read in one task in the page (page.evaluate, not a handle): the message may be
    // re-rendered (a later event about the session) between resolving a handle and reading through
    // it, and a detached element has no computed style. Polled, so a re-render mid-way is retried.
    const styles = () =>
      page.evaluate(() => {
        const d = (globalThis as any).document;
        const replies = d.querySelectorAll('.msg.assistant .part.text.markdown');
        const el = replies[replies.length - 1];
        const g = (sel: string, prop: string) => {
          const n = el?.querySelector(sel);
          return n ? (globalThis as any).getComputedStyle(n).getPropertyValue(prop) : 'missing';
        };
        return [
          g('.hljs-keyword', 'color'),
          g('.hljs-string', 'color'),
          g('.hljs-number', 'color'),
          g('.hljs-comment', 'font-style'),
          g('pre', 'background-color'),
        ];
      });
    await expect.poll(styles, { timeout: UI_TIMEOUT }).toEqual(['rgb(187, 154, 247)', 'rgb(158, 206, 106)', 'rgb(255, 158, 100)', 'italic', 'rgb(11, 14, 20)']);
    const link = reply.locator('a', { hasText: 'the docs' });
    expect(await link.getAttribute('href')).toBe('https://example.com/docs');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    await screenshot(page, 'markdown-code');
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('without the renderer (a build without bundles) replies stay plain text', async () => {
    const { page, cspViolations } = await app.newPage();
    await page.route('**/ui/vendor/markdown.js', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{}' }));
    app.model.reply({ text: ['**not bold** <b>x</b>'] });
    await ask(page, 'plain please');
    const reply = page.locator('.msg.assistant .part.text').last();
    await expect.poll(() => reply.innerText().catch(() => ''), { timeout: UI_TIMEOUT }).toBe('**not bold** <b>x</b>');
    expect(await reply.locator('*').count()).toBe(0);
    expect(await reply.getAttribute('class')).toContain('plain');
    expect(await cspViolations()).toEqual([]);
  });
});
