// The HTTP side of terminals: list/get/update/delete, validation 400s, unknown ids 404, defaults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bash, connect, refusedStatus, startPtyServer, type PtyServer } from './helpers.js';

let s: PtyServer;
beforeAll(async () => {
  s = await startPtyServer();
});
afterAll(async () => {
  await s?.close();
});

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function post(body: unknown) {
  const res = await s.fetch('/pty', { method: 'POST', token: s.admin, ...json(body) });
  return { status: res.status, body: await res.json() };
}

describe('terminal routes', () => {
  it('creates, lists, gets, updates and deletes', async () => {
    const a = await s.createPty(bash({ title: 'one', cols: 90, rows: 20 }));
    expect(a).toMatchObject({ title: 'one', cols: 90, rows: 20, status: 'running', exitCode: null, signal: null, args: ['--norc', '--noprofile', '-i'] });
    expect(a.id).toMatch(/^pty_[0-9a-f]{16}$/);
    expect(typeof a.pid).toBe('number');

    const listed = (await (await s.fetch('/pty', { token: s.admin })).json()) as any[];
    expect(listed.map((p) => p.id)).toContain(a.id);

    const got = await s.fetch(`/pty/${a.id}`, { token: s.admin });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(a);

    const put = await s.fetch(`/pty/${a.id}`, { method: 'PUT', token: s.admin, ...json({ title: 'renamed' }) });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ title: 'renamed', cols: 90, rows: 20 });

    const del = await s.fetch(`/pty/${a.id}`, { method: 'DELETE', token: s.admin });
    expect(del.status).toBe(204);
    expect((await s.fetch(`/pty/${a.id}`, { token: s.admin })).status).toBe(404);
    expect(((await (await s.fetch('/pty', { token: s.admin })).json()) as any[]).map((p) => p.id)).not.toContain(a.id);
  });

  it('records the creating token and runs in a directory inside the project', async () => {
    const { token, id } = await s.token(['read', 'write', 'execute']);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(`${s.project}/sub`);
    const res = await s.fetch('/pty', { method: 'POST', token, ...json(bash({ cwd: 'sub', env: { GREETING: 'hi-there' } })) });
    expect(res.status).toBe(201);
    const info = await res.json();
    expect(info.ownerTokenId).toBe(id);
    expect(info.cwd).toBe(`${s.project}/sub`);
    const t = await connect(`${s.wsUrl}/pty/${info.id}/connect`, { token });
    await t.waitText('$ ');
    t.type('echo "$GREETING:$PWD"\r');
    await t.waitText(`hi-there:${s.project}/sub`);
    t.close();
  });

  it('defaults to the configured shell, else $SHELL', async () => {
    const noBody = await s.fetch('/pty', { method: 'POST', token: s.admin });
    expect(noBody.status).toBe(201);
    expect((await noBody.json()).command).toBe(process.env.SHELL || '/bin/bash');

    const cfg = await s.fetch('/config', { method: 'PATCH', token: s.admin, ...json({ shell: '/bin/sh' }) });
    expect(cfg.status).toBe(200);
    const { status, body } = await post({});
    expect(status).toBe(201);
    expect(body.command).toBe('/bin/sh');
    expect(body.title).toBe('sh');
  });

  it('answers 400 naming the field for invalid input', async () => {
    const cases: [unknown, RegExp][] = [
      [{ cols: 0 }, /cols/],
      [{ rows: 1001 }, /rows/],
      [{ cols: 'wide' }, /cols/],
      [{ cols: 10.5 }, /cols/],
      [{ args: 'ls' }, /args/],
      [{ args: [1] }, /args/],
      [{ env: { A: 1 } }, /env/],
      [{ env: { 'A=B': 'x' } }, /env/],
      [{ title: 'a\u001b[2J' }, /title/],
      [{ command: '' }, /command/],
      [{ command: 'no-such-command-xyz' }, /command/],
      [{ cwd: 'does-not-exist' }, /cwd/],
      [{ colums: 80 }, /colums/],
    ];
    for (const [body, field] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('bad_request');
      expect(r.body.error.message, JSON.stringify(body)).toMatch(field);
    }
    const notJson = await s.fetch('/pty', { method: 'POST', token: s.admin, headers: { 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);

    const a = await s.createPty();
    for (const body of [{ cols: 0 }, { rows: 'x' }, { title: 5 }, { size: 3 }]) {
      const res = await s.fetch(`/pty/${a.id}`, { method: 'PUT', token: s.admin, ...json(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).error.message).toMatch(Object.keys(body)[0]);
    }
  });

  it('refuses a working directory outside the project', async () => {
    const r = await post({ cwd: '/' });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/cwd/);
    const up = await post({ cwd: '../..' });
    expect([400, 403]).toContain(up.status);
  });

  it('answers 404 for an unknown id on every route', async () => {
    const id = 'pty_0000000000000000';
    for (const [method, path] of [
      ['GET', `/pty/${id}`],
      ['PUT', `/pty/${id}`],
      ['DELETE', `/pty/${id}`],
      ['POST', `/pty/${id}/ticket`],
      ['GET', `/pty/${id}/connect`],
    ] as const) {
      const res = await s.fetch(path, { method, token: s.admin, ...(method === 'PUT' ? json({ cols: 10 }) : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await res.json()).error.code).toBe('not_found');
    }
    expect(await refusedStatus(`${s.wsUrl}/pty/${id}/connect`, { token: s.admin })).toBe(404);
  });

  it('answers 426 to a plain GET of the WebSocket endpoint', async () => {
    const a = await s.createPty();
    const res = await s.fetch(`/pty/${a.id}/connect`, { token: s.admin });
    expect(res.status).toBe(426);
    expect((await res.json()).error.code).toBe('upgrade_required');
  });

  it('documents the routes and the WebSocket protocol in /doc', async () => {
    const doc = await (await s.fetch('/doc', { token: s.admin })).json();
    for (const p of ['/pty', '/pty/{id}', '/pty/{id}/ticket', '/pty/{id}/connect']) expect(doc.paths[p], p).toBeDefined();
    expect(doc.paths['/pty/{id}/connect'].get.description).toMatch(/tether\.auth\.<token>/);
  });
});
