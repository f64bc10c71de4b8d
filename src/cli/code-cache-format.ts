// The file around serve's V8 code cache (code-cache.ts). V8 checks only its own version, flags and the
// source's length before running cached code, and a release build does not checksum it: a flipped
// bit crashes the process (seen: "Fatal error ... unreachable code"), and a cache from another build
// of the same length would run stale code. So the cache is wrapped: a magic, the build id it was made
// from (the bundle's first line names its build), and a CRC32 of the data, all checked before V8
// sees a byte. Integrity, not secrecy: the file has the bundle's own trust (code-cache.ts says why).
import zlib from 'node:zlib';

const MAGIC = Buffer.from('TTHRV8C1', 'latin1');
const ID_BYTES = 16;
const HEADER_BYTES = MAGIC.length + ID_BYTES + 4;

/** The bundle's first line, written by scripts/bundle-cli.js: `// tether build <32 hex digits>`. */
const BUILD_LINE = /^\/\/ tether build ([0-9a-f]{32})\n/;

export function buildLine(id: string): string {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new RangeError(`a build id is 32 lowercase hex digits, got ${JSON.stringify(id)}`);
  return `// tether build ${id}`;
}

/** The build id named on the bundle's first line, or null if it names none. */
export function buildIdOf(source: string): string | null {
  return BUILD_LINE.exec(source.slice(0, 64))?.[1] ?? null;
}

export function packCache(buildId: string, data: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.write(buildId, MAGIC.length, ID_BYTES, 'hex');
  header.writeUInt32BE(zlib.crc32(data), MAGIC.length + ID_BYTES);
  return Buffer.concat([header, data]);
}

export type Unpacked = { data: Buffer } | { refused: string };

/** The data for V8, or why not: not ours, of another build, or damaged. */
export function unpackCache(buildId: string, file: Buffer): Unpacked {
  if (file.length <= HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return { refused: 'not a tether code cache' };
  if (file.toString('hex', MAGIC.length, MAGIC.length + ID_BYTES) !== buildId) return { refused: 'made by another build' };
  const data = file.subarray(HEADER_BYTES);
  if (zlib.crc32(data) !== file.readUInt32BE(MAGIC.length + ID_BYTES)) return { refused: 'damaged (checksum)' };
  return { data };
}
