import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, networkKey, parseIp } from '../../src/auth/address.js';

describe('networkKey', () => {
  it('all of loopback is one key, however it is written', () => {
    for (const a of [
      '127.0.0.1',
      '127.0.0.2',
      '127.255.255.254',
      '127.1.2.3',
      '::1',
      '0:0:0:0:0:0:0:1',
      '[::1]',
      '::ffff:127.0.0.1',
      '::ffff:7f00:2',
      '0:0:0:0:0:ffff:7f00:1',
    ]) {
      expect(networkKey(a), a).toBe('loopback');
    }
  });

  it('IPv4 is keyed per address; IPv4-mapped IPv6 is the IPv4 address', () => {
    expect(networkKey('10.0.0.1')).toBe('10.0.0.1');
    expect(networkKey('10.0.0.2')).toBe('10.0.0.2');
    expect(networkKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(networkKey('::FFFF:a00:1')).toBe('10.0.0.1');
    expect(networkKey('[::ffff:192.0.2.7]')).toBe('192.0.2.7');
  });

  it('IPv6 is keyed per /64: the interface half and the spelling do not matter', () => {
    const k = networkKey('2001:db8:1:2::1');
    expect(k).toBe('2001:db8:1:2::/64');
    for (const a of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:DB8:1:2::abcd', '2001:db8:1:2::1%eth0', '[2001:db8:1:2::7]']) {
      expect(networkKey(a), a).toBe(k);
    }
    expect(networkKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(networkKey('::')).toBe('0:0:0:0::/64');
    expect(networkKey('1::')).toBe('1:0:0:0::/64');
    expect(networkKey('::2:3:4:5:6:7:8')).toBe('0:2:3:4::/64');
    expect(networkKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('anything that is not an address is its own key, never loopback or a network', () => {
    for (const a of ['', 'unknown', 'localhost', '1.2.3', '1.2.3.256', '::g', '1:2:3:4:5:6:7:8:9', '127.0.0.1 ', ' 10.0.0.1x']) {
      expect(networkKey(a), a).toBe(a);
    }
  });
});

describe('isLoopbackAddress', () => {
  it('decides by address, never by name', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.9.9.9')).toBe(true);
    for (const a of ['localhost', 'a.localhost', '0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', '1::1', '']) {
      expect(isLoopbackAddress(a), a).toBe(false);
    }
  });
});

describe('parseIp', () => {
  it('expands IPv6 with an embedded IPv4 tail', () => {
    expect(parseIp('64:ff9b::192.0.2.1')).toEqual({ family: 6, words: [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0201] });
    expect(parseIp('1.2.3.4')).toEqual({ family: 4, bytes: [1, 2, 3, 4] });
  });
});
