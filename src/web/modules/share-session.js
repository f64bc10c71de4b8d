// @ts-check
// The share page's agent session: its messages (GET /session/:id/message), then live changes from
// GET /event, which brings a share token only its own session's events. Streamed text is applied as
// it arrives; parts whose output the event stream leaves out (shell and run_command results) and
// finished messages are read again from the messages route.
import { h } from './dom.js';
import { applyRunEvent, messageView } from './messages.js';
import { shareJson } from './share-api.js';

const EMPTY = 'No messages yet. They appear here as the session works.';

export class SessionViewer {
  /**
   * @param {HTMLElement} list
   * @param {string} token
   * @param {string} id
   * @param {(text: string) => void} onTitle
   */
  constructor(list, token, id, onTitle) {
    this.list = list;
    this.token = token;
    this.path = `/session/${encodeURIComponent(id)}`;
    this.onTitle = onTitle;
    /** @type {Map<string, Message>} */
    this.messages = new Map();
    this.alive = true;
    this.renderPending = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.reloadTimer = undefined;
  }

  /** Reads the messages again (after a change the events do not carry in full). */
  async load() {
    /** @type {{ messages: Message[] }} */
    const body = await shareJson(this.token, `${this.path}/message`);
    if (!this.alive) return;
    this.messages.clear();
    for (const m of body.messages) this.messages.set(m.id, m);
    this.render();
  }

  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.load().catch(() => {}), 150);
  }

  /** One event about this session from GET /event. */
  onEvent(/** @type {string} */ type, /** @type {EventProps} */ p) {
    if (type === 'session.updated' && p.session) this.onTitle(String(p.session.title || 'Session'));
    if (!type.startsWith('message.')) return;
    applyRunEvent(this.messages, type, p);
    this.render();
    const omitted = p.part && p.part.data && (p.part.data.outputOmitted || (p.part.data.output && p.part.data.output.outputOmitted));
    if (type === 'message.completed' || omitted) this.reloadSoon();
  }

  render() {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      if (!this.alive) return;
      const el = this.list;
      const nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      const all = [...this.messages.values()].sort((a, b) => a.seq - b.seq);
      el.replaceChildren(...(all.length === 0 ? [h('p', { className: 'muted empty-msgs' }, EMPTY)] : all.map(messageView)));
      if (nearBottom) el.scrollTop = el.scrollHeight;
    });
  }

  dispose() {
    this.alive = false;
    clearTimeout(this.reloadTimer);
  }
}
