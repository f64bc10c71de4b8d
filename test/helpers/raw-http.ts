// Sends an exact HTTP/1.1 request over a socket (no client normalisation) and parses the status.
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

export function rawRequest(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms to ${JSON.stringify(String(request).slice(0, 120))}`));
    }, timeoutMs);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      // The server may close without answering (e.g. CONNECT): status 0.
      if (text === '') return resolve({ status: 0, headers: '', body: '' });
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m) return reject(new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(m[1]), headers: text.slice(0, split), body: text.slice(split + 4) });
    };
    sock.on('data', (d) => {
      chunks.push(d);
      // One response per connection: stop once headers and the declared body are in.
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split === -1) return;
      const len = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, split));
      if (len && Buffer.byteLength(text.slice(split + 4), 'latin1') >= Number(len[1])) {
        sock.destroy();
        finish();
      }
    });
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', (e) => (chunks.length ? finish() : reject(e)));
    sock.write(request);
  });
}
