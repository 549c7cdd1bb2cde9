import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeControl } from '../../src/cli/output.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';
import { runCascade } from './cli-process.js';

const ATTACK = '\u001b]0;x\u0007\u001b[2J';
const VISIBLE = '\\u001b]0;x\\u0007\\u001b[2J';
/** C0 (but newline), DEL and C1: none of these may reach the terminal from data. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('child-controlled text in human CLI output', () => {
  let t: TestParent;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestParent();
    env = { DATABASE_URL: t.config.database.url, LOG_LEVEL: 'silent' };
    const node = await t.addChild('escape-child');
    const beat = await api(t.url, '/api/v1/cascade/heartbeat', {
      aksk: node,
      json: { hostname: ATTACK, version: `1.0${ATTACK}\u009b31m` },
    });
    expect(beat.status).toBe(200);
  });
  afterAll(async () => t?.close());

  it('shows control characters as visible escapes in node show and node list, and never writes them raw', async () => {
    const show = await runCascade(['node', 'show', 'escape-child'], { cwd: t.dir, env });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).not.toMatch(RAW_CONTROL);
    expect(show.stdout).toMatch(new RegExp(`hostname: +${VISIBLE.replace(/[\\[\]]/g, '\\$&')}\n`));
    expect(show.stdout).toContain(`version: `);
    expect(show.stdout).toContain(`1.0${VISIBLE}\\u009b31m`);
    const list = await runCascade(['node', 'list'], { cwd: t.dir, env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toMatch(RAW_CONTROL);
    expect(list.stdout).toContain('escape-child');
  });

  it('keeps JSON output exact', async () => {
    const json = await runCascade(['node', 'show', 'escape-child', '--json'], { cwd: t.dir, env });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ hostname: ATTACK, version: `1.0${ATTACK}\u009b31m` });
  });

  it('escapes error messages on stderr too', async () => {
    const missing = await runCascade(['node', 'show', `nobody${ATTACK}`], { cwd: t.dir, env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).not.toMatch(RAW_CONTROL);
    expect(missing.stderr).toContain(VISIBLE);
  });

  it('escapes C0, DEL and C1 (newlines too inside one value) and leaves other text alone', () => {
    expect(escapeControl('a\u0000b\u0007c\u001bd\u007fe\u0085f\u009fg')).toBe(
      'a\\u0000b\\u0007c\\u001bd\\u007fe\\u0085f\\u009fg',
    );
    expect(escapeControl('line\nnext\r\t')).toBe('line\\u000anext\\u000d\\u0009');
    expect(escapeControl('line\nnext', true)).toBe('line\nnext');
    expect(escapeControl('节点 ok — ✓')).toBe('节点 ok — ✓');
  });
});
