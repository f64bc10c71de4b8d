// @ts-check
// The OAuth consent screen (#/consent/<request id>): tether's authorization endpoint sends the
// browser here. It shows who asks (the client's self-chosen name: untrusted, shown as text only,
// and the host its redirect goes to, which is what identifies it), the permissions asked for, lets
// the user narrow them and choose a directory to confine the grant to, then approves or denies.
// The server decides what this login may grant (src/auth/policy.ts approvalRefusal); this page only
// offers what the login holds. Nothing here opens the redirect URI except the browser's own
// navigation after the decision, to the URI the client registered (checked by the server).
import { ApiError, api } from './api.js';
import { $, $as, h, show } from './dom.js';

const PERMISSION_TEXT = /** @type {const} */ ({
  read: 'read: list, read and search the project files',
  write: 'write: create, change and delete project files',
  execute: 'execute: run commands and the agent in the project',
});

/** @returns {Mounted} */
export function mountConsent(/** @type {string | null} */ id) {
  let alive = true;
  const status = $('consent-status');
  const form = $as('consent-form', HTMLFormElement);
  const setStatus = (/** @type {string} */ text, kind = 'info') => {
    status.textContent = text;
    status.className = `consent-status ${kind}`;
    show(status, Boolean(text));
  };
  show(form, false);
  setStatus('Loading the request…');

  const load = async () => {
    if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) return setStatus('This is not a valid authorization request link.', 'error');
    /** @type {any} */
    let req;
    try {
      req = await api('GET', `/oauth/request/${encodeURIComponent(id)}`);
    } catch (err) {
      if (alive) setStatus(err instanceof ApiError ? err.message : String(err), 'error');
      return;
    }
    if (!alive) return;
    document.title = 'tether · authorize an application';
    $('consent-client').textContent = String(req.client.name);
    $('consent-host').textContent = String(req.redirectHost);
    $('consent-approver').textContent = String(req.approver.name);
    const held = /** @type {string[]} */ (req.approver.permissions);
    const list = $('consent-permissions');
    list.replaceChildren(
      .../** @type {('read' | 'write' | 'execute')[]} */ (req.permissions).map((p) => {
        const can = held.includes(p);
        return h(
          'li',
          {},
          h('label', {}, h('input', { type: 'checkbox', name: 'permission', value: p, checked: can, disabled: !can }), ' ', PERMISSION_TEXT[p] ?? p),
          can ? null : h('span', { className: 'muted small' }, ' (your login does not hold it, so it cannot be granted)'),
        );
      }),
    );
    const scopeInput = $as('consent-scope', HTMLInputElement);
    scopeInput.value = '';
    const scoped = /** @type {string[] | null} */ (req.approver.scopes);
    $('consent-scope-hint').textContent = scoped
      ? `Your login is confined to ${scoped.join(', ')}: choose a directory inside it.`
      : `Optional: a directory of the project (${req.project}) to confine the application to. Empty: the whole project.`;
    setStatus('');
    show(form);
    $('consent-approve').focus();
  };

  const decide = async (/** @type {boolean} */ approve) => {
    const perms = [...form.querySelectorAll('input[name=permission]')]
      .filter((el) => el instanceof HTMLInputElement && el.checked && !el.disabled)
      .map((el) => /** @type {HTMLInputElement} */ (el).value);
    if (approve && perms.length === 0) return setStatus('Choose at least one permission, or deny.', 'error');
    const scope = $as('consent-scope', HTMLInputElement).value.trim();
    for (const b of form.querySelectorAll('button')) /** @type {HTMLButtonElement} */ (b).disabled = true;
    try {
      const r = await api(
        'POST',
        `/oauth/request/${encodeURIComponent(/** @type {string} */ (id))}`,
        approve ? { approve, permissions: perms, scope: scope || null } : { approve },
      );
      setStatus(approve ? 'Approved. Returning to the application…' : 'Denied. Returning to the application…');
      // Leaving for the client's registered redirect URI: a navigation, not a fetch.
      location.assign(String(r.redirect));
    } catch (err) {
      setStatus(err instanceof ApiError ? err.message : String(err), 'error');
      for (const b of form.querySelectorAll('button')) /** @type {HTMLButtonElement} */ (b).disabled = false;
    }
  };

  form.onsubmit = (ev) => {
    ev.preventDefault();
    void decide(true);
  };
  $('consent-deny').onclick = () => void decide(false);
  void load();
  return {
    dispose() {
      alive = false;
      form.onsubmit = null;
    },
  };
}
