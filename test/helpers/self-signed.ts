import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a fresh self-signed certificate for 127.0.0.1 / localhost and its key (node:crypto cannot make X.509, so
 * `openssl req`) to `<dir>/<name>.crt|.key`; returns the paths, the PEM and the SHA-256 fingerprint.
 */
export function writeSelfSigned(dir: string, name = 'parent'): { cert: string; key: string; pem: string; fingerprint: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=cascade-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const pem = readFileSync(cert, 'utf8');
  return { cert, key, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}
