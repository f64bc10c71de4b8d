// Pulls the presented credential out of request headers. Pure: it never verifies anything.
// Accepted: `Authorization: Bearer <token>`, `Authorization: Basic base64(user:token)` (any user name;
// curl -u x:TOKEN). Anything else in Authorization is malformed, never ignored.

export type Credential =
  | { kind: 'none' }
  | { kind: 'bearer' | 'basic'; token: string }
  | { kind: 'invalid'; problem: string };

const MAX_HEADER = 4096;

export function credentialFromAuthorization(header: string | undefined | null): Credential {
  if (header === undefined || header === null) return { kind: 'none' };
  if (header.length > MAX_HEADER) return { kind: 'invalid', problem: 'Authorization header is too long' };
  const m = /^([A-Za-z]+) +([^\s]+) *$/.exec(header);
  if (!m) return { kind: 'invalid', problem: 'Authorization header must be "Bearer <token>" or "Basic <base64(user:token)>"' };
  const scheme = m[1]!.toLowerCase();
  const value = m[2]!;
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { kind: 'invalid', problem: 'Basic credentials are not valid base64' };
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return { kind: 'invalid', problem: 'Basic credentials must be user:token' };
    return { kind: 'basic', token: decoded.slice(colon + 1) };
  }
  return { kind: 'invalid', problem: `unsupported Authorization scheme "${m[1]}"; use Bearer or Basic` };
}
