import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS_PATH, configKeys, renderConfigDocs } from '../../src/config/docs.js';
import { ENV_BINDINGS } from '../../src/config/env-bindings.generated.js';

describe('docs/configuration.md', () => {
  it('is up to date with the schema (run `npm run docs:config` after changing src/config/schema.ts)', () => {
    expect(readFileSync(CONFIG_DOCS_PATH, 'utf8')).toBe(renderConfigDocs());
  });

  it('documents every setting and every environment variable the loader reads', () => {
    const text = renderConfigDocs();
    const keys = configKeys();
    for (const path of [
      'port',
      'database.url',
      'dispatch.lease_seconds',
      'cascade.parent_api_url',
      'cascade.api_secret',
    ]) {
      expect(keys.map((k) => k.path)).toContain(path);
    }
    for (const key of keys) expect(text).toContain(`| \`${key.path}\` |`);
    for (const { name } of ENV_BINDINGS) expect(text).toContain(`\`${name}\``);
    expect(keys.find((k) => k.path === 'port')).toMatchObject({
      type: 'integer 0..65535',
      default: '`8001`',
      env: ['PORT'],
    });
  });
});
