// `serve --tls-cert/--tls-key`: the two files are checked before the server starts, so a wrong,
// swapped or mismatched file is one line naming it (exit 1), never an OpenSSL stack trace from
// deep inside https.createServer.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import tls from 'node:tls';
import { TetherError, errorMessage } from '../errors.js';

const fail = (message: string) => new TetherError('bad_tls_file', message, 500, 1);

const PEM_KEY = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----/;

/** Checks a certificate/key pair; returns whether the certificate signs itself (then it is its own CA). */
export function checkTlsPair(pair: { cert: Buffer; key: Buffer }, files: { cert: string; key: string }): { selfSigned: boolean } {
  const certText = pair.cert.toString('latin1');
  const keyText = pair.key.toString('latin1');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.cert);
  } catch {
    const swapped = PEM_KEY.test(certText) && PEM_CERT.test(keyText);
    if (swapped) throw fail(`--tls-cert ${files.cert} holds a private key, not a certificate: --tls-cert and --tls-key look swapped`);
    throw fail(`--tls-cert ${files.cert} is not a PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pair.key);
  } catch (err) {
    if (/ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(keyText)) {
      throw fail(`--tls-key ${files.key} is encrypted with a passphrase; give an unencrypted key (e.g. openssl pkey -in KEY -out KEY.plain)`);
    }
    if (PEM_CERT.test(keyText) && !PEM_KEY.test(keyText)) throw fail(`--tls-key ${files.key} holds a certificate, not a private key`);
    throw fail(`--tls-key ${files.key} is not a PEM private key (${errorMessage(err).split('\n')[0]})`);
  }
  if (!cert.checkPrivateKey(key)) throw fail(`--tls-key ${files.key} does not belong to the certificate in --tls-cert ${files.cert}`);
  // Whatever else OpenSSL refuses (e.g. a key too weak for its security level): still one line.
  try {
    tls.createSecureContext({ cert: pair.cert, key: pair.key });
  } catch (err) {
    throw fail(`--tls-cert ${files.cert} / --tls-key ${files.key}: ${errorMessage(err).split('\n')[0]}`);
  }
  return { selfSigned: cert.checkIssued(cert) && cert.verify(cert.publicKey) };
}
