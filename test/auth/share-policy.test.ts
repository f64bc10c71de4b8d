// The share token's policy (SHARE_RULES and shareDecision in src/auth/policy.ts), its event filter,
// its view-only rule, its expiry spec, and how a share token is written. Pure except the last part,
// which writes a token file in a temp dir.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTE_RULES, SHARE_RULES, mayHoldWebLogin, shareDecision, shareEventVisible, viewOnlyConnection, type ShareTarget } from '../../src/auth/policy.js';
import { createShareToken, shareLink } from '../../src/auth/share.js';
import { createToken } from '../../src/auth/token-admin.js';
import { SHARE_MAX_EXPIRY_MS, parseShareExpiry } from '../../src/auth/spec.js';
import { readTokenFile } from '../../src/auth/token-file.js';
import { tempEnv } from '../helpers/env.js';

const PTY: ShareTarget = { type: 'pty', id: 'pty_0123456789abcdef' };
const SES: ShareTarget = { type: 'session', id: 'ses_3q2ZK7m9TgWv0xYbL1cR8A' };
const OTHER_PTY = 'pty_fedcba9876543210';
const OTHER_SES = 'ses_AAAAAAAAAAAAAAAAAAAAAA';

const decide = (target: ShareTarget | undefined, method: string, path: string, upgrade = false) => shareDecision(target, { method, path, upgrade });
const allowed = { ok: true, needs: ['read'] };

