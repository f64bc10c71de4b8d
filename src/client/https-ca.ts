// `--ca-file` / TETHER_CA_FILE: trust a server whose certificate is signed by a private CA (or is
// self-signed). Node's global fetch takes no CA option (that needs undici's Agent, not a dependency
// here), so requests to an https server go through node:https with `ca` instead. The `ca` replaces
// the system roots for that connection, as curl's --cacert does: only the given CAs are trusted.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { Readable } from 'node:stream';
import { UsageError, errorMessage } from '../errors.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads a PEM file of one or more CA certificates; a missing, unreadable or wrong file is a usage error naming it. */
export function readCaFile(file: string, flag = '--ca-file'): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, 'bad_ca_file');
  }
  const blocks = data.toString('latin1').match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new UsageError(`${flag} ${file}: no PEM certificate in it (expected "-----BEGIN CERTIFICATE-----")`, 'bad_ca_file');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new UsageError(`${flag} ${file}: a certificate in it cannot be parsed`, 'bad_ca_file');
    }
  }
  return data;
}

/** A fetch for the client: https URLs go through node:https trusting only `ca`; others use global fetch. */
export function fetchWithCa(ca: Buffer): typeof fetch {
  const agent = new https.Agent({ ca, keepAlive: false });
  return (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    // The client sends only string bodies (JSON) and plain header records.
    const body = typeof init.body === 'string' ? init.body : undefined;
    const headers: Record<string, string> = Object.fromEntries(new Headers(init.headers).entries());
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<Response>((resolve, reject) => {
      // https.request never follows redirects: the same as the client's `redirect: 'manual'`.
      const req = https.request(url, { method: init.method ?? 'GET', headers, agent, signal: init.signal ?? undefined }, (res) => {
        const h = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
        const status = res.statusCode ?? 502;
        const noBody = status === 204 || status === 205 || status === 304 || init.method === 'HEAD';
        if (noBody) res.resume();
        resolve(
          new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage ?? '',
            headers: h,
          }),
        );
      });
      req.on('error', (err) => reject(err.name === 'AbortError' ? err : new TypeError('fetch failed', { cause: err })));
      req.end(body);
    });
  };
}
