// @ts-check
// Entry for dist/web/markdown.js: agent replies as Markdown with raw HTML disabled (markdown-it
// escapes it), links limited by markdown-it's validateLink (no javascript:, vbscript:, file:, data:
// except images), and code fences highlighted by highlight.js (its output is escaped text in spans).
import MarkdownIt from 'markdown-it';
import hljs from 'highlight.js/lib/common';

const md = new MarkdownIt({
  html: false,
  linkify: true,
  highlight(code, lang) {
    if (lang && hljs.getLanguage(lang)) {
      return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    }
    return ''; // markdown-it escapes it
  },
});

// Links open in a new tab without giving it this window (noopener) or the URL (noreferrer).
/** @type {import('markdown-it').RendererRule} */
const renderToken = (tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options);
const defaultLinkOpen = md.renderer.rules.link_open ?? renderToken;
/** @type {import('markdown-it').RendererRule} */
const linkOpen = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (token) {
    token.attrSet('target', '_blank');
    token.attrSet('rel', 'noopener noreferrer');
  }
  return defaultLinkOpen(tokens, idx, options, env, self);
};
md.renderer.rules.link_open = linkOpen;

/** Markdown source -> HTML with no raw HTML from the source. */
export function renderMarkdown(/** @type {string} */ source) {
  return md.render(source);
}
