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
 * One sidebar list: a link per item, or an "empty" line.
 * @template {{ id: string }} T
 * @param {string} listId
 * @param {T[]} items
 * @param {string} emptyText
 * @param {string} route
 * @param {(item: T) => { dot: string, label: string, meta: string }} describe
 */
function renderList(listId, items, emptyText, route, describe) {
  const cur = state.current;
  replaceKeepingFocus(
    $(listId),
    items.length === 0
      ? [h('li', { className: 'empty' }, emptyText)]
      : items.map((x) => {
          const { dot, label, meta } = describe(x);
          return h(
            'li',
            {},
            h(
              'a',
              {
                href: `#/${route}/${encodeURIComponent(x.id)}`,
                className: cur && cur.name === route && cur.arg === x.id ? 'active' : '',
                dataset: { id: x.id },
              },
              h('span', { className: `dot ${dot}` }),
              h('span', { className: 'label' }, label),
              h('span', { className: 'meta' }, meta),
            ),
          );
        }),
  );
}

export function renderLists() {
  renderList('terminal-list', state.terminals, 'No terminals yet', 'terminal', (t) => ({
    dot: t.status === 'running' ? 'ok' : 'off',
    label: t.title || t.command,
    meta: t.status === 'running' ? ago(t.createdAt) : `exited ${t.exitCode ?? `sig ${t.signal}`}`,
  }));
  renderList('session-list', state.sessions, 'No sessions yet', 'session', (s) => ({
    dot: s.busy ? 'busy' : 'idle',
    label: s.title,
    meta: ago(s.updatedAt),
  }));
  const cur = state.current;
  if (cur && cur.name === 'terminal' && cur.arg && state.terminals.some((t) => t.id === cur.arg)) $('term-title').textContent = terminalTitle(cur.arg);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a instanceof HTMLElement) a.classList.toggle('active', Boolean(cur && cur.name === a.dataset.nav));
  }
}
