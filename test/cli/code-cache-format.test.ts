// The wrapper around serve's code cache (src/cli/code-cache-format.ts): only intact data of the
// same build reaches V8.
import { describe, expect, it } from 'vitest';
import { buildIdOf, buildLine, packCache, unpackCache } from '../../src/cli/code-cache-format.js';

const ID = '0123456789abcdef0123456789abcdef';
const DATA = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31 + 7) & 0xff));

describe('code cache format', () => {
  it("round-trips, and names the build on the bundle's first line", () => {
    expect(unpackCache(ID, packCache(ID, DATA))).toEqual({ data: DATA });
    expect(buildIdOf(`${buildLine(ID)}\nconst x = 1;`)).toBe(ID);
  });

  it('refuses every single-byte change, anywhere', () => {
    const packed = packCache(ID, DATA);
    for (let i = 0; i < packed.length; i++) {
      const bad = Buffer.from(packed);
      bad[i] ^= 1 << (i % 8);
      expect('refused' in unpackCache(ID, bad), `byte ${i}`).toBe(true);
    }
  });

  it('refuses every truncation, and what is longer than it was', () => {
    const packed = packCache(ID, DATA);
    for (let n = 0; n < packed.length; n += 97) expect('refused' in unpackCache(ID, packed.subarray(0, n)), `${n} bytes`).toBe(true);
    expect(unpackCache(ID, Buffer.concat([packed, Buffer.from([0])]))).toEqual({ refused: 'damaged (checksum)' });
  });

  it("refuses another build's cache, and what is not one", () => {
    expect(unpackCache('f'.repeat(32), packCache(ID, DATA))).toEqual({ refused: 'made by another build' });
    expect(unpackCache(ID, DATA)).toEqual({ refused: 'not a tether code cache' });
    expect(unpackCache(ID, Buffer.alloc(0))).toEqual({ refused: 'not a tether code cache' });
    // A header with no data after it is nothing to give V8.
    expect(unpackCache(ID, packCache(ID, Buffer.alloc(0)))).toEqual({ refused: 'not a tether code cache' });
  });

  it('a bundle without the build line, or with a malformed one, names no build', () => {
    for (const source of [
      'const x = 1;',
      `// tether build ${ID.toUpperCase()}\n`,
      `// tether build ${ID.slice(1)}\n`,
      ` ${buildLine(ID)}\n`,
      `${buildLine(ID)}0\n`,
    ]) {
      expect(buildIdOf(source), source).toBeNull();
    }
    expect(() => buildLine('xyz')).toThrow(/32 lowercase hex digits/);
  });
});
