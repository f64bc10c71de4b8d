// @ts-check
// Small DOM helpers. Nothing from the server is ever inserted as HTML: text goes in as text nodes
// (agent replies' Markdown is rebuilt from an allowlist of elements: markdown-view.js).

/** The element with this id (the page's markup is fixed: a missing one is a bug). */
export function $(/** @type {string} */ id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/**
 * The element with this id, checked to be of a kind (an input, a button...).
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} kind
 * @returns {T}
 */
export function $as(id, kind) {
  const el = $(id);
  if (!(el instanceof kind)) throw new Error(`#${id} is not a ${kind.name}`);
  return el;
}

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * Creates an element. `props` are DOM properties (className, textContent, href, onclick...), plus
 * `dataset`, and attributes for `aria-*`, `role` and `title`.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [props]
 * @param {(Child | Child[])[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('aria-') || k === 'role' || k === 'title') el.setAttribute(k, String(v));
    else Reflect.set(el, k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * Replaces `container`'s children; if the focus was on an element with a `data-id` in it, the new
 * element with that id takes it (a list re-rendered by a live update must not drop the keyboard
 * user's place).
 * @param {HTMLElement} container
 * @param {Node[]} children
 */
export function replaceKeepingFocus(container, children) {
  const active = document.activeElement;
  const id = active instanceof HTMLElement && container.contains(active) ? active.dataset.id : undefined;
  container.replaceChildren(...children);
  if (id === undefined) return;
  const again = [...container.querySelectorAll('[data-id]')].find((el) => el instanceof HTMLElement && el.dataset.id === id);
  if (again instanceof HTMLElement) again.focus();
}

export function show(/** @type {HTMLElement} */ el, visible = true) {
  el.hidden = !visible;
}
