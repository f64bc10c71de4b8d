import { describe, expect, it } from 'vitest';
import { buildHistory } from '../../src/session/agent-run.js';
import { EVENT_STRING_MAX, compactEvent } from '../../src/server/routes/session-events.js';
import type { Message, Part } from '../../src/session/types.js';

let n = 0;
function msg(role: Message['role'], parts: Array<Pick<Part, 'type' | 'data'>>, extra: Partial<Message> = {}): Message {
  const id = `msg_${++n}`;
  return {
    id,
    sessionId: 'ses_x',
    seq: n,
    role,
    tokenId: null,
    status: 'completed',
    createdAt: '',
    completedAt: '',
    error: null,
    parts: parts.map((p, seq) => ({ id: `prt_${n}_${seq}`, sessionId: 'ses_x', messageId: id, seq, ...p })),
    ...extra,
  };
}

describe('buildHistory', () => {
  it('keeps user and assistant text, summarises tools and shell commands, merges same-role turns', () => {
    const history = buildHistory([
      msg('user', [{ type: 'text', data: { text: 'first' } }]),
      msg('assistant', [
        { type: 'tool_call', data: { toolCallId: 'a', toolName: 'read_file', input: { path: 'x' } } },
        { type: 'tool_result', data: { toolCallId: 'a', toolName: 'read_file', output: { content: 'FILE BODY' }, isError: false } },
        { type: 'text', data: { text: 'answer' } },
      ]),
      msg('shell', [{ type: 'shell', data: { command: 'ls', exitCode: 0, stdout: 'a\nb\n', stderr: '', timedOut: false, aborted: false } }]),
      msg('user', [{ type: 'text', data: { text: 'second' } }]),
      // An aborted reply without text still tells the model what happened.
      msg('assistant', [], { status: 'aborted', error: 'aborted' }),
      msg('assistant', [{ type: 'text', data: { text: 'x'.repeat(10) } }]),
    ]);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(history[0].content).toBe('first');
    expect(history[1].content).toBe('answer\n[tools used in this turn: read_file {"path":"x"}]');
    expect(history[1].content).not.toContain('FILE BODY');
    expect(history[2].content).toBe('I ran a shell command in the working directory:\n$ ls\n(exit code 0)\nstdout:\na\nb\n\n\nsecond');
    expect(history[3].content).toBe('[this reply was aborted by the user]\n\nxxxxxxxxxx');
  });

  it('clips long shell output', () => {
    const [m] = buildHistory([
      msg('shell', [{ type: 'shell', data: { command: 'yes', exitCode: null, timedOut: true, stdout: 'y'.repeat(10_000), stderr: '' } }]),
    ]);
    expect(m.content).toContain('(it timed out and was killed)');
    expect(m.content).toContain('… [6000 more characters]');
    expect(m.content.length).toBeLessThan(4200);
  });
});

describe('compactEvent (what GET /event carries)', () => {
  it('drops shell output and run_command output, keeps the rest', () => {
    const part = { id: 'p', type: 'shell', data: { command: 'cat x', exitCode: 0, stdout: 'SECRET OUT', stderr: 'E', done: true } };
    expect(compactEvent({ sessionId: 's', part })).toEqual({
      sessionId: 's',
      part: { id: 'p', type: 'shell', data: { command: 'cat x', exitCode: 0, done: true, outputOmitted: true, stdoutLength: 10, stderrLength: 1 } },
    });
    const tool = { id: 'q', type: 'tool_result', data: { toolName: 'run_command', isError: false, output: { exitCode: 1, output: 'OUT' } } };
    expect(compactEvent({ part: tool }).part).toEqual({
      id: 'q',
      type: 'tool_result',
      data: { toolName: 'run_command', isError: false, output: { exitCode: 1, outputOmitted: true, outputLength: 3 } },
    });
    // Inside message.created too.
    const created = compactEvent({ message: { id: 'm', parts: [part] } }) as any;
    expect(created.message.parts[0].data.stdout).toBeUndefined();
    // The original is untouched (the caller's own stream gets it whole).
    expect(part.data.stdout).toBe('SECRET OUT');
  });

  it('cuts long strings with a marker', () => {
    const long = 'a'.repeat(EVENT_STRING_MAX + 100);
    const out = compactEvent({ part: { type: 'text', data: { text: long } } }) as any;
    expect(out.part.data.text.startsWith('a'.repeat(EVENT_STRING_MAX))).toBe(true);
    expect(out.part.data.text).toContain('[event truncated: 100 more characters');
    expect(compactEvent({ text: 'short' })).toEqual({ text: 'short' });
  });
});
