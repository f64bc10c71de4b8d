// Agent replies as Markdown (src/web/bundles/markdown.js): whatever a reply holds, the HTML has no
// raw HTML, no element or attribute outside a small allowlist, no event handler and no link to a
// script URL. Run twice: on the source module, and on the esbuild bundle made the way
// scripts/bundle-web.js makes dist/web/markdown.js (minified ESM), since that is what the page loads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as source from '../../src/web/bundles/markdown.js';
import { HOSTILE } from '../helpers/hostile-markdown.js';

type Renderer = { renderMarkdown(src: string): string };

const root = path.resolve(import.meta.dirname, '../..');
let tmp: string;
let bundled: Renderer;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-md-'));
  const out = path.join(tmp, 'markdown.mjs');
  await build({
    entryPoints: [path.join(root, 'src/web/bundles/markdown.js')],
    outfile: out,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  bundled = (await import(pathToFileURL(out).href)) as Renderer;
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Elements the renderer may produce, with the attributes each may carry. */
const ALLOWED: Record<string, readonly string[]> = {
  a: ['href', 'target', 'rel', 'title'],
  ol: ['start'],
  code: ['class'],
  span: ['class'],
  th: ['class'],
  td: ['class'],
};
for (const t of ['p', 'br', 'hr', 'h3', 'h4', 'h5', 'h6', 'ul', 'li', 'blockquote', 'pre', 'em', 'strong', 's', 'table', 'thead', 'tbody', 'tr'])
  ALLOWED[t] = [];

const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+="[^"<>]*")*)\s*>/g;
const ATTR = /\s+([a-zA-Z-]+)="([^"]*)"/g;

const decode = (s: string) =>
  s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** Checks the invariants on rendered HTML; returns the links' resolved URLs. */
function checkSafe(html: string, input: string): URL[] {
  const links: URL[] = [];
  for (const m of html.matchAll(TAG)) {
    const [, close, tag, attrs] = m;
    const name = tag.toLowerCase();
    expect(Object.keys(ALLOWED), `element <${name}> from ${JSON.stringify(input)}`).toContain(name);
    if (close) continue;
    for (const [, attr, raw] of attrs.matchAll(ATTR)) {
      expect(ALLOWED[name], `attribute ${attr} on <${name}> from ${JSON.stringify(input)}`).toContain(attr.toLowerCase());
      const value = decode(raw);
      if (attr === 'href') {
        // As the browser reads it: the scheme after its own URL parsing.
        const url = new URL(value, 'http://page.test/ui/');
        expect(['http:', 'https:', 'mailto:'], `href ${JSON.stringify(value)} from ${JSON.stringify(input)}`).toContain(url.protocol);
        links.push(url);
      }
      if (attr === 'class') expect(value, `class from ${JSON.stringify(input)}`).toMatch(/^[\w\s+#.-]*$/);
      if (attr === 'target') expect(value).toBe('_blank');
      if (attr === 'rel') expect(value).toBe('noopener noreferrer');
    }
    if (name === 'a') expect(attrs, `link from ${JSON.stringify(input)}`).toMatch(/rel="noopener noreferrer"/);
  }
  // Every "<" left is part of an allowed tag: none came through from the source as markup.
  expect(html.replace(TAG, ''), `stray markup from ${JSON.stringify(input)}`).not.toMatch(/</);
  return links;
}

describe.each([
  ['source module', () => source as Renderer],
  ['esbuild bundle', () => bundled],
])('renderMarkdown (%s)', (_name, renderer) => {
  it.each(HOSTILE)('renders %j inert', (input) => {
    const html = renderer().renderMarkdown(input);
    checkSafe(html, input);
    expect(html).not.toMatch(/<(script|img|svg|iframe|style|form|input|math|div)\b/i);
  });

  it('keeps what Markdown is for: emphasis, code, lists, quotes, tables, safe links in a new tab', () => {
    const html = renderer().renderMarkdown(
      '# Title\n\nSome **bold**, *em*, ~~gone~~ and `code`.\n\n- one\n- two\n\n3. three\n\n> quoted\n\n' +
        '| l | r |\n|:--|--:|\n| 1 | 2 |\n\n[docs](https://example.com/a?b=1&c=2) <https://example.com/auto> mail@example.com\n',
    );
    checkSafe(html, 'sample');
    expect(html).toContain('<h3>Title</h3>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<em>em</em>');
    expect(html).toContain('<s>gone</s>');
    expect(html).toContain('<code>code</code>');
    expect(html).toMatch(/<ul>\s*<li>one<\/li>/);
    expect(html).toContain('<ol start="3">');
    expect(html).toMatch(/<blockquote>\s*<p>quoted<\/p>/);
    expect(html).toContain('<th class="align-left">l</th>');
    expect(html).toContain('<td class="align-right">2</td>');
    expect(html).not.toMatch(/style=/);
    expect(html).toContain('<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">docs</a>');
    expect(html).toContain('<a href="https://example.com/auto" target="_blank" rel="noopener noreferrer">');
    expect(html).toContain('<a href="mailto:mail@example.com" target="_blank" rel="noopener noreferrer">');
  });

  it('highlights a fenced block by its language, as escaped text in spans', () => {
    const html = renderer().renderMarkdown('```ts\nconst x: string = "<b>";\n```\n\n```nosuchlang\n<i>plain</i>\n```\n');
    checkSafe(html, 'fences');
    expect(html).toContain('<pre><code class="language-ts"><span class="hljs-keyword">const</span>');
    expect(html).toContain('<span class="hljs-string">&quot;&lt;b&gt;&quot;</span>');
    expect(html).toContain('<code class="language-nosuchlang">&lt;i&gt;plain&lt;/i&gt;');
  });

  it('an image is a link to it (http and https only), never an <img>', () => {
    const html = renderer().renderMarkdown('![diagram](https://example.com/d.png) ![local](d.png)');
    checkSafe(html, 'images');
    expect(html).toContain('<a href="https://example.com/d.png" target="_blank" rel="noopener noreferrer">image: diagram</a>');
    expect(html).toContain('image: local');
    expect(html).not.toContain('<img');
  });

  it('any mix of hostile fragments renders inert (property)', () => {
    const piece = fc.constantFrom(
      ...HOSTILE,
      '**',
      '_',
      '`',
      '```',
      '\n',
      '\n\n',
      '[',
      '](',
      ')',
      '<',
      '>',
      '"',
      "'",
      '&',
      '#',
      '- ',
      '> ',
      '|',
      'javascript:',
      'data:',
      ' onerror=',
      'https://ok.test/',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const input = parts.join('');
        checkSafe(renderer().renderMarkdown(input), input);
      }),
      { numRuns: 300 },
    );
  });
});

describe('safeUrl', () => {
  it('admits http, https, mailto and scheme-less URLs; refuses every other scheme', () => {
    for (const ok of ['https://a.test/', 'HTTP://a.test', 'mailto:x@y.test', '/abs', 'rel/path', '#frag', '?q=1', './x:y'])
      expect(source.safeUrl(ok), ok).toBe(true);
    for (const bad of [
      'javascript:x',
      ' JavaScript:x',
      'vbscript:x',
      'data:text/html,x',
      'data:image/png;base64,x',
      'file:///x',
      'blob:x',
      'ftp://x',
      'chrome://x',
    ])
      expect(source.safeUrl(bad), bad).toBe(false);
  });
});
