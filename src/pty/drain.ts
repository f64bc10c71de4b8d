// Work around lost output at exit on Linux (libuv/libuv#4992, node-pty#85, node-pty#726).
//
// When the child closes the pty, libuv sees POLLHUP; after a partial read it assumes the next read
// would return EOF and reports EOF without trying, yet the pty master may still hold (kilo)bytes
// of the last output. node-pty then closes the fd and that output is gone: a command that prints
// a lot and exits loses its tail. Fixed upstream (libuv/libuv#4997, #5165), after the libuv
// that Node 20 ships (1.46 here); the drain below is harmless once the fix is in.
//
// The fix here: when the read stream reports EOF, and before it closes the fd (the 'end' event
// fires first, synchronously), read the master ourselves until the kernel says EIO. After the
// slave side closed, a master read first waits for in-flight data to reach the buffer and only
// returns EIO once it is empty, so this loop recovers every byte. It uses two internals of
// node-pty 1.x's UnixTerminal (`_socket`, `fd`); if they are missing it does nothing.

import fs from 'node:fs';
import type { EventEmitter } from 'node:events';
import type { IPty } from 'node-pty';

const CHUNK = 64 * 1024;

interface UnixTerminalInternals {
  _socket?: EventEmitter;
  fd?: number;
}

export function drainOnEof(pty: IPty, onData: (chunk: Buffer) => void): void {
  if (process.platform === 'win32') return;
  const internals = pty as unknown as UnixTerminalInternals;
  const socket = internals._socket;
  const fd = internals.fd;
  if (!socket || typeof socket.once !== 'function' || typeof fd !== 'number') return;
  socket.once('end', () => {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, CHUNK, null);
      } catch {
        return; // EIO: drained (or EAGAIN/EBADF: nothing more we can get).
      }
      if (n <= 0) return;
      onData(buf.subarray(0, n));
    }
  });
}
