// Output caps for the runner (run.ts). Both keep memory bounded however much a command prints,
// say in the text how much was left out, and never cut a UTF-8 character in half.
// - HeadCapture: the first `limit` bytes of one stream (an agent session's shell part keeps stdout
//   and stderr apart, as a person reads them).
// - HeadTailCapture: one interleaved stream, as a terminal shows it, keeping its beginning and its
//   end (where build errors and summaries are): what the agent's model reads.

/** Keeps the first `limit` bytes of a stream, counting the rest. */
export class HeadCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private omitted = 0;

  constructor(private readonly limit: number) {}

  get truncated(): boolean {
    return this.omitted > 0;
  }

  push(chunk: Buffer): void {
    const room = this.limit - this.kept;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.kept += chunk.length;
      return;
    }
    if (room > 0) {
      this.chunks.push(chunk.subarray(0, room));
      this.kept += room;
    }
    this.omitted += chunk.length - Math.max(room, 0);
  }

  text(): string {
    const buf = Buffer.concat(this.chunks);
    if (!this.truncated) return buf.toString('utf8');
    // Do not cut a multi-byte character in half: drop its leading bytes and count them as omitted.
    const end = completeUtf8Length(buf);
    const omitted = this.omitted + (buf.length - end);
    return `${buf.subarray(0, end).toString('utf8')}\n[output truncated: ${omitted} bytes omitted]`;
  }
}

/** Keeps the first and last `max/2` bytes of a stream of chunks. */
export class HeadTailCapture {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    const half = Math.floor(this.max / 2);
    if (this.headBytes < half) {
      const take = chunk.subarray(0, half - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes > this.max - half) {
      const first = this.tail[0]!;
      const excess = this.tailBytes - (this.max - half);
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  result(): { output: string; truncated: boolean } {
    const head = Buffer.concat(this.head);
    const tail = Buffer.concat(this.tail);
    if (this.dropped === 0) return { output: Buffer.concat([head, tail]).toString('utf8'), truncated: false };
    // Whole characters only on both sides of the cut.
    const headEnd = completeUtf8Length(head);
    const tailStart = leadingContinuationBytes(tail);
    const omitted = this.dropped + (head.length - headEnd) + tailStart;
    return {
      output: `${head.subarray(0, headEnd).toString('utf8')}\n[... ${omitted} bytes of output omitted ...]\n${tail.subarray(tailStart).toString('utf8')}`,
      truncated: true,
    };
  }
}

/** Length of `buf` without a trailing incomplete UTF-8 sequence. */
export function completeUtf8Length(buf: Buffer): number {
  let i = buf.length - 1;
  // Step back over up to 3 continuation bytes (10xxxxxx) to the sequence's lead byte.
  while (i >= 0 && buf.length - i <= 3 && (buf[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return buf.length;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i >= need ? buf.length : i;
}

/** Continuation bytes (at most 3) at the start of `buf`: the end of a character cut off before it. */
function leadingContinuationBytes(buf: Buffer): number {
  let i = 0;
  while (i < buf.length && i < 3 && (buf[i]! & 0xc0) === 0x80) i++;
  return i;
}
