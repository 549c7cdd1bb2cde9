import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_STATUSES, AttemptOutcome } from '../../src/domain/allocation-states.js';
import { REPO_ROOT } from '../helpers/cli.js';

const dir = join(REPO_ROOT, 'web/src/i18n');
const load = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, string>;

/** Every literal key the console's source asks for (`t('nodes.add')`); keys built at run time are checked in the browser. */
function keysUsedInSource(folder: string): string[] {
  const keys: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) keys.push(...keysUsedInSource(path));
    else if (/\.tsx?$/.test(entry.name))
      for (const match of readFileSync(path, 'utf8').matchAll(/\bt\('([\w.]+)'/g)) keys.push(match[1] as string);
  }
  return keys;
}

describe('console message files', () => {
  const en = load('en.json');
  const zh = load('zh-CN.json');

  it('have the same keys in English and Chinese, none empty, with the same placeholders', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) {
      expect(text.trim(), key).not.toBe('');
      expect(zh[key]?.trim(), key).not.toBe('');
      const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(placeholders(zh[key] ?? ''), key).toEqual(placeholders(text));
    }
  });

  it('hold every key the source uses', () => {
    const missing = [...new Set(keysUsedInSource(join(REPO_ROOT, 'web/src')))].filter((key) => !(key in en));
    expect(missing).toEqual([]);
  });

  it('translate every allocation status and attempt outcome the server can send (keys built at run time)', () => {
    const keys = [
      ...ALL_STATUSES.map((status) => `status.${status}`),
      ...Object.values(AttemptOutcome).map((outcome) => `outcome.${outcome}`),
    ];
    expect(keys.filter((key) => !(key in en))).toEqual([]);
  });
});
