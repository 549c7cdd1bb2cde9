import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

/**
 * Writes a fresh self-signed certificate for 127.0.0.1 / localhost and its key (node:crypto cannot make X.509, so
 * `openssl req`) to `<dir>/<name>.crt|.key`; returns the paths, the PEM and the SHA-256 fingerprint.
 */
export function writeSelfSigned(
  dir: string,
  name = 'parent',
): { cert: string; key: string; pem: string; fingerprint: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=cascade-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  const pem = readFileSync(cert, 'utf8');
  return { cert, key, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}

/** One HTTPS request trusting `ca`; returns the status, the body and the certificate the server presented. */
export function httpsCall(
  url: string,
  ca: string,
  options: { method?: string; body?: string } = {},
): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        ca,
        method: options.method ?? 'GET',
        agent: false,
        headers: options.body ? { 'content-type': 'application/json' } : {},
      },
      (response) => {
        const fingerprint = (response.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, fingerprint }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
