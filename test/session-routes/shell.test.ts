import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHELL } from '../../src/session/shell.js';
import { createSession, isAlive, openEvents, openSse, startHarness, waitFor, type Harness } from './helpers.js';

// The shell runner through HTTP, with no model configured anywhere (config or environment).

let h: Harness;
let rwx: { token: string; id: string };

beforeEach(async () => {
  for (const k of ['TETHER_MODEL_URL', 'TETHER_MODEL', 'TETHER_MODEL_API_KEY']) delete process.env[k];
  h = await startHarness({ shell: { maxOutputBytes: 64 * 1024, killGraceMs: 500 } });
  rwx = await h.token();
});

afterEach(async () => {
  await h.close();
});

const shellPart = (message: any) => message.parts.find((p: any) => p.type === 'shell').data;

describe('POST /session/:id/shell', () => {
  it('runs in the session directory and records output, exit code and the token id; works with no provider', async () => {
    fs.mkdirSync(path.join(h.project, 'sub'));
    const s = await createSession(h, rwx.token, { directory: 'sub' });
    const r = await h.call('POST', `/session/${s.id}/shell`, {
      token: rwx.token,
      body: { command: 'pwd; echo out; echo err >&2; touch made-here; exit 3' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ role: 'shell', status: 'completed', tokenId: rwx.id, sessionId: s.id, error: null });
    expect(shellPart(r.body)).toMatchObject({
      command: 'pwd; echo out; echo err >&2; touch made-here; exit 3',
      cwd: path.join(h.project, 'sub'),
      done: true,
      exitCode: 3,
      stdout: `${path.join(h.project, 'sub')}\nout\n`,
      stderr: 'err\n',
      timedOut: false,
      aborted: false,
    });
    expect(fs.existsSync(path.join(h.project, 'sub', 'made-here'))).toBe(true);

    // Stored: the same message comes back from the list.
    const list = await h.call('GET', `/session/${s.id}/message`, { token: rwx.token });
    expect(list.body.messages).toEqual([r.body]);
  });

  it("runs the runner's default shell (bash, else /bin/sh), not the `shell` setting (that is the terminals' program)", async () => {
    const set = await h.call('PATCH', '/config', { token: rwx.token, body: { shell: process.execPath } });
    expect(set.status).toBe(200);
    const s = await createSession(h, rwx.token);
    const r = await h.call('POST', `/session/${s.id}/shell`, { token: rwx.token, body: { command: 'echo "$0"' } });
    expect(r.status).toBe(200);
    expect(shellPart(r.body)).toMatchObject({ exitCode: 0, stdout: `${SHELL}\n` });
  });

  it("does not hand the command tether's own secrets (TETHER_* variables)", async () => {
    process.env.TETHER_MODEL_API_KEY = 'sk-env-SECRET-for-shell';
    try {
      const s = await createSession(h, rwx.token);
      const r = await h.call('POST', `/session/${s.id}/shell`, { token: rwx.token, body: { command: 'env' } });
      expect(r.status).toBe(200);
      expect(shellPart(r.body).stdout).toContain('PATH=');
      expect(r.text).not.toContain('sk-env-SECRET-for-shell');
    } finally {
      delete process.env.TETHER_MODEL_API_KEY;
    }
  });

  it('kills a command at its timeout', async () => {
    const s = await createSession(h, rwx.token);
    const started = Date.now();
    const r = await h.call('POST', `/session/${s.id}/shell`, {
      token: rwx.token,
      body: { command: 'echo $$ > pid; echo before; sleep 30; echo after', timeoutMs: 300 },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.body).toMatchObject({ status: 'error', error: 'command timed out after 300 ms' });
    expect(shellPart(r.body)).toMatchObject({ timedOut: true, stdout: 'before\n', exitCode: null });
    const pid = Number(fs.readFileSync(path.join(h.project, 'pid'), 'utf8'));
    await waitFor(() => !isAlive(pid), { what: 'the shell to be dead' });
  });

  it('caps the output with a marker', async () => {
    const s = await createSession(h, rwx.token);
    const r = await h.call('POST', `/session/${s.id}/shell`, {
      token: rwx.token,
      body: { command: 'head -c 200000 /dev/zero | tr "\\0" a; echo done >&2' },
    });
    const d = shellPart(r.body);
    expect(d.stdoutTruncated).toBe(true);
    expect(d.stdout.startsWith('a'.repeat(64 * 1024))).toBe(true);
    expect(d.stdout).toContain(`[output truncated: ${200000 - 64 * 1024} bytes omitted]`);
    expect(d.stderr).toBe('done\n');
    expect(d.stderrTruncated).toBe(false);
  });

  it('refuses a second request while one runs (409), aborts a running command, then accepts again', async () => {
    const s = await createSession(h, rwx.token);
    const first = h.call('POST', `/session/${s.id}/shell`, { token: rwx.token, body: { command: 'echo $$ > pid; exec sleep 30' } });
    await waitFor(() => fs.existsSync(path.join(h.project, 'pid')) && fs.readFileSync(path.join(h.project, 'pid'), 'utf8').trim(), {
      what: 'the command to start',
    });
    const pid = Number(fs.readFileSync(path.join(h.project, 'pid'), 'utf8'));
    expect((await h.call('GET', `/session/${s.id}`, { token: rwx.token })).body.busy).toBe(true);

    const second = await h.call('POST', `/session/${s.id}/shell`, { token: rwx.token, body: { command: 'echo no' } });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('session_busy');
    const prompt = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'hi' } });
    // A prompt with no provider is refused by 503 before the session is claimed; that is checked first.
    expect(prompt.status).toBe(503);

    const abort = await h.call('POST', `/session/${s.id}/abort`, { token: rwx.token });
    expect(abort).toMatchObject({ status: 200, body: { aborted: true } });
    // The abort answers once the run has wound down: the session is free at once.
    expect((await h.call('GET', `/session/${s.id}`, { token: rwx.token })).body.busy).toBe(false);
    const r = await first;
    expect(r.body).toMatchObject({ status: 'aborted' });
    expect(shellPart(r.body)).toMatchObject({ aborted: true });
    expect(isAlive(pid)).toBe(false);

    expect((await h.call('POST', `/session/${s.id}/abort`, { token: rwx.token })).body).toEqual({ aborted: false });
    const again = await h.call('POST', `/session/${s.id}/shell`, { token: rwx.token, body: { command: 'echo yes' } });
    expect(shellPart(again.body).stdout).toBe('yes\n');
    // Only the two commands that ran are recorded.
    const msgs = (await h.call('GET', `/session/${s.id}/message`, { token: rwx.token })).body.messages;
    expect(msgs.map((m: any) => [m.role, m.status])).toEqual([
      ['shell', 'aborted'],
      ['shell', 'completed'],
    ]);
  });

  it('publishes progress on /event without the command output', async () => {
    const s = await createSession(h, rwx.token);
    const events = await openEvents(h, (await h.token(['read', 'execute'])).token);
    const r = await h.call('POST', `/session/${s.id}/shell`, { token: rwx.token, body: { command: 'echo the-output-text' } });
    expect(r.status).toBe(200);
    const done = await events.waitFor((e) => e.data.type === 'message.completed', 'message.completed');
    expect(done.data.properties).toMatchObject({ sessionId: s.id, messageId: r.body.id, status: 'completed' });
    const types = events.events.map((e) => e.data.type);
    // session.updated: the untitled session took its title from its first command (issue 12).
    expect(types).toEqual(['server.connected', 'session.updated', 'message.created', 'message.part', 'message.part.updated', 'message.completed']);
    const updated = events.events.find((e) => e.data.type === 'message.part.updated')!;
    expect(updated.data.properties.part.data).toMatchObject({ command: 'echo the-output-text', exitCode: 0, outputOmitted: true, stdoutLength: 16 });
    expect(updated.data.properties.part.data.stdout).toBeUndefined();
    expect(events.text()).not.toContain('the-output-text\n');
    events.close();
  });

  it('streams the run to the caller with Accept: text/event-stream', async () => {
    const s = await createSession(h, rwx.token);
    const stream = await openSse(`${h.url}/session/${s.id}/shell`, { method: 'POST', token: rwx.token, body: { command: 'echo streamed' } });
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/text\/event-stream/);
    await stream.ended;
    expect(stream.events.map((e) => e.event)).toEqual(['message.created', 'message.part', 'message.part.updated', 'message.completed', 'done']);
    const done = stream.events.at(-1)!.data;
    expect(done.type).toBe('done');
    expect(shellPart(done.properties.message)).toMatchObject({ stdout: 'streamed\n', exitCode: 0 });
    // The caller's own stream has the output in full.
    expect(stream.events[2].data.properties.part.data.stdout).toBe('streamed\n');

    // Refusals stay plain JSON errors, not streams.
    const bad = await fetch(`${h.url}/session/ses_nope/shell`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rwx.token}`, accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'true' }),
    });
    expect(bad.status).toBe(404);
    expect(bad.headers.get('content-type')).toMatch(/application\/json/);
  });
});
