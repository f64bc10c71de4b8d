// @ts-check
// The audit screen (#/audit): GET /audit with the filters of `tether audit` (since, token, kind),
// as a table. Shown to tokens with read + execute (the trail shows commands). Everything in it may
// be attacker-controlled text (commands, paths, names): it goes in as text nodes only (dom.js).
// The screen builds its own markup inside #view-audit, so the page's markup changes by one section.
import { ApiError, api } from './api.js';
import { $, h, show } from './dom.js';
import { GROUPS } from './audit-groups.js';
import { reportError } from './status.js';

const SINCE = [
  ['15m', 'last 15 minutes'],
  ['1h', 'last hour'],
  ['24h', 'last 24 hours'],
  ['7d', 'last 7 days'],
  ['', 'everything'],
];

const LIMIT = 500;
const BASE = new Set(['time', 'kind', 'tokenId', 'tokenName', 'address']);

/** `key=value` for the kind's own fields, one line. */
function what(/** @type {Record<string, unknown>} */ e) {
  return Object.entries(e)
    .filter(([k, v]) => !BASE.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
}

function select(/** @type {string} */ id, /** @type {string} */ label, /** @type {string[][]} */ options, /** @type {string} */ value) {
  const el = h('select', { id }, ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return h('label', { className: 'audit-filter' }, h('span', {}, label), el);
}

/** @returns {Mounted} */
export function mountAudit() {
  const view = $('view-audit');
  const token = h('input', { id: 'audit-token', type: 'text', placeholder: 'name or id', spellcheck: false, autocomplete: 'off' });
  const form = h(
    'form',
    { id: 'audit-form', className: 'audit-filters' },
    select('audit-since', 'Since', SINCE, '24h'),
    select('audit-kind', 'Kind', GROUPS, ''),
    h('label', { className: 'audit-filter' }, h('span', {}, 'Token'), token),
    h('button', { type: 'submit', className: 'primary' }, 'Show'),
  );
  const warning = h('p', { id: 'audit-warning', className: 'audit-warning', role: 'alert', hidden: true });
  const summary = h('p', { id: 'audit-summary', className: 'muted small' }, 'Loading…');
  const body = h('tbody', { id: 'audit-rows' });
  const tableEl = h(
    'table',
    { className: 'audit-table' },
    h('thead', {}, h('tr', {}, ...['Time', 'Kind', 'Token', 'Address', 'What'].map((t) => h('th', { scope: 'col' }, t)))),
    body,
  );
  view.replaceChildren(
    h('div', { className: 'toolbar' }, h('h1', {}, 'Audit'), h('span', { className: 'spacer' })),
    form,
    warning,
    summary,
    h('div', { className: 'audit-scroll' }, tableEl),
  );

  let alive = true;
  /** Only the latest request's answer is shown. */
  let seq = 0;
  const value = (/** @type {string} */ id) => /** @type {HTMLSelectElement} */ ($(id)).value;

  const load = async () => {
    const mine = ++seq;
    const q = new URLSearchParams({ limit: String(LIMIT) });
    if (value('audit-since')) q.set('since', value('audit-since'));
    if (value('audit-kind')) q.set('kind', value('audit-kind'));
    const t = /** @type {HTMLInputElement} */ (token).value.trim();
    if (t) q.set('by', t); // not `token`: the server refuses that name in a URL
    summary.textContent = 'Loading…';
    try {
      /** @type {AuditResult} */
      const r = await api('GET', `/audit?${q.toString()}`);
      if (!alive || mine !== seq) return;
      const rows = r.events
        .slice()
        .reverse()
        .map((e) =>
          h(
            'tr',
            { dataset: { kind: e.kind } },
            h('td', { className: 'mono nowrap' }, e.time.slice(0, 19).replace('T', ' ')),
            h('td', { className: 'mono nowrap' }, e.kind),
            h('td', { title: e.tokenId ?? '' }, e.tokenName ?? e.tokenId ?? '—'),
            h('td', { className: 'mono nowrap' }, e.address),
            h('td', { className: 'mono what' }, what(e)),
          ),
        );
      body.replaceChildren(...rows);
      summary.textContent =
        r.events.length === 0
          ? 'No events match.'
          : `${r.events.length} event${r.events.length === 1 ? '' : 's'}, newest first${r.truncated ? ` (the newest ${r.events.length}; narrow the filters to see older ones)` : ''}.`;
      warning.textContent = r.log.ok
        ? ''
        : `The audit log cannot be written (${r.log.error}); ${r.log.lostLines} event(s) not recorded since ${r.log.failingSince}.`;
      show(warning, !r.log.ok);
    } catch (err) {
      if (!alive || mine !== seq) return;
      if (err instanceof ApiError) summary.textContent = err.message;
      else reportError(err);
    }
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load();
  });
  void load();
  return {
    dispose() {
      alive = false;
    },
  };
}
