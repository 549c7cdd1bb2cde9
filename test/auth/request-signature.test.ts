import { describe, expect, it } from 'vitest';
import {
  bodySha256,
  canonicalRequest,
  parseSignedHeader,
  signatureMatches,
  signedAuthorization,
} from '../../src/auth/request-signature.js';

const KEY = `CN${'k'.repeat(32)}`;
const SECRET = `CS${'s'.repeat(32)}`;

describe('request signature', () => {
  it('signs the documented canonical string, and the header parses back to it', () => {
    const header = signedAuthorization(
      KEY,
      SECRET,
      'post',
      '/api/v1/cascade/claim-task?wait=30&max=1',
      '{"a":1}',
      1_795_988_948_123,
    );
    const parsed = parseSignedHeader(header);
    if ('error' in parsed) throw new Error(parsed.error);
    expect(parsed).toMatchObject({ apiKey: KEY, ts: 1_795_988_948 });
    const canonical = canonicalRequest(
      'POST',
      '/api/v1/cascade/claim-task?wait=30&max=1',
      parsed.ts,
      parsed.nonce,
      bodySha256('{"a":1}'),
    );
    expect(canonical.split('\n')).toEqual([
      'AK-SK-HMAC-SHA256',
      'POST',
      '/api/v1/cascade/claim-task?wait=30&max=1',
      '1795988948',
      parsed.nonce,
      bodySha256('{"a":1}'),
    ]);
    expect(signatureMatches(SECRET, canonical, parsed.sig)).toBe(true);
    expect(signatureMatches(`${SECRET}x`, canonical, parsed.sig)).toBe(false);
    expect(header).not.toContain(SECRET);
  });

  it('draws a new nonce for every signature', () => {
    const nonces = new Set(
      Array.from(
        { length: 50 },
        () => (parseSignedHeader(signedAuthorization(KEY, SECRET, 'GET', '/x', undefined)) as { nonce: string }).nonce,
      ),
    );
    expect(nonces.size).toBe(50);
  });

  it('refuses malformed headers with a reason instead of throwing', () => {
    for (const header of [
      'AK-SK-HMAC',
      'AK-SK-HMAC key=a',
      'AK-SK-HMAC __proto__=x, key=a, ts=1, nonce=0123456789abcdef, sig=' + '0'.repeat(64),
      'AK-SK-HMAC constructor=x',
      'AK-SK-HMAC key=a, key=b, ts=1, nonce=0123456789abcdef, sig=' + '0'.repeat(64),
      'AK-SK-HMAC key=a, ts=1e9, nonce=0123456789abcdef, sig=' + '0'.repeat(64),
      'AK-SK-HMAC key=a, ts=1, nonce=short, sig=' + '0'.repeat(64),
      'AK-SK-HMAC key=a, ts=1, nonce=0123456789abcdef, sig=' + 'G'.repeat(64),
      'AK-SK-HMAC ,,,,',
    ]) {
      expect(parseSignedHeader(header), header).toHaveProperty('error');
    }
  });
});
