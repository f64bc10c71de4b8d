// The one-time ticket store with an injected clock: lifetime, single use, scope, bounds.
import { describe, expect, it } from 'vitest';
import { TicketStore } from '../../src/auth/tickets.js';

function store(opts: ConstructorParameters<typeof TicketStore>[0] = {}) {
  let now = 1_000_000;
  const s = new TicketStore({ now: () => now, ...opts });
  return { s, advance: (ms: number) => (now += ms), now: () => now };
}

describe('TicketStore', () => {
  it('issues 256-bit random tickets valid for 30 s', () => {
    const { s, now } = store();
    const a = s.issue('tok_a', '/pty/x/connect');
    const b = s.issue('tok_a', '/pty/x/connect');
    expect(a.ticket).toMatch(/^tkt_[A-Za-z0-9_-]{43}$/);
    expect(a.ticket).not.toBe(b.ticket);
    expect(a.expiresAt).toBe(now() + 30_000);
  });

  it('redeems once, for its scope, within its lifetime', () => {
    const { s, advance } = store();
    const { ticket } = s.issue('tok_a', '/pty/x/connect');
    advance(29_999);
    expect(s.redeem(ticket, '/pty/x/connect')).toEqual({ ok: true, tokenId: 'tok_a' });
    expect(s.redeem(ticket, '/pty/x/connect')).toMatchObject({ ok: false, problem: expect.stringMatching(/already used/) });
  });

  it('refuses an expired ticket (at exactly 30 s)', () => {
    const { s, advance } = store();
    const { ticket } = s.issue('tok_a', '/pty/x/connect');
    advance(30_000);
    expect(s.redeem(ticket, '/pty/x/connect').ok).toBe(false);
    expect(s.size).toBe(0);
  });

  it('refuses another scope and burns the ticket', () => {
    const { s } = store();
    const { ticket } = s.issue('tok_a', '/pty/x/connect');
    expect(s.redeem(ticket, '/pty/y/connect')).toMatchObject({ ok: false, problem: expect.stringMatching(/issued for \/pty\/x\/connect/) });
    expect(s.redeem(ticket, '/pty/x/connect').ok).toBe(false);
  });

  it('refuses malformed and unknown tickets', () => {
    const { s } = store();
    expect(s.redeem('nope', '/pty/x/connect')).toMatchObject({ ok: false, problem: expect.stringMatching(/malformed/) });
    expect(s.redeem(`tkt_${'a'.repeat(43)}`, '/pty/x/connect').ok).toBe(false);
  });

  it('drops the tickets of a gone token, and of a deleted terminal', () => {
    const { s } = store();
    const a = s.issue('tok_a', '/pty/x/connect');
    const b = s.issue('tok_b', '/pty/x/connect');
    const c = s.issue('tok_b', '/pty/y/connect');
    expect(s.dropToken('tok_a')).toBe(1);
    expect(s.redeem(a.ticket, '/pty/x/connect').ok).toBe(false);
    expect(s.dropScope('/pty/y/connect')).toBe(1);
    expect(s.redeem(c.ticket, '/pty/y/connect').ok).toBe(false);
    expect(s.redeem(b.ticket, '/pty/x/connect').ok).toBe(true);
  });

  it('is bounded: expired tickets are swept, a token keeps at most maxPerToken, the total is capped', () => {
    const { s, advance } = store({ maxPerToken: 3, maxTickets: 5 });
    const first = s.issue('tok_a', '/p');
    for (let i = 0; i < 3; i++) s.issue('tok_a', '/p');
    expect(s.size).toBe(3);
    expect(s.redeem(first.ticket, '/p').ok).toBe(false); // evicted: the token's oldest
    s.issue('tok_b', '/p');
    s.issue('tok_c', '/p');
    expect(() => s.issue('tok_d', '/p')).toThrow(/too many outstanding tickets/);
    advance(30_000);
    s.issue('tok_d', '/p');
    expect(s.size).toBe(1);
  });
});
