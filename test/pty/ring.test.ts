import { describe, expect, it } from 'vitest';
import { ScrollbackRing } from '../../src/pty/ring.js';

describe('ScrollbackRing', () => {
  it('keeps everything below capacity, in order', () => {
    const r = new ScrollbackRing(100);
    r.push(Buffer.from('abc'));
    r.push(Buffer.from(''));
    r.push(Buffer.from('def'));
    expect(r.snapshot().toString()).toBe('abcdef');
    expect(r.byteLength).toBe(6);
  });

  it('keeps only the most recent bytes across wraps and growth', () => {
    const cap = 50_000;
    const r = new ScrollbackRing(cap);
    let all = '';
    for (let i = 0; i < 5000; i++) {
      const s = `line ${i} ${'x'.repeat(i % 37)}\n`;
      all += s;
      r.push(Buffer.from(s));
    }
    expect(r.byteLength).toBe(cap);
    expect(r.snapshot().toString()).toBe(all.slice(-cap));
  });

  it('keeps the tail of a chunk larger than the capacity', () => {
    const r = new ScrollbackRing(10);
    r.push(Buffer.from('0123456789abcdef'));
    expect(r.snapshot().toString()).toBe('6789abcdef');
    r.push(Buffer.from('XY'));
    expect(r.snapshot().toString()).toBe('89abcdefXY');
  });

  it('never starts a replay in the middle of a UTF-8 character', () => {
    const r = new ScrollbackRing(10);
    // '€' is 3 bytes: 4 of them are 12 bytes, so 2 bytes of the first one are dropped.
    r.push(Buffer.from('€€€€'));
    const snap = r.snapshot();
    expect(snap.toString('utf8')).toBe('€€€');
    expect(snap.equals(Buffer.from('€€€'))).toBe(true);
  });

  it('returns a copy unaffected by later pushes', () => {
    const r = new ScrollbackRing(4);
    r.push(Buffer.from('ab'));
    const snap = r.snapshot();
    r.push(Buffer.from('cdef'));
    expect(snap.toString()).toBe('ab');
    expect(r.snapshot().toString()).toBe('cdef');
  });
});
