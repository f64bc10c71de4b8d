// @ts-check
// The terminal screen (#/terminal/<id>) and "New terminal".
import { api } from './api.js';
import { $, $as, show } from './dom.js';
import { refreshListsSoon, renderLists, terminalTitle } from './lists.js';
import { disposeCurrent, navigate, showScreen } from './router.js';
import { state } from './state.js';
import { wireShare } from './share-dialog.js';
import { reportError, showBanner } from './status.js';
import { TerminalView, setTermStatus } from './terminal-view.js';

/** The "End terminal" button, for terminal `id`. */
function wireKill(/** @type {string} */ id, /** @type {boolean} */ enabled) {
  const kill = $as('term-kill', HTMLButtonElement);
  kill.disabled = !enabled;
  kill.onclick = async () => {
    try {
      await api('DELETE', `/pty/${encodeURIComponent(id)}`);
      navigate('#/', { replace: true });
      refreshListsSoon();
    } catch (err) {
      reportError(err);
    }
  };
}

/** @returns {Mounted} */
export function mountTerminal(/** @type {string | null} */ arg) {
  const id = /** @type {string} */ (arg); // the router mounts this screen only with an id
  $('term-title').textContent = terminalTitle(id);
  $('term-title').title = id;
  const view = new TerminalView($('term'));
  view.connect(id);
  wireKill(id, state.can.write);
  wireShare('term-share', 'pty', id);
  return {
    dispose: () => view.dispose(),
    onEvent(type, p) {
      if (type === 'pty.updated' && p.info && p.info.id === id) $('term-title').textContent = p.info.title || p.info.command;
    },
  };
}

/** Opens the terminal view first (so its size is known), then creates the terminal at that size. */
export async function newTerminal() {
  if (!state.can.write) return;
  disposeCurrent();
  showScreen('terminal');
  showBanner(null);
  $('term-title').textContent = 'New terminal';
  show($('term-share'), false);
  const view = new TerminalView($('term'));
  /** @type {CurrentView} */
  const current = { name: 'terminal', arg: null, dispose: () => view.dispose() };
  state.current = current;
  setTermStatus('starting…', 'pending');
  try {
    /** @type {TerminalInfo} */
    const info = await api('POST', '/pty', view.size());
    if (state.current !== current) return;
    state.terminals = [...state.terminals.filter((t) => t.id !== info.id), info];
    history.pushState(null, '', `#/terminal/${encodeURIComponent(info.id)}`);
    current.arg = info.id;
    $('term-title').textContent = info.title || info.command;
    $('term-title').title = info.id;
    wireKill(info.id, true);
    wireShare('term-share', 'pty', info.id);
    view.connect(info.id);
    renderLists();
  } catch (err) {
    setTermStatus('could not start a terminal', 'off');
    reportError(err);
  }
}
