// @ts-check
// Entry for dist/web/editor.js (served as /ui/vendor/editor.js): the Files view's CodeMirror 6
// editor, and the same highlighting for read-only views without an editor.
//
// Colours: tokens get classHighlighter's `tok-*` classes, styled in style.css (one palette for the
// editor and the read-only view, chosen for contrast on the page's dark background). CodeMirror's
// own structural CSS is injected by style-mod as a <style> element, which the page's CSP forbids;
// csp-styles.js (loaded first by app.js) turns that element into a constructed stylesheet.
//
// Keys: basicSetup's, plus Tab to indent (Escape then Tab leaves the editor: CodeMirror's own
// escape hatch, so the keyboard is never trapped).
//
// Line endings are kept: the document's line separator is the one the file uses (CodeMirror would
// otherwise turn CRLF into LF on save), and the text is read back with that separator.
import { EditorView, basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { indentWithTab } from '@codemirror/commands';
import { syntaxHighlighting } from '@codemirror/language';
import { classHighlighter, highlightCode } from '@lezer/highlight';
import { javascript } from '@codemirror/lang-javascript';
import { json } from '@codemirror/lang-json';
import { markdown } from '@codemirror/lang-markdown';
import { python } from '@codemirror/lang-python';
import { css } from '@codemirror/lang-css';
import { html } from '@codemirror/lang-html';

/** @param {string} name @returns {import('@codemirror/language').LanguageSupport | null} */
export function languageFor(name) {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (['js', 'mjs', 'cjs', 'jsx'].includes(ext)) return javascript({ jsx: ext === 'jsx' });
  if (['ts', 'mts', 'cts', 'tsx'].includes(ext)) return javascript({ typescript: true, jsx: ext === 'tsx' });
  if (ext === 'json') return json();
  if (['md', 'markdown'].includes(ext)) return markdown();
  if (ext === 'py') return python();
  if (ext === 'css') return css();
  if (['html', 'htm', 'svg', 'xml'].includes(ext)) return html();
  return null;
}

/** The line separator a text uses (its first line break), so that saving keeps it. */
export function lineSeparatorOf(/** @type {string} */ text) {
  const i = text.indexOf('\n');
  return i > 0 && text[i - 1] === '\r' ? '\r\n' : '\n';
}

/** Larger texts are shown plain in read-only views (thousands of spans cost more than they help). */
export const HIGHLIGHT_MAX_CHARS = 256 * 1024;

/**
 * Replaces `el`'s children with `text`, highlighted by the language of `filename`: text nodes and
 * spans with `tok-*` classes only, never markup from the text.
 * @param {HTMLElement} el
 * @param {string} text
 * @param {string} filename
 */
export function highlightInto(el, text, filename) {
  const lang = languageFor(filename);
  if (!lang || text.length > HIGHLIGHT_MAX_CHARS) {
    el.textContent = text;
    return;
  }
  const frag = document.createDocumentFragment();
  highlightCode(
    text,
    lang.language.parser.parse(text),
    classHighlighter,
    (chunk, classes) => {
      if (!classes) return void frag.append(chunk);
      const span = document.createElement('span');
      span.className = classes;
      span.textContent = chunk;
      frag.append(span);
    },
    () => frag.append('\n'),
  );
  el.replaceChildren(frag);
}

/** The editor's look, in the page's colours (the token colours are in style.css). */
const theme = EditorView.theme(
  {
    '&': { color: 'var(--fg)', backgroundColor: 'var(--bg-1)', height: '100%' },
    '.cm-content': { fontFamily: 'var(--mono)', fontSize: '13px', caretColor: 'var(--accent)' },
    '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
    '.cm-gutters': { backgroundColor: 'var(--bg-1)', color: 'var(--fg-dim)', borderRight: '1px solid var(--line)' },
    '.cm-activeLine': { backgroundColor: 'rgba(122, 162, 247, 0.06)' },
    '.cm-activeLineGutter': { backgroundColor: 'rgba(122, 162, 247, 0.1)', color: 'var(--fg)' },
    '&.cm-focused .cm-cursor': { borderLeftColor: 'var(--accent)' },
    '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: '#2b3a5c' },
    '.cm-panels': { backgroundColor: 'var(--bg-2)', color: 'var(--fg)' },
    '.cm-searchMatch': { backgroundColor: 'rgba(224, 175, 104, 0.25)' },
    '.cm-tooltip': { backgroundColor: 'var(--bg-2)', border: '1px solid var(--line-2)' },
  },
  { dark: true },
);

/**
 * An editor for one file.
 * @param {{ parent: HTMLElement, doc: string, filename: string, readOnly?: boolean, label?: string, describedBy?: string, onChange?: () => void }} opts
 */
export function createEditor(opts) {
  const lang = languageFor(opts.filename);
  const state = (/** @type {string} */ doc) =>
    EditorState.create({
      doc,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        theme,
        syntaxHighlighting(classHighlighter),
        lang ?? [],
        EditorState.lineSeparator.of(lineSeparatorOf(doc)),
        EditorState.readOnly.of(opts.readOnly ?? false),
        EditorView.contentAttributes.of({
          'aria-label': opts.label ?? `Contents of ${opts.filename}`,
          ...(opts.describedBy ? { 'aria-describedby': opts.describedBy } : {}),
        }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) opts.onChange?.();
        }),
      ],
    });
  const view = new EditorView({ parent: opts.parent, state: state(opts.doc) });
  return {
    view,
    /** The text, with the file's own line separator. */
    getValue: () => view.state.sliceDoc(),
    /** Replaces the document (a reload from disk): undo history starts afresh. */
    setValue: (/** @type {string} */ doc) => view.setState(state(doc)),
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
