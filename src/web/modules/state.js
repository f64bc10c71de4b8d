// @ts-check
// What the page knows, shared by the modules: who is logged in, what the token may do, the
// sidebar's lists and the screen on show.

export const state = {
  /** The logged-in token (GET /auth/whoami), or null on the login page. @type {Me | null} */
  me: null,
  /** @type {Can} */
  can: { read: false, write: false, execute: false },
  /** @type {TerminalInfo[]} */
  terminals: [],
  /** @type {SessionInfo[]} */
  sessions: [],
  /** The mounted screen. @type {CurrentView | null} */
  current: null,
  /** Set while the session is being ended, so that the end is shown once. */
  ending: false,
};

/** Whether this token may see terminals and sessions (listing them needs read too). */
export const canRun = () => state.can.execute && state.can.read;
