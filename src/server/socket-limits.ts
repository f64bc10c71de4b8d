// Caps on open sockets, so clients that connect and then send nothing, or half a request, cannot
// use up the process's file descriptors and starve everyone else (slowloris).
//
// A socket is *busy* while it serves a request whose headers (and body, if any) have fully
// arrived, and once it is an accepted WebSocket; otherwise it is *idle*: just connected, half-way
// through a request, between keep-alive requests, or waiting on an upgrade's answer. Idle sockets
// cost the server nothing but a descriptor, and can be closed without losing anyone's work.
//
// - Per client network (networkKey: all of loopback is one key, IPv4 per address, IPv6 per /64):
//   at most `maxPerAddress` sockets. Beyond it, that network's oldest idle socket is closed to make
//   room; if all of its sockets are busy, the new one is refused.
// - In total: at most `maxConnections` sockets (by default half the descriptor limit, so files,
//   terminals and the database keep the rest). Beyond it, the oldest idle socket of any network is
//   closed; if every socket is busy, the new one is refused.
// Closing the *oldest idle* one, rather than refusing the newcomer, is what keeps a valid client
// working under attack even when it shares a key with the attacker (two programs on loopback): a
// real client sends its request as soon as it connects and so is busy at once, while the attacker's
// half-sent sockets are idle and go first. Node's headersTimeout closes whatever is left of them.
import fs from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { networkKey } from '../auth/address.js';
import type { Logger } from '../log.js';

export interface SocketLimitOptions {
  maxConnections: number;
  maxPerAddress: number;
  /** How long an upgrade may take to become a WebSocket before its socket is closed. */
  upgradeTimeoutMs: number;
  log?: Logger;
  now?: () => number;
}

interface Tracked {
  /** socketId at admission (a destroyed socket forgets its address). */
  id: string;
  socket: Socket;
  key: string;
  /** Requests in flight with everything received, plus 1 for an accepted WebSocket. */
  busy: number;
}

/** Soft RLIMIT_NOFILE from /proc (Node raises it to the hard limit at start); null if unknown. */
export function fileDescriptorLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Half the descriptor limit, at least 16 and at most 4096 (4096 when the limit is unknown). */
export function defaultMaxConnections(fdLimit = fileDescriptorLimit()): number {
  return fdLimit === null ? 4096 : Math.max(16, Math.min(4096, Math.floor(fdLimit / 2)));
}

const socketId = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;

export class SocketLimits {
  /** By remote address and port: the same for a TLS socket and the TCP socket under it. */
  private readonly tracked = new Map<string, Tracked>();
  private readonly perKey = new Map<string, number>();
  /** Idle sockets, oldest idle first (insertion order), overall and per key. */
  private readonly idle = new Set<Tracked>();
  private readonly idleByKey = new Map<string, Set<Tracked>>();
  private shedCount = 0;
  private refusedCount = 0;
  private lastReport = -Infinity;

  constructor(private readonly opts: SocketLimitOptions) {}

  /** Watches `server`'s sockets and requests. Call before it accepts connections. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
  }

  /** A WebSocket handshake completed on this socket: busy for as long as it lives. */
  markWebSocket(socket: Socket): void {
    const t = this.tracked.get(socketId(socket));
    if (t) this.setBusy(t, +1);
  }

  /** An upgrade request arrived: unless it becomes a WebSocket in time, close it (it is idle until then). */
  watchUpgrade(socket: Socket): void {
    const t = this.tracked.get(socketId(socket));
    const timer = setTimeout(() => {
      if (t && t.busy === 0 && !socket.destroyed) socket.destroy();
    }, this.opts.upgradeTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  get stats(): { open: number; idle: number; shed: number; refused: number } {
    return { open: this.tracked.size, idle: this.idle.size, shed: this.shedCount, refused: this.refusedCount };
  }

  private admit(socket: Socket): void {
    const key = networkKey(socket.remoteAddress ?? 'unknown');
    if ((this.perKey.get(key) ?? 0) >= this.opts.maxPerAddress && !this.shedOldest(this.idleByKey.get(key))) return this.refuse(socket, key);
    if (this.tracked.size >= this.opts.maxConnections && !this.shedOldest(this.idle)) return this.refuse(socket, key);
    const t: Tracked = { id: socketId(socket), socket, key, busy: 0 };
    this.tracked.set(t.id, t);
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    this.markIdle(t);
    socket.once('close', () => this.forget(t));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const t = this.tracked.get(socketId(req.socket));
    if (!t) return;
    let counted = false;
    let finished = false;
    const start = () => {
      if (counted || finished) return;
      counted = true;
      this.setBusy(t, +1);
    };
    const end = () => {
      if (finished) return;
      finished = true;
      if (counted) this.setBusy(t, -1);
    };
    res.once('finish', end);
    res.once('close', end);
    // A request still sending its body stays idle: a slow body is as cheap to send as slow headers.
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || req.complete) start();
    else req.once('end', start);
  }

  private setBusy(t: Tracked, delta: number): void {
    if (this.tracked.get(t.id) !== t) return;
    t.busy += delta;
    if (t.busy > 0) this.unmarkIdle(t);
    else this.markIdle(t);
  }

  private markIdle(t: Tracked): void {
    // Re-inserting puts it last: the order is by when each socket last became idle.
    this.unmarkIdle(t);
    this.idle.add(t);
    let set = this.idleByKey.get(t.key);
    if (!set) this.idleByKey.set(t.key, (set = new Set()));
    set.add(t);
  }

  private unmarkIdle(t: Tracked): void {
    this.idle.delete(t);
    const set = this.idleByKey.get(t.key);
    if (set?.delete(t) && set.size === 0) this.idleByKey.delete(t.key);
  }

  private forget(t: Tracked): void {
    if (this.tracked.get(t.id) !== t) return;
    this.tracked.delete(t.id);
    this.unmarkIdle(t);
    const n = (this.perKey.get(t.key) ?? 1) - 1;
    if (n > 0) this.perKey.set(t.key, n);
    else this.perKey.delete(t.key);
  }

  /** Closes the oldest idle socket in `set`; false if there is none. */
  private shedOldest(set: Set<Tracked> | undefined): boolean {
    const oldest = set?.values().next();
    if (!oldest || oldest.done) return false;
    const t = oldest.value;
    // Forget it now: its 'close' event comes later, and the count must make room at once.
    this.forget(t);
    t.socket.destroy();
    this.shedCount++;
    this.report(t.key, 'shed');
    return true;
  }

  private refuse(socket: Socket, key: string): void {
    // Every socket is busy: the newcomer goes. (No response: for TLS it would not even be readable.)
    socket.destroy();
    this.refusedCount++;
    this.report(key, 'refused');
  }

  /** One log line a minute at most, however hard the limits are hit. */
  private report(key: string, what: 'shed' | 'refused'): void {
    const t = (this.opts.now ?? Date.now)();
    if (t - this.lastReport < 60_000) return;
    this.lastReport = t;
    this.opts.log?.log('warn', 'connections.limited', {
      latest: { key, action: what },
      shedTotal: this.shedCount,
      refusedTotal: this.refusedCount,
      open: this.tracked.size,
      maxConnections: this.opts.maxConnections,
      maxPerAddress: this.opts.maxPerAddress,
    });
  }
}
