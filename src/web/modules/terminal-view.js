// @ts-check
// An xterm.js terminal attached over the WebSocket to one server terminal (README "WebSocket
// protocol"). Same origin: the browser sends the cookie and the page's Origin; the session key
// rides in a subprotocol offer (a WebSocket cannot carry headers); the server selects only `tether`.
// xterm writes its CSS through <style> elements and style attributes: csp-styles.js, loaded first
// by app.js, makes those work under the page's strict CSP.
import { Terminal } from '../vendor/xterm.mjs';
import { FitAddon } from '../vendor/addon-fit.mjs';
import { currentKey, endSession, sessionEndedMessage } from './api.js';
import { $, h } from './dom.js';
import { checkSession } from './events.js';
import { refreshListsSoon } from './lists.js';
import { showBanner } from './status.js';
import { TERMINAL_OPTIONS } from './term-theme.js';

const encoder = new TextEncoder();

/** The terminal screen's status line, with a Reconnect button when `retry` is given. */
export function setTermStatus(/** @type {string} */ text, /** @type {string} */ kind, /** @type {(() => void) | undefined} */ retry = undefined) {
  const s = $('term-status');
  s.className = `status ${kind}`;
  s.replaceChildren(text);
  if (retry) s.append(' ', h('button', { type: 'button', className: 'link', onclick: retry }, 'Reconnect'));
}

export class TerminalView {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.container = container;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.disposed = false;
    this.term = new Terminal({ ...TERMINAL_OPTIONS, cursorBlink: true });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    container.replaceChildren();
    this.term.open(container);
    this.refit();
    let pending = false;
    this.observer = new ResizeObserver(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        this.refit();
      });
    });
    this.observer.observe(container);
    this.term.onResize(({ cols, rows }) => this.sendControl({ type: 'resize', cols, rows }));
    this.term.onData((data) => this.sendBytes(encoder.encode(data)));
    this.term.onBinary((data) => this.sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
    // Tab and Shift+Tab belong to the shell, so F6 is the keyboard's way out of the terminal (to
    // its toolbar); the page says so under the terminal.
    this.term.attachCustomKeyEventHandler((ev) => {
      if (ev.key !== 'F6' || ev.ctrlKey || ev.altKey || ev.metaKey) return true;
      if (ev.type === 'keydown') {
        ev.preventDefault();
        const kill = $('term-kill');
        if (kill instanceof HTMLButtonElement && !kill.disabled) kill.focus();
        else $('term-title').focus();
      }
      return false;
    });
  }

  refit() {
    if (this.disposed || this.container.clientWidth === 0 || this.container.clientHeight === 0) return;
    try {
      this.fit.fit();
    } catch {
      // not laid out yet
    }
  }

  size() {
    return { cols: this.term.cols, rows: this.term.rows };
  }

  /** Attaches to the server terminal `id`; reconnecting is offered when the connection drops. */
  connect(/** @type {string} */ id) {
    setTermStatus('connecting…', 'pending');
    const url = new URL(`/pty/${encodeURIComponent(id)}/connect`, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const key = currentKey();
    const ws = new WebSocket(url, key ? ['tether', `tether.session.${key}`] : ['tether']);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      setTermStatus('connected', 'ok');
      this.sendControl({ type: 'resize', ...this.size() });
      this.term.focus();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.onControl(ev.data);
      else this.term.write(new Uint8Array(ev.data));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || this.disposed) return;
      this.ws = null;
      if (ev.code === 4401) {
        endSession(sessionEndedMessage({ code: ev.reason || 'token revoked', message: ev.reason }));
      } else if (ev.code === 1000) {
        refreshListsSoon();
      } else if (ev.code === 4404) {
        setTermStatus('this terminal no longer exists', 'off');
      } else if (ev.code === 1001) {
        setTermStatus('the server is shutting down', 'off');
      } else {
        setTermStatus(opened ? `disconnected${ev.reason ? `: ${ev.reason}` : ''}` : 'could not connect', 'off', () => this.connect(id));
        // A refused handshake carries no status to the page: ask whether the session still works.
        void checkSession();
      }
    };
  }

  /** A text frame: `{"type":"exit",...}` or `{"type":"error","message"}`. */
  onControl(/** @type {string} */ text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'exit') {
      const how = msg.signal !== null && msg.signal !== undefined ? `killed by signal ${msg.signal}` : `exited with code ${msg.exitCode}`;
      this.term.write(`\r\n\x1b[2m[process ${how}]\x1b[0m\r\n`);
      setTermStatus(how, 'off');
    } else if (msg.type === 'error') {
      showBanner(`Terminal: ${msg.message}`, 'error');
    }
  }

  sendBytes(/** @type {Uint8Array} */ bytes) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  sendControl(/** @type {object} */ msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  dispose() {
    this.disposed = true;
    this.observer.disconnect();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, 'view closed');
    }
    this.term.dispose();
    this.container.replaceChildren();
  }
}
