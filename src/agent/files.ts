import type { FileHandle } from 'node:fs/promises';

// Reading for the agent's tools, in bounded memory, from a handle that src/fs/io.ts opened and
// verified (inside the session directory, not reserved, a regular file). Writes go through
// src/fs/io.ts's writeFileConfined.

export interface LineWindow {
  content: string;
  /** First line returned (1-based). */
  startLine: number;
  /** Last line returned (fully or partly); startLine - 1 when nothing was returned. */
  endLine: number;
  /** True when the file continues after `endLine` or a line was cut. */
  truncated: boolean;
  /** Set when truncated: the `offset` to continue from. */
  nextOffset?: number;
  /** Set when the end of the file was reached. */
  totalLines?: number;
}

/** Does the start of the file look binary (a NUL byte in the first 8 KiB)? */
export async function looksBinary(fh: FileHandle): Promise<boolean> {
  const buf = Buffer.alloc(8192);
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  return buf.subarray(0, bytesRead).includes(0);
}

/**
 * Lines `offset .. offset+limit-1` (1-based) of a text file, at most `maxBytes` of them, streaming
 * so a huge file or a huge single line costs no more memory than the window itself.
 * Line endings are kept exactly, so the text can be copied into `edit_file`'s old_string.
 */
export async function readLineWindow(fh: FileHandle, offset: number, limit: number, maxBytes: number): Promise<LineWindow> {
  const out: Buffer[] = [];
  let outBytes = 0;
  let line = 1; // number of the line being read
  let seen = 0; // bytes of the current line read so far
  let lineStart = 0; // outBytes where the current line began
  let windowFull = false; // line `offset + limit - 1` has been read completely
  const lastWanted = offset + limit - 1;

  const result = (keepBytes: number, endLine: number, truncated: boolean, totalLines?: number): LineWindow => ({
    content: Buffer.concat(out).subarray(0, keepBytes).toString('utf8'),
    startLine: offset,
    endLine,
    truncated,
    ...(truncated ? { nextOffset: endLine + 1 } : {}),
    ...(totalLines !== undefined ? { totalLines } : {}),
  });

  // The caller owns (and closes) the handle.
  const stream = fh.createReadStream({ start: 0, highWaterMark: 64 * 1024, autoClose: false });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let pos = 0;
      while (pos < chunk.length) {
        if (windowFull) return result(outBytes, lastWanted, true);
        const nl = chunk.indexOf(10, pos);
        const end = nl === -1 ? chunk.length : nl + 1;
        const piece = chunk.subarray(pos, end);
        if (line >= offset) {
          if (outBytes + piece.length > maxBytes) {
            // Out of budget. Stop before this line, unless it is the first one: then show its start.
            if (lineStart > 0) return result(lineStart, line - 1, true);
            out.push(piece.subarray(0, maxBytes - outBytes));
            return result(maxBytes, line, true);
          }
          out.push(piece);
          outBytes += piece.length;
        }
        seen += piece.length;
        pos = end;
        if (nl !== -1) {
          if (line === lastWanted) windowFull = true;
          line++;
          seen = 0;
          lineStart = outBytes;
        }
      }
    }
    // End of file; a last line without a newline still counts.
    const total = seen > 0 ? line : line - 1;
    return result(outBytes, Math.min(total, lastWanted), false, total);
  } finally {
    stream.destroy();
  }
}
