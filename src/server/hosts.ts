// Which Host header names the server accepts (DNS-rebinding defence). Loopback names always;
// when bound to a non-loopback address, also that address, the machine's own addresses and host
// name; plus every --allowed-host.
import os from 'node:os';
import net from 'node:net';
import { isLoopbackAddress } from '../auth/address.js';

/**
 * Whether a Host header (or bind host) *names* loopback. Only for the Host allowlist, where
 * browsers resolve `*.localhost` to loopback themselves; never to decide whether something is safe
 * to expose: that is decided by addresses (noAuthRefusal, isLoopbackAddress).
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

function asHostName(addr: string): string {
  const a = addr.toLowerCase().split('%')[0]!; // drop IPv6 zone ids
  return net.isIPv6(a) ? `[${a}]` : a;
}

export function allowedHostNames(bindHost: string, extra: readonly string[]): Set<string> {
  const set = new Set<string>(['localhost', '127.0.0.1', '[::1]']);
  if (!isLoopbackHost(bindHost)) {
    const wildcard = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '[::]';
    if (!wildcard) set.add(asHostName(bindHost));
    for (const list of Object.values(os.networkInterfaces())) for (const i of list ?? []) set.add(asHostName(i.address));
    set.add(os.hostname().toLowerCase());
  }
  for (const h of extra) set.add(asHostName(h.replace(/^\[|\]$/g, '')));
  return set;
}

/**
 * Why `--no-auth` must be refused for `hostname`, given every address it resolves to (dns.lookup
 * with all: true); null when it may run. A name counts for nothing: `localhost` passes because it
 * resolves to 127.0.0.1/::1, `evil.localhost` pointed at a LAN address does not. One non-loopback
 * address is enough to refuse, since listen() may pick any of them.
 */
export function noAuthRefusal(hostname: string, resolved: readonly string[]): string | null {
  const advice = 'Use --no-auth only with a loopback host (127.0.0.1, ::1, or a name resolving only to those), or keep auth on.';
  if (resolved.length === 0) return `--no-auth is refused with --hostname ${hostname}: it resolves to no address. ${advice}`;
  const outside = resolved.filter((a) => !isLoopbackAddress(a));
  if (outside.length === 0) return null;
  const via = resolved.length === 1 && resolved[0] === hostname ? '' : ` (it resolves to ${outside.join(', ')})`;
  return `--no-auth is refused with --hostname ${hostname}${via}: anyone who can reach this address could run commands as you. ` + advice;
}
