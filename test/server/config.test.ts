import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../src/auth/permissions.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let rw: string;
beforeAll(async () => {
  s = await startTestServer();
  // Changing settings needs write + execute (settings decide what runs and where prompts go).
  rw = (await s.token(['read', 'write', 'execute'])).token;
});
afterAll(() => s.close());

const patch = (body: unknown, token = rw) =>
  s.fetch('/config', { method: 'PATCH', token, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('GET/PATCH /config', () => {
  it('starts empty', async () => {
    const r = await s.fetch('/config', { token: rw });
    // Since issue 12: the values the server uses (agentMaxSteps' default included), each with its source.
    expect(await r.json()).toEqual({
      shell: null,
      modelUrl: null,
      model: null,
      apiKeySet: false,
      agentMaxSteps: 20,
      sources: {
        modelUrl: { source: 'default' },
        model: { source: 'default' },
        apiKey: { source: 'default' },
        shell: { source: 'default', note: "the server's $SHELL, else /bin/bash" },
        agentMaxSteps: { source: 'default' },
      },
    });
  });

  it('stores settings, never returns the API key, and persists it 0600', async () => {
    const r = await patch({ modelUrl: 'http://127.0.0.1:11434/v1', model: 'qwen', apiKey: 'sk-very-secret-123', agentMaxSteps: 5 });
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(body).not.toContain('sk-very-secret');
    expect(JSON.parse(body)).toMatchObject({ shell: null, modelUrl: 'http://127.0.0.1:11434/v1', model: 'qwen', apiKeySet: true, agentMaxSteps: 5 });
    expect(JSON.parse(body).sources).toMatchObject({ modelUrl: { source: 'file' }, apiKey: { source: 'file' }, agentMaxSteps: { source: 'file' } });
    const g = await (await s.fetch('/config', { token: rw })).text();
    expect(g).not.toContain('sk-very-secret');
    const file = path.join(s.env.configHome, 'tether', 'config.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).apiKey).toBe('sk-very-secret-123');
  });

  it('changing modelUrl alone drops the stored key, so it never follows to another server', async () => {
    await patch({ modelUrl: 'http://127.0.0.1:1/v1', apiKey: 'k1' });
    const r = await patch({ modelUrl: 'https://other.example/v1' });
    expect((await r.json()).apiKeySet).toBe(false);
  });

  it('null clears a setting', async () => {
    await patch({ model: 'm' });
    expect((await (await patch({ model: null })).json()).model).toBeNull();
  });

  // Made here, not in a hook: the table below is built when the file is collected.
  const NOT_EXECUTABLE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-cfg-')), 'not-executable');
  fs.writeFileSync(NOT_EXECUTABLE, '#!/bin/sh\n', { mode: 0o644 });
  const bad: [unknown, RegExp][] = [
    [{ colour: 'red' }, /colour/],
    [{ modelUrl: 'ftp://x' }, /body\.modelUrl/],
    [{ modelUrl: 'http://user:pw@host/v1' }, /body\.modelUrl/],
    [{ agentMaxSteps: 0 }, /body\.agentMaxSteps/],
    [{ agentMaxSteps: 'many' }, /body\.agentMaxSteps/],
    [{ shell: 'bash' }, /body\.shell.*absolute/],
    [{ shell: '/no/such/shell' }, /shell: \/no\/such\/shell does not exist/],
    [{ shell: NOT_EXECUTABLE }, /shell: .*not-executable is not executable/],
    [{ shell: '/bin' }, /shell: \/bin is not a regular file/],
    [{ modelUrl: 'javascript:alert(1)' }, /body\.modelUrl/],
    [{ modelUrl: 'file:///etc/passwd' }, /body\.modelUrl/],
    ['{"model":', /not valid JSON|JSON/],
    [[1, 2], /body/],
  ];
  for (const [body, msg] of bad) {
    it(`400 for ${JSON.stringify(body)}, naming it, and nothing changes`, async () => {
      const before = await (await s.fetch('/config', { token: rw })).text();
      const r = await patch(body);
      expect(r.status).toBe(400);
      const e = (await r.json()).error;
      expect(e.code).toBe('bad_request');
      expect(e.message).toMatch(msg);
      expect(await (await s.fetch('/config', { token: rw })).text()).toBe(before);
    });
  }

  it('a read-only token can read but not change config', async () => {
    const { token } = await s.token(['read']);
    expect((await s.fetch('/config', { token })).status).toBe(200);
    expect((await patch({ model: 'x' }, token)).status).toBe(403);
  });

  it('without execute no setting can be changed: settings decide what runs and where prompts go', async () => {
    const before = await (await s.fetch('/config', { token: rw })).text();
    const values = { shell: '/bin/sh', modelUrl: 'http://127.0.0.1:9/v1', model: 'evil', apiKey: 'sk-attacker', agentMaxSteps: 3 };
    for (const perms of [['write'], ['read', 'write'], ['read']] as Permission[][]) {
      const { token } = await s.token([...perms]);
      for (const [key, value] of Object.entries(values)) {
        for (const v of [value, null]) {
          const r = await patch({ [key]: v }, token);
          expect(r.status, `${perms.join('+')} ${key}=${v}`).toBe(403);
          if (perms.includes('write')) expect((await r.json()).error.message).toMatch(/lacks execute/);
        }
      }
    }
    expect(await (await s.fetch('/config', { token: rw })).text()).toBe(before);
  });

  it('an executable shell is accepted; each change is logged with the token id and keys, never a value', async () => {
    const { token, id } = await s.token(['read', 'write', 'execute'], { name: 'cfg-admin' });
    const r = await patch({ shell: '/bin/sh', apiKey: 'sk-must-not-be-logged', modelUrl: 'http://127.0.0.1:8/v1' }, token);
    expect(r.status).toBe(200);
    const line = s.logs.filter((l) => l.event === 'config.updated').at(-1)!;
    expect(line).toMatchObject({ tokenId: id });
    expect([...(line.keys as string[])].sort()).toEqual(['apiKey', 'modelUrl', 'shell']);
    expect(JSON.stringify(s.logs)).not.toMatch(/sk-must-not-be-logged|127\.0\.0\.1:8/);
    await patch({ shell: null, apiKey: null, modelUrl: null }, token);
  });

  it('config changes are announced on /event without the key', async () => {
    const r = await s.fetch('/event', { token: rw });
    const reader = r.body!.getReader();
    let text = '';
    text += new TextDecoder().decode((await reader.read()).value);
    await patch({ apiKey: 'sk-another-secret', model: 'evented' });
    while (!text.includes('config.updated')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/"model":"evented"/);
    expect(text).not.toContain('sk-another-secret');
    await reader.cancel();
  });

  it('the OpenAPI document lists the routes and needs a token', async () => {
    expect((await s.fetch('/doc')).status).toBe(401);
    const doc = await (await s.fetch('/doc', { token: rw })).json();
    for (const p of ['/health', '/auth/whoami', '/config', '/file', '/file/content', '/find', '/find/file', '/event'])
      expect(Object.keys(doc.paths)).toContain(p);
  });
});

describe('event visibility', () => {
  it('pty/session/message events reach only tokens with execute', async () => {
    const { token: readOnly } = await s.token(['read']);
    const { token: exec } = await s.token(['read', 'execute']);
    const open = async (token: string) => {
      const r = await s.fetch('/event', { token });
      const reader = r.body!.getReader();
      let text = '';
      text += new TextDecoder().decode((await reader.read()).value);
      return {
        reader,
        read: async (until: string) => {
          while (!text.includes(until)) text += new TextDecoder().decode((await reader.read()).value);
          return text;
        },
      };
    };
    const a = await open(readOnly);
    const b = await open(exec);
    s.server.ctx.events.publish('session.created', { session: { title: 'secret plans' } });
    s.server.ctx.events.publish('config.updated', { config: {} });
    const seenByExec = await b.read('config.updated');
    const seenByRead = await a.read('config.updated');
    expect(seenByExec).toMatch(/secret plans/);
    expect(seenByRead).not.toMatch(/secret plans|session\.created/);
    await a.reader.cancel();
    await b.reader.cancel();
  });
});

describe('limits', () => {
  it('a body over 2 MiB is 413, for any route', async () => {
    const big = JSON.stringify({ model: 'x'.repeat(2 * 1024 * 1024 + 10) });
    const r = await patch(big);
    expect(r.status).toBe(413);
    expect((await r.json()).error.code).toBe('too_large');
  });
});
