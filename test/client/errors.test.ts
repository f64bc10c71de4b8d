// The client's "cannot reach" line: the system or TLS error's own words, then tether's advice. A
// runtime's own advice for certificate errors (Node 24 adds "--use-system-ca") is not repeated:
// the user runs `tether`, not node, and tether's advice names what to pass.
import { describe, expect, it } from 'vitest';
import { ConnectionError, certificateAdvice } from '../../src/client/errors.js';

const fetchFailure = (message: string, code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });

describe('ConnectionError', () => {
  it('keeps the certificate error and drops the runtime advice appended to it', () => {
    for (const message of [
      'self-signed certificate',
      'self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
    ]) {
      const e = new ConnectionError('https://127.0.0.1:1', fetchFailure(message, 'DEPTH_ZERO_SELF_SIGNED_CERT'));
      expect(e.message).toBe('cannot reach tether at https://127.0.0.1:1: self-signed certificate');
      expect(e.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(certificateAdvice(e.code)).toMatch(/--ca-file FILE/);
    }
  });

  it('keeps every other error message whole', () => {
    const e = new ConnectionError('http://127.0.0.1:1', fetchFailure('connect ECONNREFUSED 127.0.0.1:1; retry later', 'ECONNREFUSED'));
    expect(e.message).toBe('cannot reach tether at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1; retry later');
    expect(e.code).toBe('ECONNREFUSED');
  });
});
