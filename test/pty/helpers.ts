// Shared test helpers: real shells, deadline-bound polling (never fixed sleeps).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CreatePtyOptions, PtyClient } from '../../src/pty/index.js';

export { waitFor } from '../helpers/wait.js';
export { isAlive } from '../helpers/proc.js';

/** Process group of a live process (Linux). */
export function processGroup(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

export function tempProject(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-pty-')));
}

/** An interactive bash with no user config and a fixed prompt, so output is predictable. */
export function bash(extra: CreatePtyOptions = {}): CreatePtyOptions {
  return {
    command: 'bash',
    args: ['--norc', '--noprofile', '-i'],
    ...extra,
    env: { PS1: '$ ', PROMPT_COMMAND: '', HISTFILE: '/dev/null', ...extra.env },
  };
}

/** A non-interactive `bash -c script`. */
export function script(text: string, extra: CreatePtyOptions = {}): CreatePtyOptions {
  return { command: 'bash', args: ['--norc', '--noprofile', '-c', text], ...extra };
}

export interface TestClient extends PtyClient {
  chunks: Buffer[];
  text(): string;
  bytes(): Buffer;
  closed: { code: number; reason: string } | null;
  exit: { exitCode: number | null; signal: number | null } | null;
  buffered: number;
}

/** A client that records everything; `buffered` is what bufferedAmount() reports. */
export function recorder(opts: { grow?: boolean } = {}): TestClient {
  const c: TestClient = {
    chunks: [],
    closed: null,
    exit: null,
    buffered: 0,
    text: () => Buffer.concat(c.chunks).toString('utf8'),
    bytes: () => Buffer.concat(c.chunks),
    send(data) {
      c.chunks.push(data);
      // A slow client never drains: everything sent stays buffered.
      if (opts.grow) c.buffered += data.length;
    },
    bufferedAmount: () => c.buffered,
    close(code, reason) {
      c.closed = { code, reason };
    },
    onExit(exitCode, signal) {
      c.exit = { exitCode, signal };
    },
  };
  return c;
}
