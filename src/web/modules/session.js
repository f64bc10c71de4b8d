// @ts-check
// The session screen (#/session/<id>): its messages, and the composer that sends a message to the
// agent or a shell command. A run this page starts is read from its own event stream (sse.js);
// changes made elsewhere (another tab, the CLI) arrive on GET /event and reload the messages.
import { ApiError, api, apiStream, endSession, sessionEndedMessage } from './api.js';
import { $, $as, h, show } from './dom.js';
import { refreshListsSoon } from './lists.js';
import { applyRunEvent, messageView } from './messages.js';
import { navigate } from './router.js';
import { readJsonEvents } from './sse.js';
import { state } from './state.js';
import { wireShare } from './share-dialog.js';
import { reportError, showBanner } from './status.js';

const EMPTY = 'No messages yet. Ask the agent something, or switch to Shell and run a command.';

/** Sessions this page created and nothing was sent to yet: removed when left empty (see below). */
const createdHere = new Set();

/**
 * The no-model refusal as a compact notice in place of the messages: the server's first line (what
 * is missing), then where to fix it. Nothing was recorded, and shell commands still work.
 */
function noModelNotice(/** @type {string} */ message) {
  return h(
    'div',
    { className: 'notice', role: 'status', id: 'no-model' },
    h('strong', {}, message.split('\n', 1)[0]),
    h('span', {}, 'Set it on the ', h('a', { href: '#/config' }, 'Settings page'), ' (a server setting). Shell commands work without a model.'),
  );
}

/** Whether the composer sends a shell command (else a message to the agent). */
function shellMode() {
  const checked = document.querySelector('input[name="mode"]:checked');
  return checked instanceof HTMLInputElement && checked.value === 'shell';
}

