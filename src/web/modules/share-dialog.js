// @ts-check
// The Share button of the terminal and session screens: asks the server for a view-only link
// (POST /pty/:id/share or /session/:id/share, which need read + write + execute) and shows it once.
// The link carries its token in the fragment; the dialog forgets it when it closes.
import { ApiError, api } from './api.js';
import { $, $as, show } from './dom.js';
import { canRun, state } from './state.js';
import { reportError } from './status.js';

const NOUN = { pty: 'terminal', session: 'session' };

/** Whether this token may make share links (the server decides; this only hides a useless button). */
const canShare = () => canRun() && state.can.write;

/** Shows the Share button `buttonId` for one terminal or session, or hides it. */
export function wireShare(/** @type {string} */ buttonId, /** @type {'pty' | 'session'} */ type, /** @type {string} */ id) {
  const b = $as(buttonId, HTMLButtonElement);
  show(b, canShare());
  b.onclick = () => openShareDialog(type, id);
}

export function openShareDialog(/** @type {'pty' | 'session'} */ type, /** @type {string} */ id) {
  const dialog = $as('share-dialog', HTMLDialogElement);
  const create = $as('share-create', HTMLButtonElement);
  const url = $as('share-url', HTMLInputElement);
  const error = $('share-error');
  const noun = NOUN[type];
  $('share-what').textContent =
    `Whoever opens the link can watch this ${noun} live, read only, until the link expires, and reach nothing else on this server. ` +
    'Anyone you pass it on to can do the same.';
  show($('share-choose'));
  show($('share-result'), false);
  show(error, false);
  url.value = '';
  create.disabled = false;
  create.onclick = async () => {
    create.disabled = true;
    show(error, false);
    try {
      /** @type {{ id: string, url: string, expiresAt: string }} */
      const link = await api('POST', `/${type}/${encodeURIComponent(id)}/share`, { expires: $as('share-expires', HTMLSelectElement).value });
      url.value = link.url;
      $('share-note').textContent =
        `Shown only once: copy it now. It expires ${new Date(link.expiresAt).toLocaleString()}. ` +
        `Revoke it sooner with: tether auth token delete ${link.id}`;
      show($('share-choose'), false);
      show($('share-result'));
      url.focus();
      url.select();
    } catch (err) {
      create.disabled = false;
      if (err instanceof ApiError) {
        error.textContent = `Could not create a link: ${err.message}`;
        show(error);
      } else reportError(err);
    }
  };
  $as('share-copy', HTMLButtonElement).onclick = () => {
    url.select();
    void navigator.clipboard?.writeText(url.value).catch(() => {});
  };
  // The link is a secret: gone from the page once the dialog closes (Close, Escape).
  const forget = () => {
    url.value = '';
    $('share-note').textContent = '';
  };
  $as('share-close', HTMLButtonElement).onclick = () => {
    forget();
    dialog.close();
  };
  dialog.onclose = forget;
  dialog.showModal();
}
