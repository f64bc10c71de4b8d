// @ts-check
// The files screen (#/files/<path>): a directory listing with breadcrumbs, and a file's content:
// in an editor for a token with write (file-editor.js), else read-only, both highlighted by the
// file's language. Leaving unsaved changes (another file, another screen) asks first; the list
// follows file events (GET /event) for this directory.
import { ApiError, SessionEnded, api } from './api.js';
import { $, h, show } from './dom.js';
import { readFile } from './file-api.js';
import { loadEditorBundle, openEditor } from './file-editor.js';
import { formatBytes } from './format.js';
import { navigate } from './router.js';
import { state } from './state.js';
import { reportError } from './status.js';

/** The path as links: project / a / b. */
function crumbs(/** @type {string} */ p) {
  const parts = p === '.' ? [] : p.split('/').filter(Boolean);
  /** @type {HTMLElement[]} */
  const items = [h('a', { href: '#/files' }, 'project')];
  parts.forEach((seg, i) => {
    items.push(h('span', { className: 'sep' }, '/'));
    items.push(h('a', { href: `#/files/${encodeURIComponent(parts.slice(0, i + 1).join('/'))}` }, seg));
  });
  $('crumbs').replaceChildren(...items);
}

/** The read-only view: highlighted when the editor bundle loads, plain text otherwise. */
async function showReadOnly(/** @type {FileContent} */ f) {
  const pre = $('file-content');
  pre.textContent = f.content;
  try {
    (await loadEditorBundle()).highlightInto(pre, f.content, f.path);
  } catch {
    // the plain text stays
  }
}

const parentOf = (/** @type {string} */ p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '.');

/** @returns {Mounted} */
export function mountFiles(/** @type {string | null} */ arg) {
  const dir = arg || '.';
  const list = $('file-list');
  const viewer = $('file-view');
  show(viewer, false);
  list.replaceChildren(h('li', { className: 'muted' }, 'Loading…'));
  let alive = true;
  /** The directory as the server names it (for matching events). */
  let listed = dir;
  /** @type {import('./file-editor.js').EditorPanel | null} */
  let panel = null;
  /** @type {string | null} */
  let openPath = null;
  /** Which open is current: a slower earlier one must not show its file over a later one. */
  let opening = 0;
  crumbs(dir);

  const closePanel = () => {
    panel?.dispose();
    panel = null;
  };
  const mayLeave = () => !panel || !panel.dirty() || confirm(`You have unsaved changes to ${openPath}. Discard them?`);

  const markSelected = () => {
    for (const r of list.querySelectorAll('.entry')) r.classList.toggle('selected', r instanceof HTMLElement && r.dataset.path === openPath);
  };

  const openFile = async (/** @type {FileEntry} */ entry) => {
    if (entry.path === openPath && panel) return;
    if (!mayLeave()) return;
    closePanel();
    const mine = ++opening;
    openPath = entry.path;
    markSelected();
    $('file-name').textContent = entry.path;
    $('file-size').textContent = formatBytes(entry.size);
    $('file-state').textContent = state.can.write ? '' : 'Read-only: this token has no write permission';
    $('file-state').className = 'file-state small';
    const pre = $('file-content');
    pre.textContent = 'Loading…';
    show(pre);
    show(viewer);
    try {
      const { file, etag } = await readFile(entry.path);
      if (!alive || mine !== opening) return;
      if (file.encoding !== 'utf8') {
        pre.textContent = `(binary file, ${formatBytes(file.size)}: not shown)`;
      } else if (state.can.write) {
        const p = await openEditor({ path: file.path, text: file.content, etag });
        if (!alive || mine !== opening) p.dispose();
        else panel = p;
      } else {
        await showReadOnly(file);
      }
    } catch (err) {
      if (err instanceof SessionEnded || mine !== opening) return;
      pre.textContent = err instanceof ApiError ? err.message : `The editor could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
    }
  };

  const entryRow = (/** @type {FileEntry} */ e) => {
    const isDir = e.type === 'directory';
    const row = h(
      'li',
      { className: `entry ${e.type}`, dataset: { path: e.path } },
      h('span', { className: 'icon', 'aria-hidden': 'true' }, isDir ? '▸' : '·'),
      h('span', { className: 'name' }, e.name + (isDir ? '/' : '')),
      h('span', { className: 'meta' }, isDir ? '' : formatBytes(e.size)),
    );
    row.tabIndex = 0;
    const open = () => (isDir ? navigate(`#/files/${encodeURIComponent(e.path)}`) : void openFile(e));
    row.onclick = open;
    // (A block, not `ev.key === 'Enter' && open()`: a handler property returning false cancels the
    // key, which kept Tab from ever leaving the list.)
    row.onkeydown = (ev) => {
      if (ev.key === 'Enter') open();
    };
    return row;
  };

  const loadList = async () => {
    try {
      /** @type {FileListing} */
      const listing = await api('GET', `/file?path=${encodeURIComponent(dir)}`);
      if (!alive) return;
      listed = listing.path;
      crumbs(listing.path);
      const rows = listing.entries.map(entryRow);
      list.replaceChildren(...(rows.length ? rows : [h('li', { className: 'muted empty' }, 'This directory is empty.')]));
      if (listing.truncated) list.append(h('li', { className: 'muted' }, '… more entries not shown'));
      markSelected();
    } catch (err) {
      if (err instanceof ApiError) list.replaceChildren(h('li', { className: 'muted' }, err.message));
      else reportError(err);
    }
  };
  void loadList();

  return {
    dispose() {
      alive = false;
      closePanel();
    },
    confirmLeave: mayLeave,
    onEvent(type, p) {
      if (type !== 'file.written' && type !== 'file.deleted') return;
      panel?.onFileEvent(type, p);
      // A file appeared in or left this directory, or changed size.
      if (typeof p.path === 'string' && parentOf(p.path) === listed) void loadList();
    },
  };
}
