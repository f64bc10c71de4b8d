// Which Host header names the server accepts (DNS-rebinding defence). Loopback names always;
// when bound to a non-loopback address, also that address, the machine's own addresses and host
// name; plus every --allowed-host.
import os from 'node:os';
import net from 'node:net';

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