/** @returns {Mounted} */
export function mountSession(/** @type {string | null} */ arg) {
  const id = /** @type {string} */ (arg); // the router mounts this screen only with an id
  const path = `/session/${encodeURIComponent(id)}`;
  const messagesEl = $('messages');
  messagesEl.replaceChildren(h('p', { className: 'muted' }, 'Loading…'));
  $('ses-title').textContent = 'Session';
  $('ses-dir').textContent = '';
  $('ses-status').textContent = '';
  const composer = $as('composer', HTMLFormElement);
  const input = $as('composer-input', HTMLTextAreaElement);
  const send = $as('composer-send', HTMLButtonElement);
  const abortBtn = $as('ses-abort', HTMLButtonElement);
  const deleteBtn = $as('ses-delete', HTMLButtonElement);
  /** @type {Map<string, Message>} */
  const messages = new Map();
  let alive = true;
  /** The AbortController of this page's own run, while it streams. @type {AbortController | null} */
  let streaming = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let reloadTimer;
  let renderPending = false;
  /** The no-model notice, shown until something is sent. @type {HTMLElement | null} */
  let notice = null;

  const render = () => {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => {
      renderPending = false;
      if (!alive) return;
      const nearBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 80;
      const list = [...messages.values()].sort((a, b) => a.seq - b.seq);
      const empty = notice ?? h('p', { className: 'muted empty-msgs' }, EMPTY);
      messagesEl.replaceChildren(...(list.length === 0 ? [empty] : list.map(messageView)));
      if (nearBottom || streaming) messagesEl.scrollTop = messagesEl.scrollHeight;
    });
  };

  const setBusy = (/** @type {boolean} */ busy) => {
    send.disabled = busy || !state.can.write;
    send.textContent = busy ? 'Running…' : 'Send';
    show(abortBtn, busy && state.can.write);
    $('ses-status').className = `status ${busy ? 'pending' : 'ok'}`;
    $('ses-status').textContent = busy ? 'running' : '';
  };

  const load = async () => {
    try {
      /** @type {[SessionInfo, { messages: Message[] }]} */
      const [info, list] = await Promise.all([api('GET', path), api('GET', `${path}/message`)]);
      if (!alive) return;
      $('ses-title').textContent = info.title;
      $('ses-dir').textContent = info.directory;
      if (!streaming) {
        messages.clear();
        for (const m of list.messages) messages.set(m.id, m);
        setBusy(info.busy);
      }
      render();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        messagesEl.replaceChildren(h('p', { className: 'muted' }, 'This session no longer exists.'));
        send.disabled = true;
        return;
      }
      reportError(err);
    }
  };

  /** Sends the composer's text and shows the run as it streams. */
  const submit = async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    const text = input.value;
    if (!text.trim() || streaming || !state.can.write) return;
    const shell = shellMode();
    const ctrl = new AbortController();
    streaming = ctrl;
    setBusy(true);
    showBanner(null);
    notice = null;
    const wasNew = createdHere.delete(id);
    try {
      const res = await apiStream('POST', `${path}/${shell ? 'shell' : 'message'}`, shell ? { command: text } : { text }, ctrl.signal);
      input.value = '';
      /** @type {{ code: string, message: string } | null} */
      let failure = null;
      await readJsonEvents(res, (type, data) => {
        if (type === 'error') failure = data.properties && data.properties.error;
        else {
          applyRunEvent(messages, type, data.properties || {});
          render();
        }
      });
      if (failure) {
        const f = /** @type {{ code: string, message: string }} */ (failure);
        if (f.code === 'token_revoked' || f.code === 'token_expired') endSession(sessionEndedMessage({ code: f.code.replace('_', ' '), message: f.message }));
        else showBanner(f.message, 'error');
      }
    } catch (err) {
      // A refusal comes before anything is recorded: a new session is as empty as it was.
      if (wasNew && err instanceof ApiError) createdHere.add(id);
      if (err instanceof ApiError && err.code === 'no_provider') {
        notice = noModelNotice(err.message);
        render();
      } else reportError(err);
    } finally {
      if (streaming === ctrl) streaming = null;
      if (alive) {
        setBusy(false);
        void load();
        refreshListsSoon();
        input.focus();
      }
    }
  };

  composer.onsubmit = submit;
  input.onkeydown = (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      composer.requestSubmit();
    }
  };
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    if (!(r instanceof HTMLInputElement)) continue;
    r.onchange = () => {
      const shell = shellMode();
      input.placeholder = shell ? 'A shell command, e.g. ls -la' : 'Ask the agent…';
      input.classList.toggle('mono', shell);
      input.focus();
    };
  }
  input.disabled = !state.can.write;
  input.placeholder = state.can.write ? input.placeholder : 'This token has no write permission';
  send.disabled = !state.can.write;
  abortBtn.onclick = async () => {
    try {
      await api('POST', `${path}/abort`);
    } catch (err) {
      reportError(err);
    }
  };
  deleteBtn.disabled = !state.can.write;
  deleteBtn.onclick = async () => {
    if (!confirm('Delete this session and all its messages?')) return;
    try {
      await api('DELETE', path);
      navigate('#/', { replace: true });
      refreshListsSoon();
    } catch (err) {
      reportError(err);
    }
  };
  wireShare('ses-share', 'session', id);
  void load();
  setTimeout(() => alive && input.focus(), 0);
  // A session made by "New session" and left without a message is removed, not left in the list.
  const dropIfEmpty = (/** @type {boolean} */ leaving) => {
    if (!createdHere.has(id) || messages.size > 0 || streaming) return;
    createdHere.delete(id);
    void api('DELETE', path, undefined, { keepalive: leaving })
      .then(() => refreshListsSoon())
      .catch(() => {});
  };
  const onPageHide = () => dropIfEmpty(true);
  window.addEventListener('pagehide', onPageHide);

  return {
    dispose() {
      window.removeEventListener('pagehide', onPageHide);
      dropIfEmpty(false);
      alive = false;
      clearTimeout(reloadTimer);
      if (streaming) streaming.abort();
      streaming = null;
      composer.onsubmit = null;
      input.onkeydown = null;
      input.value = '';
    },
    onEvent(type, p) {
      // Someone else (another tab, the CLI) working in this session: reload when it changes.
      if (streaming || p.sessionId !== id) return;
      if (type === 'session.deleted') return void load();
      if (type.startsWith('message.') || type === 'session.updated') {
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => void load(), 150);
      }
    },
  };
}

export async function newSession() {
  if (!state.can.write) return;
  try {
    /** @type {SessionInfo} */
    const s = await api('POST', '/session', {});
    createdHere.add(s.id);
    state.sessions = [s, ...state.sessions.filter((x) => x.id !== s.id)];
    navigate(`#/session/${encodeURIComponent(s.id)}`);
  } catch (err) {
    reportError(err);
  }
}
