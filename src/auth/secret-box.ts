import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets the parent must be able to use again (a node's API secret, to verify signed requests; its notify key, to
 * sign wake-up calls) are kept encrypted at rest with AES-256-GCM. Stored as `v1.<iv>.<ciphertext>.<tag>`
 * (base64url); the row's id is the additional data, so a ciphertext copied onto another node's row does not open.
 */
const PREFIX = 'v1';

export class SecretBox {
  readonly #key: Buffer;

  /** `keyText`: any string of at least 32 characters (config `secrets.key`, or the one kept in the store). */
  constructor(keyText: string) {
    this.#key = createHash('sha256').update(`cascade-secrets\0${keyText}`).digest();
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      PREFIX,
      iv.toString('base64url'),
      body.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /** The plain text, or undefined when the value was sealed under another key, for another row, or altered. */
  open(sealed: string, context: string): string | undefined {
    const [prefix, iv, body, tag] = sealed.split('.');
    if (prefix !== PREFIX || iv === undefined || body === undefined || tag === undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(`${PREFIX}.`);
}
