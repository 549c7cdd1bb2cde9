import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { notFoundBody } from './error-envelope.js';

/**
 * Where `npm run build:web` puts the console. This file is three folders below the package root both as source
 * (src/parent/plugins) and as build output (dist/parent/plugins), so one relative path serves both.
 */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** Vite names every asset after its content hash, so a cached copy can never be stale. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the web console at `/`: files from the build folder only (never outside it; dotfiles refused), hashed
 * assets cached for a year, `index.html` revalidated every time, and every other GET outside `/api` answered with
 * `index.html` so that the console's own router handles deep links. `/api/...` misses keep the JSON 404.
 */
export async function installConsole(app: FastifyInstance, root = CONSOLE_DIR): Promise<void> {
  const built = existsSync(`${root}index.html`);
  if (built) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      wildcard: true,
      index: false,
      dotfiles: 'deny',
      cacheControl: false,
      setHeaders(res, path) {
        res.setHeader('cache-control', path.includes('/assets/') ? IMMUTABLE : 'no-cache');
        res.setHeader('x-content-type-options', 'nosniff');
      },
    });
    // The folder itself would be a directory listing request (refused); the console's page answers instead.
    app.get('/', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html', root));
  }
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const wantsPage =
      (request.method === 'GET' || request.method === 'HEAD') && !path.startsWith('/api/') && path !== '/api';
    if (wantsPage && built) {
      void reply.header('cache-control', 'no-cache').sendFile('index.html', root);
      return;
    }
    if (wantsPage) {
      void reply
        .status(404)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built. Run `npm run build:web` (npm install does it), then reload.\n');
      return;
    }
    void reply.status(404).send(notFoundBody(request.method, path));
  });
}
