// The terminal manager's interfaces: its viewers, their handles and its options. The data it
// returns and accepts (terminals, create/update requests, WebSocket control messages) are zod
// schemas in shapes.ts. The server maps these onto HTTP/WebSocket; nothing here knows about either.

import type { EventBus } from '../events.js';

/**
 * One viewer of a terminal, typically a WebSocket. Output is pushed with `send`; the terminal
 * reads `bufferedAmount()` after each batch it sends and pauses the program while its slowest client has
 * too much pending (see flow.ts). A client that alone keeps the others waiting for too long is
 * closed with {@link CLOSE_TOO_SLOW}.
 */
export interface PtyClient {
  send(data: Buffer): void;
  /** Bytes sent but not yet written to the network (WebSocket `bufferedAmount`), plus any queued. */
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
  /**
   * Report that this client's bufferedAmount() may have dropped (e.g. from a write callback), so a
   * paused terminal resumes at once rather than at its next poll (every 50 ms). Cheap when running.
   */
  drained(): void;
  /** Stop receiving output. Idempotent. Does not close the client. */
  detach(): void;
}

/**
 * WebSocket close code for a client closed because it alone held the other clients of its terminal
 * back for longer than `slowClientTimeoutMs`. 4000-4999 are for applications; 4008 echoes the
 * standard 1008 (policy violation).
 */
export const CLOSE_TOO_SLOW = 4008;

export interface PtyManagerOptions {
  projectDir: string;
  events?: EventBus;
  defaultShell?: string;
  /** Bytes of recent output kept per terminal for replay on attach. Default 1 MiB. */
  scrollbackBytes?: number;
  /**
   * Flow control: the pty is paused while its slowest client has more than this pending
   * (bufferedAmount()). Default 1 MiB.
   */
  clientHighWaterBytes?: number;
  /** ...and resumed once every client has at most this pending. Below the high mark. Default 256 KiB. */
  clientLowWaterBytes?: number;
  /**
   * A client still above the low mark while the terminal is paused and another client is waiting
   * (at or below the low mark) is closed with CLOSE_TOO_SLOW after this long. A client that is
   * slow while every client is behind is never closed. Default 10 000 ms.
   */
  slowClientTimeoutMs?: number;
  /** Exited terminals kept for their exit status and scrollback; the oldest beyond this are dropped. Default 16. */
  maxExited?: number;
  /** An exited terminal leaves the list this long after it exited. Default 10 minutes. */
  exitedRetentionMs?: number;
  /** The clock for exitedRetentionMs (tests inject one). Default Date.now. */
  now?: () => number;
  /** Between SIGHUP and SIGKILL when ending a terminal. Default 1000 ms. */
  killGraceMs?: number;
}