describe('shareDecision: what a share token reaches', () => {
  it('a terminal share: whoami, the event stream, its terminal and its terminal stream (GET and HEAD)', () => {
    for (const m of ['GET', 'HEAD']) {
      expect(decide(PTY, m, '/auth/whoami')).toEqual(allowed);
      expect(decide(PTY, m, '/event')).toEqual(allowed);
      expect(decide(PTY, m, `/pty/${PTY.id}`)).toEqual(allowed);
      expect(decide(PTY, m, `/pty/${PTY.id}/connect`)).toEqual(allowed);
    }
    expect(decide(PTY, 'GET', `/pty/${PTY.id}/connect`, true)).toEqual(allowed);
  });

  it('a session share: whoami, the event stream, its session and its messages', () => {
    for (const m of ['GET', 'HEAD']) {
      expect(decide(SES, m, '/auth/whoami')).toEqual(allowed);
      expect(decide(SES, m, `/session/${SES.id}`)).toEqual(allowed);
      expect(decide(SES, m, `/session/${SES.id}/message`)).toEqual(allowed);
    }
  });

  it('the same routes for another terminal or session are 404, worded as the route words an unknown id', () => {
    expect(decide(PTY, 'GET', `/pty/${OTHER_PTY}`)).toEqual({ ok: false, status: 404, code: 'not_found', message: `terminal "${OTHER_PTY}" not found` });
    expect(decide(PTY, 'GET', `/pty/${OTHER_PTY}/connect`, true)).toMatchObject({ ok: false, status: 404 });
    expect(decide(SES, 'GET', `/session/${OTHER_SES}`)).toEqual({
      ok: false,
      status: 404,
      code: 'session_not_found',
      message: `session "${OTHER_SES}" not found`,
    });
    expect(decide(SES, 'GET', `/session/${OTHER_SES}/message`)).toMatchObject({ ok: false, status: 404 });
    // Case matters (the router's ids are case-sensitive): another id.
    expect(decide(PTY, 'GET', `/pty/${PTY.id.toUpperCase()}`)).toMatchObject({ status: 404 });
  });

  it('everything else is 403 outside_share: writes, lists, other resources, the other kind of target, settings, files, tickets, shares', () => {
    const refused: [ShareTarget, string, string, boolean?][] = [
      [PTY, 'GET', '/pty'],
      [PTY, 'POST', '/pty'],
      [PTY, 'PUT', `/pty/${PTY.id}`],
      [PTY, 'DELETE', `/pty/${PTY.id}`],
      [PTY, 'POST', `/pty/${PTY.id}/ticket`],
      [PTY, 'POST', `/pty/${PTY.id}/share`],
      [PTY, 'OPTIONS', `/pty/${PTY.id}`],
      [PTY, 'GET', `/session/${PTY.id}`],
      [PTY, 'GET', `/session/${SES.id}`],
      [SES, 'GET', `/pty/${PTY.id}`],
      [SES, 'GET', `/pty/${SES.id}/connect`, true],
      [SES, 'GET', '/session'],
      [SES, 'POST', `/session/${SES.id}/message`],
      [SES, 'POST', `/session/${SES.id}/shell`],
      [SES, 'POST', `/session/${SES.id}/abort`],
      [SES, 'PATCH', `/session/${SES.id}`],
      [SES, 'DELETE', `/session/${SES.id}`],
      [SES, 'POST', `/session/${SES.id}/share`],
      [PTY, 'GET', '/config'],
      [PTY, 'PATCH', '/config'],
      [PTY, 'GET', '/file'],
      [PTY, 'GET', '/file/content'],
      [PTY, 'GET', '/find'],
      [PTY, 'GET', '/find/file'],
      [PTY, 'GET', '/doc'],
      [PTY, 'GET', '/nothing/here'],
      // Upgrades only on the terminal stream.
      [PTY, 'GET', '/auth/whoami', true],
      [PTY, 'GET', '/event', true],
      [PTY, 'GET', `/pty/${PTY.id}`, true],
      // Near misses of an allowed path.
      [PTY, 'GET', `/pty/${PTY.id}/connect/x`],
      [PTY, 'GET', `/PTY/${PTY.id}`],
      [PTY, 'GET', `/pty/${PTY.id}/`],
      [PTY, 'GET', '/pty//connect'],
      [PTY, 'GET', '/auth/whoami/x'],
      [PTY, 'GET', '/'],
    ];
    for (const [t, m, p, up] of refused) {
      const d = decide(t, m, p, up);
      expect(d, `${t.type} share: ${up ? 'WS ' : ''}${m} ${p}`).toMatchObject({ ok: false, status: 403, code: 'outside_share' });
    }
  });

  it('a share record without a target reaches nothing (never fails open)', () => {
    for (const p of ['/auth/whoami', '/event', `/pty/${PTY.id}`]) expect(decide(undefined, 'GET', p)).toMatchObject({ ok: false, status: 403 });
  });

  it('every share rule is a GET route of the route table (so the route-coverage tests see it)', () => {
    for (const r of SHARE_RULES)
      expect(
        ROUTE_RULES.some((x) => x.method === 'GET' && x.path === r.path),
        r.path,
      ).toBe(true);
    expect(SHARE_RULES.filter((r) => r.upgrade).map((r) => r.path)).toEqual(['/pty/:id/connect']);
  });

  it('creating a share link needs read + write + execute on the resource', () => {
    for (const p of ['/pty/:id/share', '/session/:id/share'])
      expect(ROUTE_RULES.find((r) => r.method === 'POST' && r.path === p)?.needs).toEqual(['read', 'write', 'execute']);
  });
});

