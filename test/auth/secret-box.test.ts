import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/auth/secret-box.js';

describe('secret box', () => {
  const box = new SecretBox('k'.repeat(40));

  it('seals with a fresh IV each time and opens only with the same key and context', () => {
    const a = box.seal('CSsecret', 'api_secret:n1');
    const b = box.seal('CSsecret', 'api_secret:n1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('CSsecret');
    expect(box.open(a, 'api_secret:n1')).toBe('CSsecret');
    expect(box.open(a, 'api_secret:n2')).toBeUndefined();
    expect(new SecretBox('j'.repeat(40)).open(a, 'api_secret:n1')).toBeUndefined();
  });

  it('refuses an altered ciphertext or a value that is not sealed', () => {
    const sealed = box.seal('CSsecret', 'c');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[2] as string, 'base64url');
    body[0] = (body[0] as number) ^ 1;
    expect(box.open([parts[0], parts[1], body.toString('base64url'), parts[3]].join('.'), 'c')).toBeUndefined();
    expect(box.open('plainNotifyKey', 'c')).toBeUndefined();
  });
});
