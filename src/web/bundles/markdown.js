// @ts-check
// Entry for dist/web/markdown.js (served as /ui/vendor/markdown.js): agent replies as Markdown.
// What an agent writes is untrusted (a prompt injection can put anything in a reply), so:
// - raw HTML is off: markdown-it escapes it as text;
// - a link's URL is http:, https:, mailto: or has no scheme (relative); anything else (javascript:,
//   vbscript:, data:, file:, ...) is not made a link, whatever its case, entities or whitespace;
// - links open in a new tab with rel="noopener noreferrer" (no window.opener, no Referer);
// - images are not loaded (an image is a request the reply chooses): one becomes a link to it;
// - headings start at h3 (the page owns h1 and h2); table alignment is a class, never a style
//   attribute (the page's CSP admits none);
// - code fences are highlighted by highlight.js, whose output is escaped text in <span class>.
// The page still rebuilds the result through an allowlist (modules/markdown-view.js) before it
// shows it: this file is the first of two layers, not the only one.
import MarkdownIt from 'markdown-it';
import hljs from 'highlight.js/lib/common';

/** Code longer than this is shown plain: highlighting it on every streamed frame costs too much. */
const MAX_HIGHLIGHT_CHARS = 100_000;

const md = new MarkdownIt({
  html: false,
  linkify: true,
  highlight(code, lang) {
    if (lang && code.length <= MAX_HIGHLIGHT_CHARS && hljs.getLanguage(lang)) {
      return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    }
    return ''; // markdown-it escapes it
  },
});

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const SAFE_SCHEME = /^(?:https?|mailto):/i;

/** Whether `url` may be a link's target: a safe scheme, or none at all (a relative URL). markdown-it
 * calls this after decoding entities and percent-encoding whitespace and control characters. */
export function safeUrl(/** @type {string} */ url) {
  const u = url.trim();
  return SCHEME.test(u) ? SAFE_SCHEME.test(u) : true;
}
md.validateLink = safeUrl;

// A fence's language is a word (`ts`, `c++`, `objective-c`, `c#`) or nothing: it becomes a class.
const LANGUAGE = /^[\w+#.-]{1,40}$/;
md.core.ruler.push('fence_language', (state) => {
  for (const token of state.tokens) {
    if (token.type !== 'fence') continue;
    const lang = token.info.trim().split(/\s+/)[0] ?? '';
    token.info = LANGUAGE.test(lang) ? lang : '';
  }
});

/** @type {import('markdown-it').RendererRule} */
const renderToken = (tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options);
const rules = md.renderer.rules;

// Links open in a new tab without giving it this window (noopener) or the URL (noreferrer).
const defaultLinkOpen = rules.link_open ?? renderToken;
/** @type {import('markdown-it').RendererRule} */
const linkOpen = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (token) {
    token.attrSet('target', '_blank');
    token.attrSet('rel', 'noopener noreferrer');
  }
  return defaultLinkOpen(tokens, idx, options, env, self);
};
rules.link_open = linkOpen;

// An image: a link to it (when its URL is http or https), else its description as text.
/** @type {import('markdown-it').RendererRule} */
const image = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (!token) return '';
  const alt = self.renderInlineAsText(token.children ?? [], options, env).trim();
  const label = md.utils.escapeHtml(`image: ${alt || 'untitled'}`);
  const src = token.attrGet('src') ?? '';
  if (!/^https?:/i.test(String(src))) return label;
  return `<a href="${md.utils.escapeHtml(String(src))}" target="_blank" rel="noopener noreferrer">${label}</a>`;
};
rules.image = image;

// Headings h1..h6 become h3..h6.
/** @type {import('markdown-it').RendererRule} */
const heading = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (token && /^h[1-6]$/.test(token.tag)) token.tag = `h${Math.min(6, Number(token.tag[1]) + 2)}`;
  return renderToken(tokens, idx, options, env, self);
};
rules.heading_open = heading;
rules.heading_close = heading;

// Table cells: `style="text-align:x"` becomes `class="align-x"`.
/** @type {import('markdown-it').RendererRule} */
const cell = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  const style = token?.attrGet('style');
  if (token && style) {
    token.attrs = (token.attrs ?? []).filter(([name]) => name !== 'style');
    const m = /^text-align:(left|center|right)$/.exec(String(style));
    if (m) token.attrSet('class', `align-${m[1]}`);
  }
  return renderToken(tokens, idx, options, env, self);
};
rules.th_open = cell;
rules.td_open = cell;

/** Markdown source -> HTML with no raw HTML, script, event handler or unsafe link from the source. */
export function renderMarkdown(/** @type {string} */ source) {
  return md.render(source);
}
