import { describe, expect, it } from 'vitest';
import { HeadCapture, HeadTailCapture } from '../../src/proc/capture.js';

describe('HeadTailCapture', () => {
  it('keeps head and tail within the cap and says how much was omitted', () => {
    const c = new HeadTailCapture(10);
    for (const s of ['0123456789', 'abcdefghij', 'ABCDE']) c.push(Buffer.from(s));
    expect(c.result()).toEqual({ output: '01234\n[... 15 bytes of output omitted ...]\nABCDE', truncated: true });
  });

  it('never cuts a UTF-8 character in half on either side of the cut', () => {
    const c = new HeadTailCapture(8);
    // 25 bytes (€ is 3): the head's 4 bytes end inside a €, the tail's 4 start inside one.
    c.push(Buffer.from('aa€€€€€€€b€', 'utf8'));
    expect(c.result()).toEqual({ output: 'aa\n[... 21 bytes of output omitted ...]\nb€', truncated: true });
    const d = new HeadTailCapture(8);
    d.push(Buffer.from('aa€€€€€€€€€', 'utf8'));
    expect(d.result()).toEqual({ output: 'aa\n[... 24 bytes of output omitted ...]\n€', truncated: true });
  });

  it('is exact below the cap', () => {
    const c = new HeadTailCapture(100);
    c.push(Buffer.from('héllo'));
    expect(c.result()).toEqual({ output: 'héllo', truncated: false });
  });
});

describe('HeadCapture', () => {
  it('keeps the head and counts the rest', () => {
    const c = new HeadCapture(3);
    c.push(Buffer.from('abcdef'));
    expect(c.text()).toBe('abc\n[output truncated: 3 bytes omitted]');
  });
});
