// The fast check in canonicalPath must never change a result: every path it accepts is one the
// full pass returns unchanged, and every path it rejects still gets the full pass.
import { describe, expect, it } from 'vitest';
import { canonicalPath, canonicalPathSlow, isAlreadyCanonical } from '../../src/auth/canonical-path.js';

const TRICKY = ['/', '/', '/', 'a', 'pty', '.', '..', '%', '2F', '%2e', '%2F', '\\', '\u0000', '\n', '\u007f', '\u0085', 'é', '\u2028', '?', '#', ' ', '~'];

function randomPath(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 10);
  let s = rand() < 0.9 ? '/' : '';
  for (let i = 0; i < n; i++) s += TRICKY[Math.floor(rand() * TRICKY.length)];
  return s;
}

// Deterministic PRNG (mulberry32) so a failure reproduces.
function prng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('canonicalPath fast check', () => {
  it('agrees with the full pass on 200,000 random tricky paths', () => {
    const rand = prng(15);
    for (let i = 0; i < 200_000; i++) {
      const p = randomPath(rand);
      expect(canonicalPath(p), JSON.stringify(p)).toEqual(canonicalPathSlow(p));
      if (isAlreadyCanonical(p)) expect(canonicalPathSlow(p)).toEqual({ ok: true, path: p });
    }
  });

  it('accepts only plain paths, and sends every kind of oddity to the full pass', () => {
    for (const p of ['/', '/auth/whoami', '/pty/abc/connect', '/ui/app.js', '/a.b/..c/...']) expect(isAlreadyCanonical(p), p).toBe(true);
    for (const p of [
      '',
      'auth',
      '//pty',
      '/pty/',
      '/file/../pty',
      '/./pty',
      '/..',
      '/.',
      '/%70ty',
      '/a\\b',
      '/a\u0000b',
      '/a\nb',
      '/a\u007fb',
      '/' + 'a'.repeat(8192),
    ]) {
      expect(isAlreadyCanonical(p), JSON.stringify(p.slice(0, 20))).toBe(false);
    }
    expect(canonicalPath('/file/../pty')).toEqual({ ok: true, path: '/pty' });
    expect(canonicalPath('/%70ty/')).toEqual({ ok: true, path: '/pty' });
    expect(canonicalPath('/a%00b').ok).toBe(false);
    expect(canonicalPath('/' + 'a'.repeat(8192)).ok).toBe(false);
  });
});

describe('router path and guard path', () => {
  it('the guard reads exactly what the router matched, for the same Request; a fresh Request is computed', async () => {
    const { getCanonicalPath, pathInfo } = await import('../../src/auth/router-path.js');
    const req = new Request('http://127.0.0.1/file/..//%70ty/');
    expect(getCanonicalPath(req)).toBe('/pty');
    expect(pathInfo(req)).toEqual({ ok: true, path: '/pty' });
    expect(Object.keys(req)).toEqual([]); // kept under a symbol, invisible to anything enumerating the request
    expect(pathInfo(new Request('http://127.0.0.1/a%00b')).ok).toBe(false);
  });
});
