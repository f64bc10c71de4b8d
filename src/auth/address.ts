// Client addresses as the failure limiter and the connection caps see them. An attacker controls
// addresses in blocks, so the unit is the block: all of loopback is one (any local program can use
// any 127.x address), an IPv4 address is one, and an IPv6 /64 is one (the usual size handed to a
// single customer). IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is the IPv4 address it carries.
import net from 'node:net';

export type ParsedIp = { family: 4; bytes: number[] } | { family: 6; words: number[] };

/** Parses an IPv4 or IPv6 literal (brackets and an IPv6 zone id allowed); null if it is neither. */
export function parseIp(input: string): ParsedIp | null {
  const s = input.replace(/^\[(.*)\]$/, '$1').split('%')[0]!;
  if (net.isIPv4(s)) return { family: 4, bytes: s.split('.').map(Number) };
  if (!net.isIPv6(s)) return null;
  const words = ipv6Words(s.toLowerCase());
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address, whichever way it was written.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return { family: 4, bytes: [words[6]! >> 8, words[6]! & 255, words[7]! >> 8, words[7]! & 255] };
  }
  return { family: 6, words };
}

/** The eight 16-bit words of a valid IPv6 literal (already checked with net.isIPv6). */
function ipv6Words(s: string): number[] {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const b = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((w) => parseInt(w, 16)) : []);
  const h = parse(head);
  if (rest === undefined) return h;
  const r = parse(rest);
  return [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback. Names are not addresses: resolve them first. */
export function isLoopbackAddress(address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  if (ip.family === 4) return ip.bytes[0] === 127;
  return ip.words.slice(0, 7).every((w) => w === 0) && ip.words[7] === 1;
}

/**
 * The key one client is counted under: `loopback`, the IPv4 address, or the IPv6 /64 written as
 * `xxxx:xxxx:xxxx:xxxx::/64`. Anything else (`unknown` when the socket had no address) is its own key.
 */
export function networkKey(address: string): string {
  const ip = parseIp(address);
  if (!ip) return address;
  if (isLoopbackAddress(address)) return 'loopback';
  if (ip.family === 4) return ip.bytes.join('.');
  return `${ip.words
    .slice(0, 4)
    .map((w) => w.toString(16))
    .join(':')}::/64`;
}
