// @ts-check
// Other tabs of this origin. Tabs share the login cookie, so a login in one ends the session of
// the others: before logging in, the page asks them (a BroadcastChannel; only token names travel,
// nothing is stored) and, after a login, tells them it replaced their cookie.

/**
 * @typedef {object} Tabs
 * @property {boolean} loginCookieAtStart whether this browser sent a login cookie when the page
 *   started without a session of its own (see login.js)
 * @property {(msg: { type: 'replaced', name: string }) => void} post
 * @property {(ms?: number) => Promise<{ name: string } | null>} findLoggedIn the name another tab
 *   is logged in as, or null when no tab answers within `ms`
 */

/**
 * @param {{ loggedInAs: () => string | null, onReplaced: (name: string) => void }} hooks
 *   `loggedInAs`: this tab's token name, or null when it is not logged in; `onReplaced`: a login in
 *   another tab (as `name`) replaced this tab's cookie
 * @returns {Tabs}
 */
export function createTabs({ loggedInAs, onReplaced }) {
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('tether.tabs') : null;
  if (channel) {
    channel.addEventListener('message', (ev) => {
      const m = ev.data || {};
      const me = loggedInAs();
      if (m.type === 'probe' && me !== null) channel.postMessage({ type: 'here', nonce: m.nonce, name: me });
      if (m.type === 'replaced' && me !== null) onReplaced(m.name ? String(m.name) : '');
    });
  }
  return {
    loginCookieAtStart: false,
    post(msg) {
      if (channel) channel.postMessage(msg);
    },
    findLoggedIn(ms = 250) {
      if (!channel) return Promise.resolve(null);
      const nonce = Math.random().toString(36).slice(2) + Date.now().toString(36);
      return new Promise((resolve) => {
        /** @param {{ name: string } | null} v */
        const done = (v) => {
          clearTimeout(timer);
          channel.removeEventListener('message', onMessage);
          resolve(v);
        };
        /** @param {MessageEvent} ev */
        const onMessage = (ev) => {
          const m = ev.data || {};
          if (m.type === 'here' && m.nonce === nonce) done({ name: String(m.name || 'another token') });
        };
        const timer = setTimeout(() => done(null), ms);
        channel.addEventListener('message', onMessage);
        channel.postMessage({ type: 'probe', nonce });
      });
    },
  };
}
