import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_VALIDATOR_PATH,
  ENV_BINDINGS_PATH,
  renderConfigValidator,
  renderEnvBindings,
} from '../../src/config/validator-code.js';

describe('src/config/config-validator.generated.ts', () => {
  it('is up to date with the schema (run `npm run config:validator` after changing src/config/schema.ts)', () => {
    expect(readFileSync(CONFIG_VALIDATOR_PATH, 'utf8')).toBe(renderConfigValidator());
  });
});

describe('src/config/env-bindings.generated.ts', () => {
  it('is up to date with the `env` metadata of the schema (run `npm run config:validator` after changing it)', () => {
    expect(readFileSync(ENV_BINDINGS_PATH, 'utf8')).toBe(renderEnvBindings());
  });
});
