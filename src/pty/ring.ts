// Scrollback: the most recent N bytes of a terminal's output, replayed to clients that attach
// later. A circular byte buffer rather than a list of node-pty's chunks: interactive output comes
// in tiny pieces (one keystroke echo is one chunk), and a megabyte of 1-byte Buffer objects would
// cost ~100x its size in object overhead. The buffer grows on demand up to the capacity so an
// idle terminal does not hold a full megabyte.

const INITIAL_BYTES = 16 * 1024;

/** True for a UTF-8 continuation byte (10xxxxxx), i.e. not the start of a character. */
function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

export class ScrollbackRing {
  private buf: Buffer = Buffer.alloc(0);
  /** Index in `buf` of the oldest retained byte. */
  private start = 0;
  private size = 0;
  /** Whether older output was ever dropped (then the oldest byte may be mid-character). */
  private truncated = false;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`scrollback capacity must be a positive integer, got ${capacity}`);
    }
  }

  get byteLength(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (n >= this.capacity) {
      // The chunk alone fills the ring: keep its tail.
      if (this.buf.length < this.capacity) this.buf = Buffer.alloc(this.capacity);
      chunk.copy(this.buf, 0, n - this.capacity);
      this.truncated ||= this.size > 0 || n > this.capacity;
      this.start = 0;
      this.size = this.capacity;
      return;
    }
    const needed = this.size + n;
    if (needed > this.buf.length && this.buf.length < this.capacity) {
      this.grow(Math.min(this.capacity, Math.max(needed, this.buf.length * 2, INITIAL_BYTES)));
    }
    const len = this.buf.length;
    let pos = (this.start + this.size) % len;
    const first = Math.min(n, len - pos);
    chunk.copy(this.buf, pos, 0, first);
    if (first < n) chunk.copy(this.buf, 0, first);
    pos = needed - len;
    if (pos > 0) {
      // Overwrote the oldest `pos` bytes.
      this.start = (this.start + pos) % len;
      this.size = len;
      this.truncated = true;
    } else {
      this.size = needed;
    }
  }

  /**
   * All retained bytes as one Buffer (a copy; later pushes do not change it). After truncation
   * the leading bytes of a cut character are skipped so replay never starts mid-character (which
   * a terminal would render as U+FFFD).
   */
  snapshot(): Buffer {
    const out = this.linear();
    if (!this.truncated) return out;
    let skip = 0;
    while (skip < 3 && skip < out.length && isContinuation(out[skip]!)) skip++;
    return skip ? out.subarray(skip) : out;
  }

  private linear(): Buffer {
    const out = Buffer.allocUnsafe(this.size);
    const len = this.buf.length;
    const first = Math.min(this.size, len - this.start);
    this.buf.copy(out, 0, this.start, this.start + first);
    if (first < this.size) this.buf.copy(out, first, 0, this.size - first);
    return out;
  }

  private grow(newLength: number): void {
    const next = Buffer.alloc(newLength);
    this.linear().copy(next, 0);
    this.buf = next;
    this.start = 0;
  }
}
