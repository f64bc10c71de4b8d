// The failure limiter with a fake clock: keys by network, never evicts a throttled entry.
import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../src/auth/limiter.js';

function limiter(limit = 3, maxKeys = 100) {
  const clock = { now: 0 };
  return { l: new FailureLimiter(limit, 60_000, maxKeys, () => clock.now), clock };
}

describe('FailureLimiter keys by network', () => {
  it('every loopback address counts against one key', () => {
    const { l } = limiter(30);
    const got: number[] = [];
    for (let i = 0; i < 300; i++) got.push(l.fail(`127.0.0.${2 + (i % 10)}`));
    expect(got.slice(0, 30).every((r) => r === 0)).toBe(true);
    expect(got.slice(30).every((r) => r > 0)).toBe(true);
    expect(l.isThrottled('::1')).toBe(true);
    expect(l.isThrottled('::ffff:127.0.0.1')).toBe(true);
    expect(l.size).toBe(1);
  });

  it('IPv4 per address; IPv4-mapped IPv6 is the same address', () => {
    const { l } = limiter();
    for (let i = 0; i < 3; i++) l.fail('10.0.0.1');
    expect(l.fail('::ffff:10.0.0.1')).toBeGreaterThan(0);
    expect(l.fail('10.0.0.2')).toBe(0);
  });

  it('IPv6 per /64: rotating the interface half does not help; another /64 is separate', () => {
    const { l } = limiter();
    for (let i = 1; i <= 3; i++) expect(l.fail(`2001:db8:0:1::${i.toString(16)}`)).toBe(0);
    expect(l.fail('2001:db8:0:1:dead:beef:0:1')).toBeGreaterThan(0);
    expect(l.fail('2001:db8:0:2::1')).toBe(0);
  });
});

describe('FailureLimiter memory bound', () => {
  it('a flood of new keys never evicts a throttled one', () => {
    const { l, clock } = limiter(3, 100);
    for (let i = 0; i < 4; i++) l.fail('10.9.9.9');
    expect(l.isThrottled('10.9.9.9')).toBe(true);
    for (let i = 0; i < 50_000; i++) l.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(l.size).toBeLessThanOrEqual(100);
    expect(l.isThrottled('10.9.9.9')).toBe(true);
    clock.now = 59_000;
    expect(l.fail('10.9.9.9')).toBe(1);
  });

  it('evicts the least recently failing unthrottled key first', () => {
    const { l } = limiter(3, 3);
    l.fail('10.0.0.1');
    l.fail('10.0.0.2');
    l.fail('10.0.0.3');
    l.fail('10.0.0.1'); // now 10.0.0.2 is the least recent
    l.fail('10.0.0.4'); // evicts 10.0.0.2
    l.fail('10.0.0.1');
    expect(l.fail('10.0.0.1')).toBeGreaterThan(0); // its count survived: 4 failures
    expect(l.size).toBe(3);
    // 10.0.0.2 starts over.
    expect([l.fail('10.0.0.2'), l.fail('10.0.0.2'), l.fail('10.0.0.2')]).toEqual([0, 0, 0]);
  });

  it('when every entry is throttled, a new network waits until the earliest window ends; then it is freed', () => {
    const { l, clock } = limiter(1, 3);
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      clock.now += 1000;
      l.fail(a);
      expect(l.fail(a)).toBeGreaterThan(0);
    }
    expect(l.throttledCount).toBe(3);
    clock.now = 10_000;
    // 10.0.0.1's window (started at 1 s) ends at 61 s.
    expect(l.fail('10.0.0.9')).toBe(51);
    expect(l.size).toBe(3);
    expect(l.isThrottled('10.0.0.1')).toBe(true);
    clock.now = 61_000;
    expect(l.fail('10.0.0.9')).toBe(0);
    expect(l.isThrottled('10.0.0.1')).toBe(false);
    expect(l.isThrottled('10.0.0.2')).toBe(true);
    expect(l.size).toBe(3);
  });

  it('a throttled key whose window has ended starts a fresh window', () => {
    const { l, clock } = limiter(2);
    [0, 0, 0].forEach(() => l.fail('10.0.0.1'));
    expect(l.isThrottled('10.0.0.1')).toBe(true);
    clock.now = 60_000;
    expect(l.isThrottled('10.0.0.1')).toBe(false);
    expect([l.fail('10.0.0.1'), l.fail('10.0.0.1')]).toEqual([0, 0]);
    expect(l.fail('10.0.0.1')).toBe(60);
    expect(l.throttledCount).toBe(1);
  });
});
