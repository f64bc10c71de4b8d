// The filters `tether audit` and GET /audit share, and the reader that applies them across files.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { matches, parseAuditQuery, parseKinds, parseSince } from '../../src/audit/query.js';
import { readAudit } from '../../src/audit/reader.js';
import { actor, tempDir } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));
const NAMES = { since: '--since', token: '--token', kind: '--kind', limit: '--limit' };

describe('parsing', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  it('--since: durations back from now, ISO dates and times; anything else is refused naming what is accepted', () => {
    expect(parseSince('30m', '--since', now)).toBe(now - 30 * 60_000);
    expect(parseSince('1h', '--since', now)).toBe(now - 3_600_000);
    expect(parseSince('7d', '--since', now)).toBe(now - 7 * 86_400_000);
    expect(parseSince('2w', '--since', now)).toBe(now - 14 * 86_400_000);
    expect(parseSince('45s', '--since', now)).toBe(now - 45_000);
    expect(parseSince('2026-01-31', '--since', now)).toBe(Date.parse('2026-01-31'));
    expect(parseSince('2026-01-31T12:00Z', '--since', now)).toBe(Date.parse('2026-01-31T12:00Z'));
    expect(parseSince('2026-01-31T12:00:00+02:00', '--since', now)).toBe(Date.parse('2026-01-31T10:00:00Z'));
    for (const bad of ['', '1', 'h', '1y', '-1h', '1.5h', 'yesterday', '2026-13-45', '99999999d', '2026-01-31 junk', 'x'.repeat(10_000)]) {
      expect(() => parseSince(bad, '--since', now), bad).toThrow(/--since must be a duration back from now .* or an ISO 8601 date or time/);
    }
  });

  it('--kind: kinds and groups, comma-separated; an unknown one lists what is accepted', () => {
    expect(parseKinds('pty', '--kind')).toEqual(['pty.']);
    expect(parseKinds('shell.exit, auth', '--kind')).toEqual(['shell.exit', 'auth.']);
    expect(() => parseKinds('pty,nope', '--kind')).toThrow(/--kind: unknown kind "nope"; .*kinds server.start, .*pty.start.*or the groups server, token, pair/);
    expect(() => parseKinds('PTY', '--kind')).toThrow(/unknown kind/);
    expect(() => parseKinds('pty.', '--kind')).toThrow(/unknown kind/);
  });

  it('--limit and --token are bounded', () => {
    expect(parseAuditQuery({ limit: '5' }, NAMES).limit).toBe(5);
    expect(parseAuditQuery({}, NAMES).limit).toBe(1000);
    for (const bad of ['0', '-1', '10001', '1e3', ' ', 'ten'])
      expect(() => parseAuditQuery({ limit: bad }, NAMES), bad).toThrow(/--limit must be a whole number from 1 to 10000/);
    expect(() => parseAuditQuery({ token: 'a\u0000b' }, NAMES)).toThrow(/--token must be a token id or name .*no control characters/);
  });

  it('an exact kind does not match a longer one; a group matches its kinds only', () => {
    const e = (kind: string) => ({ time: '2026-01-01T00:00:00Z', kind, tokenId: 'tok_1', tokenName: 'n', address: 'a' });
    const q = (kind: string) => parseAuditQuery({ kind }, NAMES);
    expect(matches(e('auth.failure.summary'), q('auth.failure'))).toBe(false);
    expect(matches(e('auth.failure.summary'), q('auth'))).toBe(true);
    expect(matches(e('audit.lost'), q('auth'))).toBe(false);
    expect(matches(e('pty.exit'), q('pty'))).toBe(true);
  });
});

describe('readAudit', () => {
  function fill(opts: { maxBytes?: number; maxFiles?: number } = {}) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let now = Date.parse('2026-06-01T00:00:00Z');
    const audit = new AuditLog({ dir: t.dir, now: () => now, ...opts });
    cleanups.push(() => audit.close());
    // One event a minute for 300 minutes, alternating tokens and kinds.
    for (let i = 0; i < 300; i++) {
      const who = i % 3 === 0 ? actor('tok_a', 'alice') : actor('tok_b', 'bob');
      if (i % 10 === 0)
        audit.record('auth.failure.summary', actor(null, null, 'loopback'), { failures: i, notLoggedIndividually: 1, since: '', windowSeconds: 60 });
      else if (i % 2 === 0) audit.record('auth.failure', who, { reason: 'expired', via: 'bearer', method: 'GET', path: `/p${i}` });
      else audit.record('pty.start', who, { ptyId: `p${i}`, command: 'sh', args: [], cwd: '/' });
      now += 60_000;
    }
    return { dir: t.dir, end: now };
  }

  it('applies every filter across rotated files and keeps the newest `limit`, oldest first', async () => {
    const { dir, end } = fill({ maxBytes: 4000, maxFiles: 50 });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(5);
    const q = (input: Record<string, string>) => readAudit(dir, parseAuditQuery(input, NAMES, end));
    const all = await q({ limit: '10000' });
    expect(all.events).toHaveLength(300);
    expect(all.events.map((e) => Date.parse(e.time))).toEqual([...all.events.map((e) => Date.parse(e.time))].sort((a, b) => a - b));
    expect((await q({ kind: 'auth.failure' })).events.every((e) => e.kind === 'auth.failure')).toBe(true);
    expect((await q({ kind: 'auth.failure' })).events).toHaveLength(120);
    expect((await q({ kind: 'auth' })).events).toHaveLength(150);
    expect((await q({ token: 'alice' })).events.every((e) => e.tokenName === 'alice')).toBe(true);
    expect((await q({ token: 'tok_b' })).events.length).toBe(all.events.filter((e) => e.tokenId === 'tok_b').length);
    const recent = await q({ since: '30m' });
    expect(recent.events.map((e) => e.path ?? e.ptyId ?? e.failures)).toEqual(all.events.slice(-30).map((e) => e.path ?? e.ptyId ?? e.failures));
    const limited = await q({ limit: '7', kind: 'pty' });
    expect(limited.truncated).toBe(true);
    expect(limited.events.map((e) => e.ptyId)).toEqual(['p287', 'p289', 'p291', 'p293', 'p295', 'p297', 'p299']);
    expect((await q({ kind: 'pty', limit: '150' })).truncated).toBe(false);
  });

  it('stops at maxResultBytes, saying it was truncated', async () => {
    const { dir } = fill();
    const r = await readAudit(dir, parseAuditQuery({}, NAMES), { maxResultBytes: 2000 });
    expect(r.truncated).toBe(true);
    expect(JSON.stringify(r.events).length).toBeLessThan(2600);
    expect(r.events.at(-1)!.ptyId ?? r.events.at(-1)!.path).toBe('p299');
  });

  it('counts lines that are not events, and reads a directory that does not exist as empty', async () => {
    const { dir } = fill();
    fs.appendFileSync(
      path.join(dir, 'audit.jsonl'),
      'not json\n{"time":"x","kind":"y"}\n["array"]\n\n{"time":"2026-01-01T00:00:00Z","kind":"web.login"}\n{"tim',
    );
    const r = await readAudit(dir, parseAuditQuery({ limit: '10000' }, NAMES));
    expect(r.skippedLines).toBe(4);
    expect(r.events.at(-1)).toMatchObject({ kind: 'web.login', tokenId: null, tokenName: null, address: '' });
    expect(await readAudit(path.join(dir, 'nope'), parseAuditQuery({}, NAMES))).toEqual({ events: [], truncated: false, skippedLines: 0, position: null });
  });
});
