// Collapsed authentication-failure logging, with a fake clock.
import { describe, expect, it } from 'vitest';
import { collapseAuthFailures } from '../../src/server/failure-log.js';
import type { LogLevel } from '../../src/log.js';

function setup(opts: { maxKeys?: number } = {}) {
  const lines: { level: LogLevel; event: string; [k: string]: unknown }[] = [];
  const clock = { now: 1_000_000 };
  const log = collapseAuthFailures(
    { log: (level, event, fields = {}) => lines.push({ level, event, ...fields }) },
    { now: () => clock.now, flushEveryMs: 0, ...opts },
  );
  const fail = (address: string, n = 1) => {
    for (let i = 0; i < n; i++) log.log('warn', 'auth.failure', { reason: 'unknown', address, path: '/auth/whoami' });
  };
  const of = (event: string) => lines.filter((l) => l.event === event);
  return { log, lines, clock, fail, of };
}

describe('collapsed auth.failure logging', () => {
  it('the first 10 per key per minute are logged, the rest become one summary when the minute ends', () => {
    const { log, clock, fail, of } = setup();
    fail('10.0.0.1', 25);
    expect(of('auth.failure')).toHaveLength(10);
    expect(of('auth.failure.summary')).toHaveLength(0);
    clock.now += 59_999;
    log.flush();
    expect(of('auth.failure.summary')).toHaveLength(0);
    clock.now += 1;
    log.flush();
    expect(of('auth.failure.summary')).toEqual([
      expect.objectContaining({ level: 'warn', key: '10.0.0.1', failures: 25, notLoggedIndividually: 15, windowSeconds: 60 }),
    ]);
    // A new minute: 10 individual lines again.
    fail('10.0.0.1', 12);
    expect(of('auth.failure')).toHaveLength(20);
    log.stop();
    expect(of('auth.failure.summary')).toHaveLength(2);
    expect(of('auth.failure.summary')[1]).toMatchObject({ failures: 12, notLoggedIndividually: 2 });
  });

  it('keys by network: 127.0.0.2-11 are one key; other networks count separately', () => {
    const { log, fail, of } = setup();
    for (let i = 0; i < 300; i++) fail(`127.0.0.${2 + (i % 10)}`);
    fail('2001:db8::1', 5);
    fail('2001:db8::2', 5);
    fail('2001:db8:0:1::1', 3);
    expect(of('auth.failure')).toHaveLength(10 + 10 + 3);
    log.stop();
    expect(of('auth.failure.summary')).toEqual([expect.objectContaining({ key: 'loopback', failures: 300, notLoggedIndividually: 290 })]);
  });

  it('a summary is written when the next failure comes after the minute, even without a flush', () => {
    const { clock, fail, of } = setup();
    fail('10.0.0.1', 11);
    clock.now += 60_000;
    fail('10.0.0.1');
    expect(of('auth.failure.summary')).toEqual([expect.objectContaining({ failures: 11, notLoggedIndividually: 1 })]);
    expect(of('auth.failure')).toHaveLength(11);
  });

  it('no summary when nothing was held back', () => {
    const { log, fail, of } = setup();
    fail('10.0.0.1', 10);
    log.stop();
    expect(of('auth.failure.summary')).toHaveLength(0);
  });

  it('rotating keys cannot flood it: beyond maxKeys they share one overflow summary', () => {
    const { log, fail, of, lines } = setup({ maxKeys: 50 });
    for (let i = 0; i < 5000; i++) fail(`2001:db8:${i.toString(16)}::1`, 20);
    expect(of('auth.failure')).toHaveLength(50 * 10);
    log.stop();
    const summaries = of('auth.failure.summary');
    expect(summaries).toHaveLength(51);
    expect(summaries.at(-1)).toMatchObject({ key: '(other networks)', failures: 4950 * 20, distinctKeys: 4950 });
    expect(lines.length).toBeLessThanOrEqual(50 * 11 + 1);
  });

  it('other events pass straight through', () => {
    const { log, lines } = setup();
    for (let i = 0; i < 50; i++) log.log('info', 'token.first_use', { tokenId: `tok_${i}` });
    expect(lines).toHaveLength(50);
  });
});
