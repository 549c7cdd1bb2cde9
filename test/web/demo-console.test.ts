import { spawn } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { supervise, type SupervisedProcess } from '../../src/demo/supervised-process.js';
import { CLI_ENTRY, REPO_ROOT, TSX_NODE_ARGS } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { browserSuite, collectErrors, launchBrowser, type Browser } from './browser.js';

browserSuite('npm run demo with the web console', () => {
  let demo: SupervisedProcess | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await demo?.stop(20_000);
  }, 60_000);

  it('prints the console URL and the admin login, keeps running, and the console shows the demo fleet at work', async () => {
    const child = spawn(process.execPath, [...TSX_NODE_ARGS, CLI_ENTRY, 'demo', '--timeout', '90'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo = supervise(child);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.resume();
    await waitFor('the demo to settle', () => (stdout.includes('Press Ctrl-C') ? true : undefined), 120_000);
    const url = /^console\s+(http:\/\/127\.0\.0\.1:\d+)\/$/m.exec(stdout)?.[1];
    const password = /^admin login\s+username admin, password (\S+)$/m.exec(stdout)?.[1];
    expect(url).toBeDefined();
    expect(password).toBeDefined();
    expect(demo.running).toBe(true);

    browser = await launchBrowser();
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    await page.goto(`${url}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(password ?? '');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await expect.poll(() => page.getByTestId('nodes-online').textContent()).toBe('2');
    expect(Number(await page.getByTestId('count-completed').textContent())).toBeGreaterThan(0);
    await page.getByText('Live', { exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: `${REPO_ROOT}/docs/images/console-overview.png`, fullPage: true });
    expect(errors).toEqual([]);

    // Ctrl-C ends the demo cleanly, children included.
    child.kill('SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
  }, 180_000);
});
