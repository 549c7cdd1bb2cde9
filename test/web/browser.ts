import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describe, it } from 'vitest';
import { CHROMIUM_PATH, chromiumAvailable } from '../helpers/chromium.js';

export type Browser = { context: BrowserContext; close(): Promise<void> };

/** Starts headless Chromium with a fresh profile folder and nothing that talks to the network by itself. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'cascade-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'Asia/Shanghai',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught exceptions of a page, for "no console error" assertions. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** A suite that needs Chromium: skipped with the reason on a machine without it, failing in CI. */
export function browserSuite(name: string, body: () => void): void {
  if (chromiumAvailable()) describe(name, body);
  else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium in CI', () => {
        throw new Error(`${CHROMIUM_PATH} is missing: run apt-get install -y chromium (.ci/run does)`);
      });
    });
  } else describe.skip(`${name}: skipped, no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`, body);
}
