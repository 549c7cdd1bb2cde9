import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installConsole } from '../../../src/parent/plugins/console-static.js';

/** A real Fastify app on 127.0.0.1:0 with the console plugin over a temporary build folder. */
async function serve(root: string): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  app.get('/api/v1/ping', async () => ({ code: 0 }));
  await installConsole(app, root);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

describe('web console static serving', () => {
  let dir: string;
  let built: { app: FastifyInstance; url: string };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cascade-console-'));
    const root = join(dir, 'web');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Cascade</title>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, 'assets', 'index-abc123.css'), 'body{}');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    // A file next to the build folder that must never be reachable.
    writeFileSync(join(dir, 'secret.txt'), 'outside');
    built = await serve(`${root}/`);
  });
  afterAll(async () => {
    await built?.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at / uncached and hashed assets cached for a year with their content types', async () => {
    const page = await fetch(`${built.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<title>Cascade</title>');
    const script = await fetch(`${built.url}/assets/index-abc123.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const style = await fetch(`${built.url}/assets/index-abc123.css`);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('answers deep links with the page so the console router can handle them', async () => {
    for (const path of ['/nodes', '/allocations/abc?status=failed', '/index.html']) {
      const response = await fetch(`${built.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.text()).toContain('<title>Cascade</title>');
    }
  });

  it('keeps the JSON 404 under /api, for other methods, and for a missing asset', async () => {
    const api = await fetch(`${built.url}/api/v1/nothing`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ code: 404, error: 'NOT_FOUND' });
    expect((await fetch(`${built.url}/api/v1/ping`)).status).toBe(200);
    expect((await fetch(`${built.url}/nodes`, { method: 'POST' })).status).toBe(404);
  });

  it('never serves a file outside the build folder or a dotfile', async () => {
    for (const path of [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/.env',
    ]) {
      const response = await fetch(`${built.url}${path}`);
      const text = await response.text();
      expect(text, path).not.toContain('outside');
      expect(text, path).not.toContain('SECRET');
    }
  });

  it('says how to build the console when it is missing, and keeps the API 404', async () => {
    const bare = await serve(join(dir, 'not-built/'));
    try {
      const page = await fetch(`${bare.url}/`);
      expect(page.status).toBe(404);
      expect(await page.text()).toContain('npm run build:web');
      expect((await (await fetch(`${bare.url}/api/v1/x`)).json()) as object).toMatchObject({ error: 'NOT_FOUND' });
    } finally {
      await bare.app.close();
    }
  });
});
