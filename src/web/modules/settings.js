// @ts-check
// The settings screen (#/config): every server setting with its value and its source (the server's
// environment, its config file, or the default; GET /config). A token that may change settings
// (write + execute, as PATCH /config needs) gets a form; others see the values and why they cannot
// change them. The API key is a password field that is never filled in: the server never sends it.
import { ApiError, api } from './api.js';
import { $, h } from './dom.js';
import { state } from './state.js';
import { reportError } from './status.js';

/** @typedef {'modelUrl' | 'model' | 'apiKey' | 'shell' | 'agentMaxSteps'} Key */

/** @type {{ key: Key, label: string, placeholder: string, hint: string }[]} */
const FIELDS = [
  { key: 'modelUrl', label: 'Model URL', placeholder: 'http://127.0.0.1:11434/v1', hint: 'An OpenAI-compatible base URL.' },
  { key: 'model', label: 'Model', placeholder: 'e.g. llama3.1', hint: 'The model name the server asks for.' },
  { key: 'apiKey', label: 'API key', placeholder: '', hint: 'Only if the model server needs one. Never shown.' },
  { key: 'shell', label: 'Shell', placeholder: '/bin/bash', hint: 'The program of new terminals: an absolute path.' },
  { key: 'agentMaxSteps', label: 'Agent max steps', placeholder: '20', hint: 'Model calls per message, 1 to 200.' },
];

export const canEditSettings = () => state.can.write && state.can.execute;

/** Where a value comes from, in words. */
export function sourceText(/** @type {SettingSource} */ s) {
  const base = s.source === 'env' ? `Set by ${s.env} in the server's environment` : s.source === 'file' ? 'Set in the config file' : 'Default';
  return s.note ? `${base}: ${s.note}` : base;
}

/** The value as the read-only view shows it. */
function shown(/** @type {Settings} */ c, /** @type {Key} */ key) {
  if (key === 'apiKey') return c.apiKeySet ? 'set (hidden)' : 'not set';
  const v = c[key];
  if (v === null || v === undefined) return key === 'shell' ? 'server default ($SHELL)' : 'not set';
  return String(v);
}

/** The input's initial text: the value, unless it is only the default (then the placeholder says it). */
function initial(/** @type {Settings} */ c, /** @type {Key} */ key) {
  if (key === 'apiKey' || c.sources[key].source === 'default') return '';
  const v = c[key];
  return v === null || v === undefined ? '' : String(v);
}

function readOnlyView(/** @type {Settings} */ c) {
  return h(
    'div',
    {},
    h(
      'dl',
      { className: 'config' },
      FIELDS.flatMap((f) => [h('dt', {}, f.label), h('dd', {}, shown(c, f.key), h('span', { className: 'setting-source' }, sourceText(c.sources[f.key])))]),
    ),
    h(
      'p',
      { className: 'muted small', id: 'config-readonly' },
      'This token can only read the settings: changing them needs write and execute, because they decide what runs and where prompts go.',
    ),
  );
}

/**
 * The form. Only what was changed is sent; an emptied field removes the setting from the config file
 * (back to the default). A setting the server's environment sets cannot be changed here.
 * @param {Settings} c
 * @param {string} note shown in the status line until something is typed
 * @param {(saved: Settings) => void} onSaved
 */
