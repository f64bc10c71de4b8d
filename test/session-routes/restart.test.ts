import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { createSession, openSse, setProvider, startHarness, waitFor, type Harness } from './helpers.js';

let h: Harness;
let model: FakeModel;
let token: string;

beforeEach(async () => {
  for (const k of ['TETHER_MODEL_URL', 'TETHER_MODEL', 'TETHER_MODEL_API_KEY']) delete process.env[k];
  model = await startFakeModel();
  h = await startHarness();
  token = (await h.token()).token;
  await setProvider(h, token, model.baseURL);
});

afterEach(async () => {
  await h.close();
  await model.close();
});

describe('restart', () => {
  it('keeps sessions and messages across a restart on the same data directory', async () => {
    const s = await createSession(h, token, { title: 'Kept' });
    await h.call('POST', `/session/${s.id}/shell`, { token, body: { command: 'echo from-before' } });
    model.reply({ text: ['remembered'] });
    await h.call('POST', `/session/${s.id}/message`, { token, body: { text: 'remember this' } });
    const before = (await h.call('GET', `/session/${s.id}/message`, { token })).body.messages;
    expect(before).toHaveLength(3);
    const dbFile = path.join(h.env.dataHome, 'tether', 'tether.db');
    expect(fs.statSync(dbFile).mode & 0o777).toBe(0o600);

    const oldUrl = h.url;
    await h.restart();
    expect(h.url).not.toBe(oldUrl);

    const sessions = (await h.call('GET', '/session', { token })).body.sessions;
    expect(sessions).toEqual([expect.objectContaining({ id: s.id, title: 'Kept', busy: false })]);
    expect((await h.call('GET', `/session/${s.id}/message`, { token })).body.messages).toEqual(before);

    // And the conversation carries on with its history.
    model.reply({ text: ['yes'] });
    const r = await h.call('POST', `/session/${s.id}/message`, { token, body: { text: 'do you remember?' } });
    expect(r.body.status).toBe('completed');
    const sent = model.requests[1].body.messages.filter((m: any) => m.role !== 'system');
    expect(sent.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[0].content).toContain('from-before');
    expect(sent[1].content).toBe('remembered');
  });

  it('shutdown aborts a running prompt and records its end before the database closes', async () => {
    const s = await createSession(h, token);
    model.reply({ hang: true, text: ['half an ans'] });
    const stream = await openSse(`${h.url}/session/${s.id}/message`, { method: 'POST', token, body: { text: 'hang' } });
    await stream.waitFor((e) => e.event === 'message.part', 'the first part');

    await h.restart();
    await waitFor(() => stream.isEnded(), { what: 'the stream to end' });
    // (Its last `error` event may or may not get out: server.close() drops the sockets right away.)
    expect(stream.events.some((e) => e.event === 'done')).toBe(false);

    const msgs = (await h.call('GET', `/session/${s.id}/message`, { token })).body.messages;
    expect(msgs.map((m: any) => [m.role, m.status])).toEqual([
      ['user', 'completed'],
      ['assistant', 'aborted'],
    ]);
    expect(msgs[1].parts).toEqual([expect.objectContaining({ type: 'text', data: { text: 'half an ans' } })]);
    expect((await h.call('GET', `/session/${s.id}`, { token })).body.busy).toBe(false);
  });
});
