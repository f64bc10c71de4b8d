// @ts-check
// The sidebar: the terminal and session lists, and which navigation link is active.
import { api } from './api.js';
import { $, h, replaceKeepingFocus } from './dom.js';
import { ago } from './format.js';
import { canRun, state } from './state.js';
import { reportError } from './status.js';

/** Reloads both lists from the server (for a token that may see them). */
export async function refreshLists() {
  if (!state.me || !canRun()) return;
  try {
    const [ptys, ses] = await Promise.all([api('GET', '/pty'), api('GET', '/session')]);
    state.terminals = ptys;
    state.sessions = ses.sessions;
    renderLists();
  } catch (err) {
    reportError(err);
  }
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let listTimer;
/** Reloads the lists shortly: a burst of events costs one reload. */
export function refreshListsSoon() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => void refreshLists(), 100);
}

export function clearLists() {
  clearTimeout(listTimer);
  state.terminals = [];
  state.sessions = [];
  $('terminal-list').replaceChildren();
  $('session-list').replaceChildren();
}

/** A terminal's name as its screen's title shows it. */
export function terminalTitle(/** @type {string} */ id) {
  const t = state.terminals.find((x) => x.id === id);
  return t ? `${t.title || t.command}` : 'Terminal';
}

/**
 * One sidebar list: a link per item, with a remove button for a token that may remove it, or an
 * "empty" line.
 * @template {{ id: string }} T
 * @param {string} listId
 * @param {T[]} items
 * @param {string} emptyText
 * @param {string} route
 * @param {(item: T) => { dot: string, label: string, meta: string, exited?: boolean, remove: { label: string, confirm: string | null, path: string } }} describe
 */
function renderList(listId, items, emptyText, route, describe) {
  const cur = state.current;
  replaceKeepingFocus(
    $(listId),
    items.length === 0
      ? [h('li', { className: 'empty' }, emptyText)]
      : items.map((x) => {
          const { dot, label, meta, exited, remove } = describe(x);
          return h(
            'li',
            { className: exited ? 'exited' : '' },
            h(
              'a',
              {
                href: `#/${route}/${encodeURIComponent(x.id)}`,
                className: cur && cur.name === route && cur.arg === x.id ? 'active' : '',
                dataset: { id: x.id },
                title: label,
              },
              h('span', { className: `dot ${dot}` }),
              h('span', { className: 'label' }, label),
              h('span', { className: 'meta' }, meta),
            ),
            state.can.write
              ? h(
                  'button',
                  { type: 'button', className: 'remove', 'aria-label': remove.label, title: remove.label, onclick: () => void removeItem(remove) },
                  '×',
                )
              : null,
          );
        }),
  );
}

/** Removes a terminal or session from the list (DELETE: ends a running terminal, deletes a session). */
async function removeItem(/** @type {{ confirm: string | null, path: string }} */ r) {
  if (r.confirm && !confirm(r.confirm)) return;
  try {
    await api('DELETE', r.path);
    const cur = state.current;
    // Removing what is on show leaves nothing to show (a hash change: the router mounts home).
    if (cur && `/${cur.name === 'terminal' ? 'pty' : cur.name}/${encodeURIComponent(cur.arg ?? '')}` === r.path) location.replace('#/');
    refreshListsSoon();
  } catch (err) {
    reportError(err);
  }
}

export function renderLists() {
  // Exited terminals stay listed (greyed) for 10 minutes after they exit, then the server drops them.
  renderList('terminal-list', state.terminals, 'No terminals yet', 'terminal', (t) => {
    const label = t.title || t.command;
    const running = t.status === 'running';
    return {
      dot: running ? 'ok' : 'off',
      label,
      meta: running ? ago(t.createdAt) : t.exitCode !== null ? `exited ${t.exitCode}` : `exited, signal ${t.signal}`,
      exited: !running,
      remove: running
        ? { label: `End terminal ${label}`, confirm: `End the terminal "${label}" and every program running in it?`, path: `/pty/${encodeURIComponent(t.id)}` }
        : { label: `Remove exited terminal ${label}`, confirm: null, path: `/pty/${encodeURIComponent(t.id)}` },
    };
  });
  renderList('session-list', state.sessions, 'No sessions yet', 'session', (s) => ({
    dot: s.busy ? 'busy' : 'idle',
    label: s.title,
    meta: ago(s.updatedAt),
    remove: {
      label: `Delete session ${s.title}`,
      confirm: `Delete the session "${s.title}" and all its messages?`,
      path: `/session/${encodeURIComponent(s.id)}`,
    },
  }));
  const cur = state.current;
  if (cur && cur.name === 'terminal' && cur.arg && state.terminals.some((t) => t.id === cur.arg)) $('term-title').textContent = terminalTitle(cur.arg);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a instanceof HTMLElement) a.classList.toggle('active', Boolean(cur && cur.name === a.dataset.nav));
  }
}
