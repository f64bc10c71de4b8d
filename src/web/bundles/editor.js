// @ts-check
// Entry for dist/web/editor.js: a CodeMirror 6 editor with a language picked from the file name.
import { EditorView, basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import { oneDark } from '@codemirror/theme-one-dark';
import { javascript } from '@codemirror/lang-javascript';
import { json } from '@codemirror/lang-json';
import { markdown } from '@codemirror/lang-markdown';
import { python } from '@codemirror/lang-python';
import { css } from '@codemirror/lang-css';
import { html } from '@codemirror/lang-html';

/** @param {string} name */
export function languageFor(name) {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (['js', 'mjs', 'cjs', 'jsx'].includes(ext)) return javascript({ jsx: ext === 'jsx' });
  if (['ts', 'mts', 'cts', 'tsx'].includes(ext)) return javascript({ typescript: true, jsx: ext === 'tsx' });
  if (ext === 'json') return json();
  if (['md', 'markdown'].includes(ext)) return markdown();
  if (ext === 'py') return python();
  if (ext === 'css') return css();
  if (['html', 'htm'].includes(ext)) return html();
  return [];
}

/**
 * @param {{ parent: HTMLElement, doc: string, filename: string, readOnly?: boolean, onChange?: (doc: string) => void }} opts
 */
export function createEditor(opts) {
  const view = new EditorView({
    parent: opts.parent,
    state: EditorState.create({
      doc: opts.doc,
      extensions: [
        basicSetup,
        oneDark,
        languageFor(opts.filename),
        EditorState.readOnly.of(opts.readOnly ?? false),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) opts.onChange?.(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    getValue: () => view.state.doc.toString(),
    destroy: () => view.destroy(),
  };
}
