import { describe, expect, it } from 'vitest';
import { parseExpiry, parsePermissionList } from '../../src/auth/spec.js';
import { UsageError } from '../../src/errors.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('permission lists', () => {
  it('accepts subsets in any order and case, canonicalised', () => {
    expect(parsePermissionList('execute,read')).toEqual(['read', 'execute']);
    expect(parsePermissionList(' Read , WRITE ')).toEqual(['read', 'write']);
    expect(parsePermissionList('read,read')).toEqual(['read']);
    expect(parsePermissionList('all')).toEqual(['read', 'write', 'execute']);
  });
  for (const bad of ['', ' ', 'admin', 'read,,write', 'read,', 'read;write', 'all,read']) {
    it(`rejects ${JSON.stringify(bad)} naming what is accepted`, () => {
      expect(() => parsePermissionList(bad)).toThrow(UsageError);
      expect(() => parsePermissionList(bad)).toThrow(/read,write,execute/);
    });
  }
});

describe('expiry specs', () => {
  it('durations', () => {
    expect(parseExpiry('12h', NOW)).toBe('2026-11-28T00:00:00.000Z');
    expect(parseExpiry('30d', NOW)).toBe(new Date(NOW + 30 * 86_400_000).toISOString());
    expect(parseExpiry('6w', NOW)).toBe(new Date(NOW + 42 * 86_400_000).toISOString());
    expect(parseExpiry('1y', NOW)).toBe(new Date(NOW + 365 * 86_400_000).toISOString());
    expect(parseExpiry('30m', NOW)).toBe('2026-11-27T12:30:00.000Z');
  });
  it('never', () => {
    expect(parseExpiry('never', NOW)).toBeNull();
    expect(parseExpiry('NEVER', NOW)).toBeNull();
  });
  it('future dates and date-times', () => {
    expect(parseExpiry('2027-01-31', NOW)).toBe('2027-01-31T00:00:00.000Z');
    expect(parseExpiry('2027-01-31T12:00:00Z', NOW)).toBe('2027-01-31T12:00:00.000Z');
    expect(parseExpiry('2027-01-31T12:00+02:00', NOW)).toBe('2027-01-31T10:00:00.000Z');
  });
  const bad: [string, RegExp][] = [
    ['', /cannot understand/],
    ['0d', /zero/],
    ['-1d', /cannot understand/],
    ['1.5d', /cannot understand/],
    ['30 days', /cannot understand/],
    ['2020-01-01', /past/],
    ['2026-11-27T11:59:59Z', /past/],
    ['2027-02-30', /not a real calendar date/],
    ['2027-13-01', /not a real calendar date/],
    ['2027-01-31T25:00:00Z', /not a valid date-time/],
    ['2027-01-31T12:00:00', /cannot understand/], // no zone: ambiguous
    ['200y', /100 years/],
    ['9999999d', /cannot understand/],
    ['tomorrow', /cannot understand/],
  ];
  for (const [spec, msg] of bad) {
    it(`rejects ${JSON.stringify(spec)}`, () => {
      expect(() => parseExpiry(spec, NOW)).toThrow(UsageError);
      expect(() => parseExpiry(spec, NOW)).toThrow(msg);
    });
  }
});
