// Whether a server URL stays on this machine, so plain HTTP cannot expose the token (pure).
//
// Judged on the WHATWG-parsed URL, which canonicalises hosts first: `127.1`, `0x7f.0.0.1` and
// `2130706433` become `127.0.0.1`, and `[0:0::1]` becomes `[::1]`. Loopback means 127.0.0.0/8,
// `::1`, `::ffff:127.x.y.z`, and the name `localhost` exactly. Not `*.localhost` or `localhost.`:
// browsers map those to loopback themselves, but Node asks the system resolver, and a resolver that
// does not special-case them sends them to DNS, which may answer with any address. Not `0.0.0.0`
// or `::` either: those are "any address", not a host to send a token to.

export function isLoopbackUrl(url: string | URL): boolean {
  let host: string;
  try {
    host = (typeof url === 'string' ? new URL(url) : url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  if (host === '[::1]') return true;
  // IPv4-mapped IPv6, as the URL parser serialises it: [::ffff:7f00:1] is 127.0.0.1.
  return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host);
}

/** Whether sending credentials to `url` exposes them to the network: plain http to another host. */
export function isPlainHttpToNetwork(url: string | URL): boolean {
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.protocol === 'http:' && !isLoopbackUrl(u);
}
