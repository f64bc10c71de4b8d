// An unreachable model fails at once, with one message, and is not retried (src/agent/reach.ts).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, type AgentPart } from '../../src/agent/agent.js';
import { resolveProviderSettings } from '../../src/agent/provider.js';
import { ModelUnreachableError, connectFailure, fastFailFetch, tcpProbe } from '../../src/agent/reach.js';

let project: string;
beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-reach-'));
});
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const hangingFetch: typeof fetch = (_input, init) =>
  new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));

describe('an unreachable model', () => {
  it('ends the run within a second with one error part naming the URL and the setting, with the default retries', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1`;
    for (const [config, env, where] of [
      [{ modelUrl: url, model: 'm' }, {}, /That URL is the server setting modelUrl \(see `tether config` or the Settings page\)$/],
      [{ model: 'm' }, { TETHER_MODEL_URL: url }, /That URL is TETHER_MODEL_URL in the server's environment$/],
    ] as const) {
      const parts: AgentPart[] = [];
      const started = Date.now();
      // maxRetries left at the AI SDK's default (2, with 2 s and 4 s of backoff before this change).
      const result = await runAgent({
        settings: resolveProviderSettings(config, env),
        directory: project,
        history: [],
        prompt: 'hi',
        signal: new AbortController().signal,
        onPart: (p) => parts.push(p),
      });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(result.finishReason).toBe('error');
      const errors = parts.filter((p) => p.type === 'error');
      expect(errors).toHaveLength(1);
      const message = (errors[0] as { message: string }).message;
      expect(message).toMatch(
        new RegExp(`^cannot reach the model at ${url.replace(/[.]/g, '\\.')}: connection refused \\(is the model server running\\?\\)\\. `),
      );
      expect(message).toMatch(where);
    }
  });

  it('a connection attempt that gets no answer is given up after the connect timeout, not retried', async () => {
    let aborted = false;
    const f = fastFailFetch({
      connectTimeoutMs: 50,
      probe: (_url, ms) => new Promise((resolve) => setTimeout(() => resolve(`no answer within ${ms / 1000} s`), ms)),
      fetch: (input, init) => {
        init?.signal?.addEventListener('abort', () => (aborted = true));
        return hangingFetch(input, init);
      },
    });
    const started = Date.now();
    const err = await f('http://model.invalid:8080/v1/chat/completions', { method: 'POST' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelUnreachableError);
    expect(err).toMatchObject({ reason: 'no answer within 0.05 s', message: 'cannot reach the model at http://model.invalid:8080: no answer within 0.05 s' });
    // No cause: the AI SDK would find a network code in it and retry.
    expect((err as Error).cause).toBeUndefined();
    expect(aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("the caller's abort stays an abort; a failure after connecting is passed on as it was (the SDK may retry it)", async () => {
    const ctl = new AbortController();
    const reachable = fastFailFetch({ probe: () => Promise.resolve(null), fetch: hangingFetch });
    const pending = reachable('http://127.0.0.1:1/v1', { signal: ctl.signal }).catch((e: unknown) => e);
    ctl.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });

    const reset = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    const broken = fastFailFetch({ probe: () => Promise.resolve(null), fetch: () => Promise.reject(reset) });
    expect(await broken('http://127.0.0.1:1/v1').catch((e: unknown) => e)).toBe(reset);

    const ok = new Response('{}');
    expect(await fastFailFetch({ probe: () => Promise.resolve('never asked'), fetch: () => Promise.resolve(ok) })('http://127.0.0.1:1/v1')).toBe(ok);
  });

  it('probes only until the model server has answered once: later requests open no extra connection, and their connect errors are still named', async () => {
    let probes = 0;
    const ok = new Response('{}');
    let next: () => Promise<Response> = () => Promise.resolve(ok);
    const f = fastFailFetch({
      probe: () => {
        probes++;
        return Promise.resolve(null);
      },
      fetch: () => next(),
    });
    expect(await f('http://127.0.0.1:1/v1')).toBe(ok);
    expect(await f('http://127.0.0.1:1/v1')).toBe(ok);
    expect(probes).toBe(1);
    next = () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }));
    await expect(f('http://127.0.0.1:1/v1')).rejects.toBeInstanceOf(ModelUnreachableError);
    expect(probes).toBe(1);
  });

  it('names connect failures found anywhere in the cause chain', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) });
    expect(connectFailure(refused)).toBe('connection refused (is the model server running?)');
    expect(connectFailure(Object.assign(new Error('dns'), { code: 'ENOTFOUND' }))).toBe('no such host');
    expect(connectFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeNull();
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(connectFailure(loop)).toBeNull();
  });

  it('the TCP probe says whether the host accepts a connection', async () => {
    const srv = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const open = (srv.address() as net.AddressInfo).port;
    try {
      const signal = new AbortController().signal;
      expect(await tcpProbe(new URL(`http://127.0.0.1:${open}/v1`), 2000, signal)).toBeNull();
      expect(await tcpProbe(new URL(`http://127.0.0.1:${await closedPort()}/v1`), 2000, signal)).toBe('connection refused (is the model server running?)');
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  });
});
