// @ts-check
// An agent reply as Markdown. The renderer (/ui/vendor/markdown.js, bundled from
// src/web/bundles/markdown.js) turns the text into HTML with raw HTML escaped and only safe links;
// this module is the second layer: the HTML is parsed into an inert document (DOMParser: nothing in
// it runs or loads) and rebuilt element by element from an allowlist, so nothing outside that list
// ever reaches the page, whatever the renderer let through. Until the renderer has loaded (or if it
// cannot load) a reply shows as plain text, and is upgraded in place once it has.

/** Element -> attributes it may keep. Anything else is dropped; its text is kept. */
const ALLOWED = new Map(
  Object.entries({
    p: [],
    br: [],
    hr: [],
    h3: [],
    h4: [],
    h5: [],
    h6: [],
    ul: [],
    ol: ['start'],
    li: [],
    blockquote: [],
    pre: [],
    code: ['class'],
    span: ['class'],
    em: [],
    strong: [],
    s: [],
    a: ['href', 'title'],
    table: [],
    thead: [],
    tbody: [],
    tr: [],
    th: ['class'],
    td: ['class'],
  }),
);
/** Elements dropped with their content (the renderer never makes them; if one came, its text is not a reply's). */
const DROPPED = new Set(['script', 'style', 'template', 'iframe', 'object', 'embed', 'svg', 'math', 'noscript', 'title', 'head']);
/** Classes from highlight.js (`hljs-keyword`, and its `function_`-style modifiers), fences and tables. */
const CLASS = /^(?:hljs(?:-[\w-]+)?|[a-z]+_|language-[\w+#.-]+|align-(?:left|center|right))$/;
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
/** Replies longer than this are shown as plain text (rendering them on every frame would stall the page). */
const MAX_MARKDOWN_CHARS = 200_000;

/** A link's URL as the browser will read it, if its scheme is allowed; else null. */
function safeHref(/** @type {string} */ raw) {
  try {
    const url = new URL(raw, location.href);
    return LINK_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** Copies `from`'s children into `to`, keeping allowed elements and attributes only. */
function rebuild(/** @type {Node} */ from, /** @type {Node} */ to) {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.appendChild(document.createTextNode(node.textContent || ''));
      continue;
    }
    if (!(node instanceof Element)) continue; // comments, processing instructions
    const tag = node.localName;
    if (DROPPED.has(tag) || node.namespaceURI !== 'http://www.w3.org/1999/xhtml') continue;
    const attrs = ALLOWED.get(tag);
    if (!attrs) {
      rebuild(node, to); // unknown element: its text only
      continue;
    }
    const el = document.createElement(tag);
    for (const name of attrs) {
      const value = node.getAttribute(name);
      if (value === null) continue;
      if (name === 'href') {
        const href = safeHref(value);
        if (href === null) continue;
        el.setAttribute('href', href);
        // Set here, whatever the renderer did: a new tab, without this window or the URL.
        el.setAttribute('target', '_blank');
        el.setAttribute('rel', 'noopener noreferrer');
      } else if (name === 'class') {
        const classes = value.split(/\s+/).filter((c) => CLASS.test(c));
        if (classes.length) el.className = classes.join(' ');
      } else if (name === 'start') {
        if (/^\d{1,9}$/.test(value)) el.setAttribute('start', value);
      } else {
        el.setAttribute(name, value);
      }
    }
    if (tag === 'a' && !el.hasAttribute('href')) {
      rebuild(node, to); // a link without a safe target is its text
      continue;
    }
    rebuild(node, el);
    to.appendChild(el);
  }
}

/** HTML from the renderer -> a fragment made of allowed elements only. */
export function sanitize(/** @type {string} */ html) {
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html');
  const frag = document.createDocumentFragment();
  rebuild(doc.body, frag);
  return frag;
}

/** @type {((source: string) => string) | null} */
let render = null;
/** @type {Promise<void> | null} */
let loading = null;
/** Plain-text replies shown before the renderer loaded, to upgrade once it has. @type {Map<HTMLElement, string>} */
const waiting = new Map();

/** Loads the renderer once; replies already on show are upgraded. Without it, replies stay text. */
export function loadMarkdown() {
  loading ??= import('../vendor/markdown.js').then(
    (m) => {
      render = m.renderMarkdown;
      for (const [el, text] of waiting) if (el.isConnected) fill(el, text);
      waiting.clear();
    },
    () => {
      waiting.clear(); // no renderer (a build without bundles): plain text it is
    },
  );
  return loading;
}

/** Rendered fragments by source text, most recent last: a streamed reply re-renders every frame,
 * and the replies before it do not change. */
/** @type {Map<string, DocumentFragment>} */
const cache = new Map();
const CACHE_SIZE = 200;

function rendered(/** @type {string} */ text) {
  let frag = cache.get(text);
  if (frag) cache.delete(text);
  else frag = sanitize(/** @type {(s: string) => string} */ (render)(text));
  cache.set(text, frag);
  const oldest = cache.keys().next().value;
  if (cache.size > CACHE_SIZE && oldest !== undefined) cache.delete(oldest);
  return frag.cloneNode(true);
}

function fill(/** @type {HTMLElement} */ el, /** @type {string} */ text) {
  if (render && text.length <= MAX_MARKDOWN_CHARS) {
    el.classList.add('markdown');
    el.classList.remove('plain');
    el.replaceChildren(rendered(text));
  } else {
    el.classList.add('plain');
    el.replaceChildren(text);
  }
}

/** A reply's text part: Markdown once the renderer is loaded, plain text until then. */
export function markdownView(/** @type {string} */ text, /** @type {string} */ className) {
  const el = document.createElement('div');
  el.className = className;
  fill(el, text);
  if (!render) {
    waiting.set(el, text);
    void loadMarkdown();
  }
  return el;
}
