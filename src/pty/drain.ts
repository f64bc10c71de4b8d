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
// returns EIO once it is empty, so this loop recovers every byte.
//
// A paused terminal (flow control) needs the same at another moment: paused, the stream reads
// nothing, so it sees no EOF; when the child exits, node-pty waits 200 ms for the stream to close
// and then destroys it, dropping both what the stream had buffered and what the kernel still holds
// (up to ~64 KiB each). So before that destroy runs, the stream's buffer is flushed (read() emits
// it as 'data', in order) and the master drained as above. Both paths run at most once, and never
// after the fd is closed (its number could by then belong to another file).
//
// It uses two internals of node-pty 1.x's UnixTerminal (`_socket`, `fd`); if they are missing it
// does nothing.

import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { IPty } from 'node-pty';

const CHUNK = 64 * 1024;
/**
 * The kernel holds at most ~64 KiB of a pty's output; this bounds the loop (and the event loop's
 * stall) should a background job that still holds the slave keep writing while we drain.
 */
const MAX_DRAIN = 1024 * 1024;

interface UnixTerminalInternals {
  _socket?: Readable;
  fd?: number;
}

export function drainOnEof(pty: IPty, onData: (chunk: Buffer) => void): void {
  if (process.platform === 'win32') return;
  const internals = pty as unknown as UnixTerminalInternals;
  const socket = internals._socket;
  const fd = internals.fd;
  if (!socket || typeof socket.once !== 'function' || typeof socket.destroy !== 'function' || typeof fd !== 'number') return;
  let done = false;
  const drainFd = (): void => {
    if (done) return;
    done = true;
    for (let total = 0; total < MAX_DRAIN;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, CHUNK, null);
      } catch {
        return; // EIO: drained (or EAGAIN/EBADF: nothing more we can get).
      }
      if (n <= 0) return;
      total += n;
      onData(buf.subarray(0, n));
    }
  };
  socket.once('end', drainFd);

  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error) => {
    if (!done && !socket.destroyed) {
      // Paused (or the slave is still held open by a background job): flush, then drain.
      if (typeof socket.read === 'function') {
        while (socket.read() !== null) {
          // read() emits each buffered chunk as 'data', which node-pty forwards to onData.
        }
      }
      drainFd();
    }
    done = true;
    return destroy(error);
  };
}
