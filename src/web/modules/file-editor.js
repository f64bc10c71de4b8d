// @ts-check
// The Files view's editor for one open file (tokens with write): CodeMirror from the bundle at
// /ui/vendor/editor.js, a Save button and Ctrl/Cmd-S, and never a silent overwrite:
// - a save sends the version it was based on (If-Match); if the file changed on disk meanwhile the
//   server answers 412, and the user chooses: reload from disk (dropping their changes) or
//   overwrite (knowingly replacing the version now on disk, by its tag: a third change is caught too);
// - unsaved changes are announced, and leaving them (another file, another screen, closing or
//   reloading the page) asks first;
// - a change made elsewhere (an event on GET /event) reloads a clean editor, and marks a dirty one.
import { ApiError, SessionEnded } from './api.js';
import { $, $as, show } from './dom.js';
import { FileConflict, readFile, writeFile } from './file-api.js';

/** @typedef {typeof import('../vendor/editor.js')} EditorBundle */

/** @type {Promise<EditorBundle> | null} */
let bundle = null;

/** The editor bundle, loaded once, on first use (it is large, and only the Files view needs it). */
export function loadEditorBundle() {
  bundle ??= import('../vendor/editor.js').catch((err) => {
    bundle = null;
    throw err;
  });
  return bundle;
}

/**
 * @typedef {object} EditorPanel
 * @property {() => boolean} dirty whether there are unsaved changes
 * @property {() => Promise<void>} save
 * @property {(type: string, props: EventProps) => void} onFileEvent
 * @property {() => void} dispose
 */

/**
 * Opens `text` (version `etag`) of the file at `path` in the editor.
 * @param {{ path: string, text: string, etag: string | null }} f
 * @returns {Promise<EditorPanel>}
 */
export async function openEditor(f) {
  const { createEditor } = await loadEditorBundle();
  const host = $('file-editor');
  const stateEl = $('file-state');
  const saveBtn = $as('file-save', HTMLButtonElement);
  const conflictBox = $('file-conflict');

  let etag = f.etag;
  let saved = f.text;
  let dirty = false;
  let saving = false;
  /** The version on disk that a save ran into (null: the file is gone); undefined: no conflict. */
  /** @type {string | null | undefined} */
  let conflict;
  /** @type {{ text: string, kind: 'ok' | 'warn' | 'bad' | '' }} */
  let note = { text: '', kind: '' };

  const render = () => {
    const parts = saving ? ['Saving…'] : [dirty ? 'Unsaved changes' : '', note.text].filter(Boolean);
    stateEl.textContent = parts.join(' · ');
    stateEl.className = `file-state small ${saving ? '' : note.kind || (dirty ? 'warn' : '')}`;
    saveBtn.disabled = saving || !dirty;
    show(conflictBox, conflict !== undefined);
    if (conflict !== undefined) {
      $('file-conflict-text').textContent =
        conflict === null
          ? 'This file was deleted on disk after you opened it. Overwrite creates it again with your text.'
          : 'This file was changed on disk after you opened it. Reload to see the new version (your changes are dropped), or overwrite it with yours.';
    }
  };

  host.replaceChildren();
  show($('file-content'), false);
  show(host);
  show(saveBtn);
  const editor = createEditor({
    parent: host,
    doc: f.text,
    filename: f.path,
    label: `Contents of ${f.path}`,
    describedBy: 'file-editor-hint',
    onChange: () => {
      const was = dirty;
      dirty = editor.getValue() !== saved;
      // "Saved" and the like go with the next edit; warnings and errors stay until the next save.
      if (note.kind === 'ok' || note.kind === '') note = { text: '', kind: '' };
      if (dirty !== was || !note.text) render(); // (not on every keystroke of a long note)
    },
  });

  /** @param {boolean} [overwrite] replace the version the last conflict found on disk */
  const save = async (overwrite = false) => {
    if (saving || (!dirty && !overwrite)) return;
    const base = overwrite && conflict !== undefined ? conflict : etag;
    const text = editor.getValue();
    saving = true;
    render();
    try {
      etag = await writeFile(f.path, text, base);
      saved = text;
      conflict = undefined;
      dirty = editor.getValue() !== saved;
      note = { text: 'Saved', kind: 'ok' };
    } catch (err) {
      if (err instanceof SessionEnded) return;
      if (err instanceof FileConflict) conflict = err.currentEtag;
      else note = { text: `Not saved: ${err instanceof Error ? err.message : String(err)}`, kind: 'bad' };
    } finally {
      saving = false;
      render();
    }
  };

  const reload = async () => {
    try {
      const r = await readFile(f.path);
      if (r.file.encoding !== 'utf8') throw new Error('it is now a binary file');
      editor.setValue(r.file.content);
      saved = r.file.content;
      etag = r.etag;
      dirty = false;
      conflict = undefined;
      note = { text: 'Reloaded from disk', kind: '' };
    } catch (err) {
      if (err instanceof SessionEnded) return;
      const gone = err instanceof ApiError && err.status === 404;
      note = { text: gone ? 'The file no longer exists on disk.' : `Reload failed: ${err instanceof Error ? err.message : String(err)}`, kind: 'bad' };
    }
    render();
  };

  // Save and Ctrl/Cmd-S always send the version the text was based on (a conflict stays a
  // conflict); only "Overwrite" replaces the version found on disk.
  const onSaveClick = () => void save();
  const onReloadClick = () => void reload();
  const onOverwriteClick = () => void save(true);
  // Capture: before the editor or the browser ("Save page") sees it.
  const onKey = (/** @type {KeyboardEvent} */ e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's') {
      e.preventDefault();
      void save();
    }
  };
  const onUnload = (/** @type {BeforeUnloadEvent} */ e) => {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = ''; // older browsers show their own text for any non-empty value
  };
  saveBtn.addEventListener('click', onSaveClick);
  $('file-reload').addEventListener('click', onReloadClick);
  $('file-overwrite').addEventListener('click', onOverwriteClick);
  window.addEventListener('keydown', onKey, true);
  window.addEventListener('beforeunload', onUnload);
  render();

  return {
    dirty: () => dirty,
    save: () => save(),
    onFileEvent(type, p) {
      // Our own save announces itself too (maybe before its answer): same tag, or still saving.
      if (p.path !== f.path || saving || (type === 'file.written' && p.etag === etag)) return;
      if (type === 'file.written' && !dirty && conflict === undefined) void reload();
      else note = { text: type === 'file.deleted' ? 'Deleted on disk by someone else.' : 'Changed on disk by someone else; saving will ask.', kind: 'warn' };
      render();
    },
    dispose() {
      saveBtn.removeEventListener('click', onSaveClick);
      $('file-reload').removeEventListener('click', onReloadClick);
      $('file-overwrite').removeEventListener('click', onOverwriteClick);
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('beforeunload', onUnload);
      editor.destroy();
      host.replaceChildren();
      show(host, false);
      show(saveBtn, false);
      show(conflictBox, false);
      stateEl.textContent = '';
    },
  };
}
