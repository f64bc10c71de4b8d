// @ts-check
// The files screen (#/files/<path>): a directory listing with breadcrumbs, and a file's content.
import { ApiError, api } from './api.js';
import { $, h, show } from './dom.js';
import { formatBytes } from './format.js';
import { navigate } from './router.js';
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

/** @returns {Mounted} */
export function mountFiles(/** @type {string | null} */ arg) {
  const dir = arg || '.';
  const list = $('file-list');
  const viewer = $('file-view');
  show(viewer, false);
  list.replaceChildren(h('li', { className: 'muted' }, 'Loading…'));
  let alive = true;
  crumbs(dir);

  const openFile = async (/** @type {FileEntry} */ entry, /** @type {HTMLElement} */ row) => {
    for (const r of list.querySelectorAll('.selected')) r.classList.remove('selected');
    row.classList.add('selected');
    $('file-name').textContent = entry.path;
    $('file-size').textContent = formatBytes(entry.size);
    $('file-content').textContent = 'Loading…';
    show(viewer);
    try {
      /** @type {FileContent} */
      const f = await api('GET', `/file/content?path=${encodeURIComponent(entry.path)}`);
      if (!alive) return;
      $('file-content').textContent = f.encoding === 'utf8' ? f.content : `(binary file, ${formatBytes(f.size)})`;
    } catch (err) {
      if (err instanceof ApiError) $('file-content').textContent = err.message;
      else reportError(err);
    }
  };

  const entryRow = (/** @type {FileEntry} */ e) => {
    const isDir = e.type === 'directory';
    const row = h(
      'li',
      { className: `entry ${e.type}` },
      h('span', { className: 'icon', 'aria-hidden': 'true' }, isDir ? '▸' : '·'),
      h('span', { className: 'name' }, e.name + (isDir ? '/' : '')),
      h('span', { className: 'meta' }, isDir ? '' : formatBytes(e.size)),
    );
    row.tabIndex = 0;
    const open = () => (isDir ? navigate(`#/files/${encodeURIComponent(e.path)}`) : void openFile(e, row));
    row.onclick = open;
    // (A block, not `ev.key === 'Enter' && open()`: a handler property returning false cancels the
    // key, which kept Tab from ever leaving the list.)
    row.onkeydown = (ev) => {
      if (ev.key === 'Enter') open();
    };
    return row;
  };

  void (async () => {
    try {
      /** @type {FileListing} */
      const listing = await api('GET', `/file?path=${encodeURIComponent(dir)}`);
      if (!alive) return;
      crumbs(listing.path);
      const rows = listing.entries.map(entryRow);
      list.replaceChildren(...(rows.length ? rows : [h('li', { className: 'muted empty' }, 'This directory is empty.')]));
      if (listing.truncated) list.append(h('li', { className: 'muted' }, '… more entries not shown'));
    } catch (err) {
      if (err instanceof ApiError) list.replaceChildren(h('li', { className: 'muted' }, err.message));
      else reportError(err);
    }
  })();
  return {
    dispose() {
      alive = false;
    },
  };
}
