// @ts-check
// The share page's terminal: xterm.js with stdin disabled at the terminal's own size, fed by a
// view-only WebSocket (README "WebSocket protocol"). The page never sends a frame on it: no
// keystroke, no resize (and the server ignores any that a modified page might send).
import { Terminal } from '../vendor/xterm.mjs';
import { viewSocketUrl } from './share-api.js';
import { TERMINAL_OPTIONS } from './term-theme.js';

/**
 * @typedef {object} ViewerHooks
 * @property {(text: string) => void} live          connected and watching
 * @property {(text: string) => void} targetEnded   the terminal ended or is gone
 * @property {(reason: string) => void} tokenGone  `token revoked` / `token expired`
 * @property {(text: string, retry: () => void) => void} offline  dropped for another reason
 */

export class TerminalViewer {
  /**
   * @param {HTMLElement} container
   * @param {string} token
   * @param {{ id: string, cols: number, rows: number }} info
   * @param {ViewerHooks} hooks
   */
  constructor(container, token, info, hooks) {
    this.token = token;
    this.id = info.id;
    this.hooks = hooks;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.exited = false;
    this.term = new Terminal({ ...TERMINAL_OPTIONS, disableStdin: true, cursorBlink: false, cols: info.cols, rows: info.rows });
    container.replaceChildren();
    this.term.open(container);
  }

  /** Follows the terminal's size (its owner's window), from `pty.updated` events. */
  resize(/** @type {number} */ cols, /** @type {number} */ rows) {
    if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
  }

  connect() {
    // The token rides in the subprotocol offer; the server selects and echoes only `tether`.
    const ws = new WebSocket(viewSocketUrl(this.id), ['tether', `tether.auth.${this.token}`]);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    // A reconnect replays the scrollback: start from a clean screen.
    this.term.reset();
    ws.onopen = () => this.hooks.live('watching live');
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return this.term.write(new Uint8Array(ev.data));
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg && msg.type === 'exit') {
        this.exited = true;
        const how = typeof msg.signal === 'number' ? `was killed by signal ${msg.signal}` : `exited with code ${msg.exitCode}`;
        this.term.write(`\r\n\x1b[2m[process ${how}]\x1b[0m\r\n`);
        this.hooks.targetEnded(`The terminal has ended: its program ${how}.`);
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (ev.code === 4401) this.hooks.tokenGone(ev.reason || 'token revoked');
      else if (ev.code === 4404) this.hooks.targetEnded('This terminal no longer exists.');
      else if (ev.code === 1000) {
        if (!this.exited) this.hooks.targetEnded('The terminal has ended.');
      } else if (ev.code === 1001) this.hooks.offline('The server is shutting down.', () => this.connect());
      else this.hooks.offline(`Disconnected${ev.reason ? `: ${ev.reason}` : ''}.`, () => this.connect());
    };
  }

  dispose() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, 'viewer closed');
  }
}
