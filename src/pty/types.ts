// The terminal manager's interfaces: its viewers, their handles and its options. The data it
// returns and accepts (terminals, create/update requests, WebSocket control messages) are zod
// schemas in shapes.ts. The server maps these onto HTTP/WebSocket; nothing here knows about either.

import type { EventBus } from '../events.js';

/**
 * One viewer of a terminal, typically a WebSocket. Output is pushed with `send`; the manager
 * polls `bufferedAmount()` after each send and closes a client that falls too far behind
 * (close code {@link CLOSE_TOO_SLOW}) rather than buffering without bound or slowing the others.
 */
export interface PtyClient {
  send(data: Buffer): void;
  /** Bytes queued but not yet written to the network (WebSocket `bufferedAmount`). */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
  /** Called once when the process exits (after all its output was sent); the client is then detached. */
  onExit?(exitCode: number | null, signal: number | null): void;
}

export interface AttachHandle {
  /** Input to the terminal. Ignored once detached or after the process exited. */
  write(data: string | Buffer): void;
  /** Resize the terminal (shared by all viewers). Throws UsageError for invalid sizes. */
  resize(cols: number, rows: number): void;
  /** Stop receiving output. Idempotent. Does not close the client. */
  detach(): void;
}

/**
 * WebSocket close code for a client closed because its output buffer exceeded the limit.
 * 4000-4999 are for applications; 4008 echoes the standard 1008 (policy violation).
 */
export const CLOSE_TOO_SLOW = 4008;

export interface PtyManagerOptions {
  projectDir: string;
  events?: EventBus;
  defaultShell?: string;
  /** Bytes of recent output kept per terminal for replay on attach. Default 1 MiB. */
  scrollbackBytes?: number;
  /** A client whose bufferedAmount() exceeds this is closed with CLOSE_TOO_SLOW. Default 8 MiB. */
  clientBufferLimit?: number;
  /** Exited terminals kept for their exit status and scrollback; the oldest beyond this are dropped. Default 16. */
  maxExited?: number;
  /** Between SIGHUP and SIGKILL when ending a terminal. Default 1000 ms. */
  killGraceMs?: number;
}
