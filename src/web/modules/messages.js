// @ts-check
// How a session's messages and their parts look, and how a run's events change them (used by the
// session screen and the share page). Text goes in as text, never HTML; the agent's replies are
// Markdown, rebuilt from an allowlist by markdown-view.js.
import { h } from './dom.js';
import { markdownView } from './markdown-view.js';

const ROLE_LABEL = { user: 'You', assistant: 'Agent', shell: 'Shell' };

/** A one-line preview of a tool's input, e.g. `path: "src/a.ts"`. */
function preview(/** @type {unknown} */ input) {
  let text;
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    text = Object.entries(input)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join(', ');
  } else {
    text = JSON.stringify(input) ?? '';
  }
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

/** A shell command's part: the command, its output, and how it ended. */
function shellView(/** @type {PartData} */ d) {
  const out = [];
  if (d.stdout) out.push(h('pre', { className: 'stdout' }, d.stdout));
  if (d.stderr) out.push(h('pre', { className: 'stderr' }, d.stderr));
  if (d.done && !d.stdout && !d.stderr) out.push(h('div', { className: 'muted small no-output' }, 'no output'));
  const notes = [];
  if (d.stdoutTruncated || d.stderrTruncated) notes.push('output truncated');
  if (d.timedOut) notes.push('timed out');
  if (d.aborted) notes.push('stopped');
  let badge;
  if (!d.done) badge = h('span', { className: 'badge pending' }, 'running…');
  else if (d.signal) badge = h('span', { className: 'badge bad' }, `signal ${d.signal}`);
  else badge = h('span', { className: `badge ${d.exitCode === 0 ? 'ok' : 'bad'}` }, `exit ${d.exitCode}`);
  return h(
    'div',
    { className: 'part shell' },
    h('div', { className: 'shell-cmd' }, h('span', { className: 'prompt' }, '$'), h('code', {}, d.command || '')),
    ...out,
    h(
      'div',
      { className: 'shell-foot' },
      badge,
      d.durationMs !== null && d.durationMs !== undefined ? h('span', { className: 'muted' }, `${(d.durationMs / 1000).toFixed(2)} s`) : null,
      notes.length ? h('span', { className: 'muted' }, notes.join(' · ')) : null,
    ),
  );
}

function partView(/** @type {Part} */ part, /** @type {Message['role']} */ role) {
  const d = part.data || {};
  switch (part.type) {
    case 'text':
      return role === 'assistant' ? markdownView(d.text || '', 'part text') : h('div', { className: 'part text plain' }, d.text || '');
    case 'reasoning':
      return h('details', { className: 'part reasoning' }, h('summary', {}, 'Thinking'), h('div', { className: 'text' }, d.text || ''));
    case 'tool_call':
      return h(
        'details',
        { className: 'part tool' },
        h('summary', {}, h('span', { className: 'tool-name' }, d.toolName || 'tool'), ' ', h('span', { className: 'muted args' }, preview(d.input))),
        h('pre', {}, JSON.stringify(d.input, null, 2)),
      );
    case 'tool_result': {
      const out = d.output;
      const text = typeof out === 'string' ? out : JSON.stringify(out, null, 2);
      return h(
        'details',
        { className: `part tool ${d.isError ? 'bad' : ''}` },
        h('summary', {}, h('span', { className: 'tool-name' }, d.toolName || 'tool'), ' ', h('span', { className: 'muted' }, d.isError ? 'failed' : 'result')),
        h('pre', {}, text),
      );
    }
    case 'error':
      return h('div', { className: 'part error' }, d.message || 'error');
    case 'shell':
      return shellView(d);
    default:
      return h('details', { className: 'part' }, h('summary', {}, part.type), h('pre', {}, JSON.stringify(d, null, 2)));
  }
}

export function messageView(/** @type {Message} */ m) {
  const status =
    m.status === 'completed'
      ? null
      : h(
          'span',
          { className: `badge ${m.status === 'error' ? 'bad' : m.status === 'aborted' ? 'off' : 'pending'}` },
          m.status === 'running' || m.status === 'pending' ? 'running…' : m.status,
        );
  return h(
    'article',
    { className: `msg ${m.role}`, dataset: { id: m.id, status: m.status } },
    h(
      'header',
      {},
      h('span', { className: 'role' }, ROLE_LABEL[m.role] || m.role),
      h('time', { dateTime: m.createdAt, title: m.createdAt }, new Date(m.createdAt).toLocaleTimeString()),
      status,
    ),
    ...m.parts
      .slice()
      .sort((a, b) => a.seq - b.seq)
      .map((p) => partView(p, m.role)),
    // The run's error, unless an error part already says it (said once, not twice).
    m.error && m.status !== 'completed' && !m.parts.some((p) => p.type === 'error' && p.data && p.data.message === m.error)
      ? h('div', { className: 'part error' }, m.error)
      : null,
  );
}

/**
 * Applies one event of a run's stream to the messages it holds.
 * @param {Map<string, Message>} messages
 * @param {string} type
 * @param {EventProps} props
 */
export function applyRunEvent(messages, type, props) {
  if (type === 'message.created' && props.message) {
    messages.set(props.message.id, { ...props.message, parts: props.message.parts || [] });
  } else if ((type === 'message.part' || type === 'message.part.updated') && props.part) {
    const m = messages.get(props.part.messageId);
    if (m) m.parts = [...m.parts.filter((p) => p.id !== props.part.id), props.part];
  } else if (type === 'message.part.delta') {
    const m = messages.get(props.messageId);
    const part = m && m.parts.find((p) => p.id === props.partId);
    if (part) {
      const text = (part.data && part.data.text) || '';
      part.data = { ...part.data, text: text.slice(0, props.offset) + props.text };
    }
  } else if (type === 'message.completed') {
    const m = messages.get(props.messageId);
    if (m) Object.assign(m, { status: props.status, error: props.error });
  } else if (type === 'done' && props.message) {
    messages.set(props.message.id, props.message);
  }
}
