// @ts-check
// The settings screen (#/config): GET /config, read-only; reloaded on `config.updated`.
import { api } from './api.js';
import { $, h } from './dom.js';
import { reportError } from './status.js';

/** @returns {Mounted} */
export function mountSettings() {
  const dl = $('config');
  dl.replaceChildren(h('dt', {}, 'Loading…'));
  let alive = true;
  const load = async () => {
    try {
      /** @type {Settings} */
      const c = await api('GET', '/config');
      if (!alive) return;
      const rows = [
        ['Shell', c.shell ?? 'default ($SHELL)'],
        ['Model URL', c.modelUrl ?? 'not set'],
        ['Model', c.model ?? 'not set'],
        ['API key', c.apiKeySet ? 'set (hidden)' : 'not set'],
        ['Agent max steps', c.agentMaxSteps ?? 'default'],
      ];
      dl.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
    } catch (err) {
      reportError(err);
    }
  };
  void load();
  return {
    dispose() {
      alive = false;
    },
    onEvent(type) {
      if (type === 'config.updated') void load();
    },
  };
}
