// verify() cost per call with 1 and with 10,000 tokens in the store.
import { generateToken, hashToken } from '../src/auth/token-format.js';
import { TokenIndex } from '../src/auth/verify.js';
import type { TokenRecord } from '../src/auth/shapes.js';
import { median, type Row } from './lib.js';

function indexOf(n: number): { index: TokenIndex; tokens: string[] } {
  const tokens: string[] = [];
  const records: TokenRecord[] = [];
  for (let i = 0; i < n; i++) {
    const t = generateToken();
    tokens.push(t);
    records.push({
      id: 'tok_' + i.toString(36).padStart(10, '0'),
      name: `t${i}`,
      hash: hashToken(t),
      permissions: ['read', 'write', 'execute'],
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      lastUsedAt: null,
    });
  }
  return { index: new TokenIndex({ version: 1, tokens: records }), tokens };
}

// The same presented token in both stores, so the figure isolates the store size.
function perCallUs(index: TokenIndex, tokens: string[], calls: number): number {
  const token = tokens[tokens.length >> 1];
  const t0 = process.hrtime.bigint();
  let ok = 0;
  for (let i = 0; i < calls; i++) if (index.verify(token).ok) ok++;
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / calls;
  if (ok !== calls) throw new Error('verify failed during bench');
  return us;
}

export function benchVerify(): Row[] {
  const small = indexOf(1);
  const large = indexOf(10_000);
  const calls = 100_000;
  // Warm up both, then interleave rounds so machine noise hits both sizes alike.
  perCallUs(small.index, small.tokens, calls);
  perCallUs(large.index, large.tokens, calls);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < 7; r++) {
    a.push(perCallUs(small.index, small.tokens, calls));
    b.push(perCallUs(large.index, large.tokens, calls));
  }
  const s = median(a);
  const l = median(b);
  const diff = Math.abs(l - s) / s;
  return [
    { group: 'verify', metric: 'verify() per call, 1 token', value: `${s.toFixed(2)} us`, target: '<= 5 us', ok: s <= 5 },
    { group: 'verify', metric: 'verify() per call, 10,000 tokens', value: `${l.toFixed(2)} us`, target: '<= 5 us', ok: l <= 5 },
    { group: 'verify', metric: '10,000 vs 1 token difference', value: `${(diff * 100).toFixed(1)} %`, target: '<= 10 %', ok: diff <= 0.1 },
  ];
}