describe('shareEventVisible', () => {
  const ev = (type: string, properties: Record<string, unknown>) => ({ type, properties });
  it('a terminal share sees its own terminal events only', () => {
    expect(shareEventVisible(PTY, ev('pty.updated', { info: { id: PTY.id } }))).toBe(true);
    expect(shareEventVisible(PTY, ev('pty.created', { info: { id: PTY.id } }))).toBe(true);
    expect(shareEventVisible(PTY, ev('pty.exited', { id: PTY.id, exitCode: 0 }))).toBe(true);
    expect(shareEventVisible(PTY, ev('pty.deleted', { id: PTY.id }))).toBe(true);
    expect(shareEventVisible(PTY, ev('pty.updated', { info: { id: OTHER_PTY } }))).toBe(false);
    expect(shareEventVisible(PTY, ev('pty.exited', { id: OTHER_PTY }))).toBe(false);
    // An event that would name the id elsewhere does not count.
    expect(shareEventVisible(PTY, ev('pty.updated', { info: { id: OTHER_PTY }, id: PTY.id }))).toBe(false);
    expect(shareEventVisible(PTY, ev('pty.updated', {}))).toBe(false);
    expect(shareEventVisible(PTY, ev('session.updated', { session: { id: PTY.id } }))).toBe(false);
    expect(shareEventVisible(PTY, ev('config.updated', { keys: ['shell'] }))).toBe(false);
  });
  it('a session share sees its own session and message events only', () => {
    expect(shareEventVisible(SES, ev('session.updated', { session: { id: SES.id } }))).toBe(true);
    expect(shareEventVisible(SES, ev('session.deleted', { sessionId: SES.id }))).toBe(true);
    expect(shareEventVisible(SES, ev('message.part.delta', { sessionId: SES.id, text: 'x' }))).toBe(true);
    expect(shareEventVisible(SES, ev('message.completed', { sessionId: OTHER_SES }))).toBe(false);
    expect(shareEventVisible(SES, ev('session.created', { session: { id: OTHER_SES } }))).toBe(false);
    expect(shareEventVisible(SES, ev('pty.exited', { id: SES.id }))).toBe(false);
    expect(shareEventVisible(SES, ev('config.updated', {}))).toBe(false);
    expect(shareEventVisible(SES, ev('messagex', { sessionId: SES.id }))).toBe(false);
  });
});

describe('view only and web logins', () => {
  it('a share token is always view only; another token when it asks', () => {
    expect(viewOnlyConnection(PTY, false)).toBe(true);
    expect(viewOnlyConnection(PTY, true)).toBe(true);
    expect(viewOnlyConnection(undefined, true)).toBe(true);
    expect(viewOnlyConnection(undefined, false)).toBe(false);
  });
  it('a share token cannot hold a web login', () => {
    expect(mayHoldWebLogin('share')).toBe(false);
    expect(mayHoldWebLogin(undefined)).toBe(true);
    expect(mayHoldWebLogin('device')).toBe(true);
  });
});

describe('parseShareExpiry', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it('defaults to one hour and takes the token-create syntax', () => {
    expect(parseShareExpiry(undefined, now)).toBe('2026-12-01T13:00:00.000Z');
    expect(parseShareExpiry('15m', now)).toBe('2026-12-01T12:15:00.000Z');
    expect(parseShareExpiry('7d', now)).toBe(new Date(now + SHARE_MAX_EXPIRY_MS).toISOString());
    expect(parseShareExpiry('1w', now)).toBe(new Date(now + SHARE_MAX_EXPIRY_MS).toISOString());
    expect(parseShareExpiry('2026-12-03T00:00:00Z', now)).toBe('2026-12-03T00:00:00.000Z');
    expect(parseShareExpiry('2026-12-02', now)).toBe('2026-12-02T00:00:00.000Z');
  });
  it('refuses never, more than 7 days, the past and nonsense, saying what is accepted', () => {
    const accepted = /at most 7 days away/;
    for (const bad of ['never', 'NEVER', '8d', '169h', '2w', '1y', '2026-12-09', '2026-12-08T12:00:01Z', '0m', '-1h', '2026-11-30', 'soon', '', '1 h'])
      expect(() => parseShareExpiry(bad, now), bad).toThrow(accepted);
    expect(() => parseShareExpiry('never', now)).toThrow(/always expires/);
    expect(() => parseShareExpiry('8d', now)).toThrow(/more than 7 days/);
  });
});