function editView(c, note, onSaved) {
  /** @type {Map<Key, HTMLInputElement>} */
  const inputs = new Map();
  const removeKey = h('input', { type: 'checkbox', id: 'set-apiKey-remove' });
  const status = h('p', { className: 'setting-status', id: 'config-status', role: 'status' }, note);
  const rows = FIELDS.map((f) => {
    const src = c.sources[f.key];
    const fromEnv = src.source === 'env';
    const input = h('input', {
      id: `set-${f.key}`,
      name: f.key,
      type: f.key === 'apiKey' ? 'password' : f.key === 'agentMaxSteps' ? 'number' : 'text',
      value: fromEnv ? shown(c, f.key) : initial(c, f.key),
      placeholder:
        f.key === 'apiKey' ? (c.apiKeySet ? 'set (hidden): type to replace' : 'not set') : f.key === 'agentMaxSteps' ? '20 (default)' : f.placeholder,
      autocomplete: f.key === 'apiKey' ? 'new-password' : 'off',
      spellcheck: false,
      disabled: fromEnv,
      'aria-describedby': `src-${f.key}`,
    });
    if (f.key === 'agentMaxSteps') Object.assign(input, { min: '1', max: '200', step: '1' });
    inputs.set(f.key, input);
    const extra =
      f.key === 'apiKey' && c.apiKeySet && src.source === 'file' ? h('label', { className: 'setting-check' }, removeKey, ' Remove the stored key') : null;
    return h(
      'div',
      { className: 'setting-row' },
      h('label', { htmlFor: input.id }, f.label),
      h(
        'div',
        { className: 'setting-field' },
        input,
        extra,
        h('p', { className: `setting-source ${src.overridden ? 'overridden' : ''}`, id: `src-${f.key}` }, `${sourceText(src)}. ${f.hint}`),
      ),
    );
  });

  const form = h(
    'form',
    { className: 'config-form', id: 'config-form', autocomplete: 'off' },
    ...rows,
    h('div', { className: 'setting-actions' }, h('button', { type: 'submit', className: 'primary', id: 'config-save' }, 'Save'), status),
    h(
      'p',
      { className: 'muted small' },
      "These are the server's settings. Its environment (TETHER_MODEL_URL, TETHER_MODEL, TETHER_MODEL_API_KEY) wins over the config file. " +
        'Changing the model URL removes a stored API key unless you enter one with it. Empty a field to go back to the default.',
    ),
  );

  /** What to send: only the fields that changed. @returns {Record<string, unknown>} */
  const patch = () => {
    /** @type {Record<string, unknown>} */
    const body = {};
    for (const f of FIELDS) {
      const input = /** @type {HTMLInputElement} */ (inputs.get(f.key));
      if (input.disabled) continue;
      const v = input.value.trim();
      if (f.key === 'apiKey') {
        if (v) body.apiKey = v;
        else if (removeKey.checked) body.apiKey = null;
        continue;
      }
      if (v === initial(c, f.key)) continue;
      body[f.key] = v === '' ? null : f.key === 'agentMaxSteps' ? Number(v) : v;
    }
    return body;
  };

  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const body = patch();
    if (Object.keys(body).length === 0) {
      status.className = 'setting-status';
      status.textContent = 'Nothing changed.';
      return;
    }
    status.className = 'setting-status';
    status.textContent = 'Saving…';
    try {
      /** @type {Settings} */
      const saved = await api('PATCH', '/config', body);
      onSaved(saved);
    } catch (err) {
      if (!(err instanceof ApiError)) return reportError(err);
      status.className = 'setting-status error';
      status.setAttribute('role', 'alert');
      status.textContent = err.status === 403 ? `Not saved: ${err.message}` : `Not saved: ${err.message.replace(/^body\./, '')}`;
    }
  };
  form.oninput = () => {
    status.textContent = '';
  };
  const dirty = () => Object.keys(patch()).length > 0;
  return { form, dirty };
}

/** @returns {Mounted} */
export function mountSettings() {
  const box = $('config');
  box.replaceChildren(h('p', { className: 'muted' }, 'Loading…'));
  let alive = true;
  /** @type {(() => boolean) | null} */
  let dirty = null;
  /** "Saved." survives the reload that our own change's event causes. */
  let note = '';
  const render = (/** @type {Settings} */ c) => {
    if (!alive) return;
    if (!canEditSettings()) {
      dirty = null;
      box.replaceChildren(readOnlyView(c));
      return;
    }
    const view = editView(c, note, (saved) => {
      note = 'Saved.';
      render(saved);
    });
    view.form.addEventListener('input', () => (note = ''));
    dirty = view.dirty;
    box.replaceChildren(view.form);
  };
  const load = async () => {
    try {
      render(await api('GET', '/config'));
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
      if (type !== 'config.updated') return;
      // Changed elsewhere: reload, unless that would throw away what is being typed here.
      if (dirty && dirty()) {
        const s = document.getElementById('config-status');
        if (s) s.textContent = 'The settings were changed elsewhere; save or reload the page to see them.';
        return;
      }
      void load();
    },
  };
}