describe('a share link never outlives the token that made it', () => {
  it("the default is cut to the creator's expiry; a longer asked-for one is refused (403) and writes nothing", async () => {
    const env = tempEnv();
    try {
      const now = Date.now();
      const soon = new Date(now + 20 * 60_000).toISOString();
      const cut = await createShareToken({ target: PTY, creatorExpiresAt: soon }, env.tokenFile, now);
      expect(cut.record.expiresAt).toBe(soon);
      expect((await createShareToken({ target: PTY, expires: '15m', creatorExpiresAt: soon }, env.tokenFile, now)).record.expiresAt).toBe(
        new Date(now + 15 * 60_000).toISOString(),
      );
      await expect(createShareToken({ target: PTY, expires: '1h', creatorExpiresAt: soon }, env.tokenFile, now)).rejects.toMatchObject({
        status: 403,
        code: 'expiry_exceeds_token',
      });
      expect((await readTokenFile(env.tokenFile)).tokens).toHaveLength(2);
      // A creator that never expires: the share's own limits only.
      expect((await createShareToken({ target: PTY, expires: '7d', creatorExpiresAt: null }, env.tokenFile, now)).record.expiresAt).toBe(
        new Date(now + 7 * 86_400_000).toISOString(),
      );
    } finally {
      env.cleanup();
    }
  });
});

describe('createShareToken', () => {
  it('writes a read-only share token bound to its target, under a generated or given name', async () => {
    const env = tempEnv();
    try {
      const now = Date.now();
      const a = await createShareToken({ target: PTY }, env.tokenFile, now);
      const b = await createShareToken({ target: SES, expires: '2d', name: 'for-alice' }, env.tokenFile, now);
      expect(a.token).toMatch(/^tether_[0-9A-Za-z]{28}$/);
      expect(a.record).toMatchObject({ kind: 'share', target: PTY, permissions: ['read'], expiresAt: new Date(now + 3_600_000).toISOString() });
      expect(a.record.name).toMatch(/^share-pty_0123456789abcdef-[0-9a-f]{6}$/);
      expect(b.record).toMatchObject({ name: 'for-alice', kind: 'share', target: SES, expiresAt: new Date(now + 2 * 86_400_000).toISOString() });
      const file = await readTokenFile(env.tokenFile);
      expect(file.version).toBe(2);
      expect(file.tokens.map((t) => t.id)).toEqual([a.record.id, b.record.id]);
      // Never the secret on disk.
      expect(fs.readFileSync(env.tokenFile, 'utf8')).not.toContain(a.token);
      // A bad expiry writes nothing.
      await expect(createShareToken({ target: PTY, expires: 'never' }, env.tokenFile)).rejects.toThrow(/always expires/);
      expect((await readTokenFile(env.tokenFile)).tokens).toHaveLength(2);
    } finally {
      env.cleanup();
    }
  });

  it('drops expired share tokens (and only those) when the next one is made, and caps the live ones', async () => {
    const env = tempEnv();
    try {
      const past = new Date(Date.now() - 1000).toISOString();
      await createToken({ name: 'old-share', permissions: ['read'], expiresAt: past, kind: 'share', target: PTY }, env.tokenFile);
      await createToken({ name: 'old-ordinary', permissions: ['read'], expiresAt: past }, env.tokenFile);
      await createShareToken({ target: PTY, name: 'live-1' }, env.tokenFile, Date.now(), 2);
      expect((await readTokenFile(env.tokenFile)).tokens.map((t) => t.name)).toEqual(['old-ordinary', 'live-1']);
      await createShareToken({ target: SES, name: 'live-2' }, env.tokenFile, Date.now(), 2);
      await expect(createShareToken({ target: SES, name: 'live-3' }, env.tokenFile, Date.now(), 2)).rejects.toMatchObject({
        status: 409,
        code: 'too_many_shares',
      });
      expect((await readTokenFile(env.tokenFile)).tokens.map((t) => t.name)).toEqual(['old-ordinary', 'live-1', 'live-2']);
    } finally {
      env.cleanup();
    }
  });

  it('the link carries the token in the fragment only', () => {
    expect(shareLink('http://127.0.0.1:4096', 'tether_x')).toBe('http://127.0.0.1:4096/share#tether_x');
    expect(shareLink('https://h:1/', 'tether_x')).toBe('https://h:1/share#tether_x');
  });
});
