import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalCascade } from '../../src/demo/local-cascade.js';
import { allocations, startChild, startCluster, stopEverything } from '../e2e/harness.js';
import { startSlowFeed } from '../e2e/slow-feed.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { browserSuite, collectErrors, launchBrowser, type Browser } from './browser.js';

/**
 * The console shows what stall detection (issue 17 item 4) knows: a real child's progress on an executing
 * allocation, the `stalled` flag while its node keeps beating, and the attempt the stall ended, in Chinese and
 * English. The feed never answers until the test releases it.
 */
browserSuite('stalled allocations in the console', () => {
  let local: LocalCascade;
  let feed: Awaited<ReturnType<typeof startSlowFeed>>;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    local = await startCluster({
      'dispatch.stall_seconds': 2,
      'dispatch.sweep_interval_seconds': 1,
      'dispatch.max_attempts': 5,
    });
    feed = await startSlowFeed();
    const created = await local.api.call<{ id: string }>('POST', '/api/v1/feeds', {
      id: 'SLOW_FEED',
      mp_name: 'slow',
      url: feed.url,
      status: 1,
    });
    await local.createTask('slow', [created.id]);
    const node = await local.addNode('child-slow', 2);
    startChild(local, node, 'child-slow', { maxConcurrency: 2, cascade: { fetch_timeout_seconds: 300 } });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    errors = collectErrors(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopEverything();
    await feed?.close();
  }, 60_000);

  it('shows progress, then the stalled flag, then the stalled attempt, while the feed hangs', async () => {
    feed.setMode({ kind: 'hang' });
    const task = (await local.api.listAll<{ id: string; name: string }>('/api/v1/message-tasks')).find(
      (x) => x.name === 'slow',
    );
    const run = await local.dispatch(task!.id);
    const [allocation] = await waitFor('the allocation executing', async () => {
      const rows = await allocations(local, run.schedule_run_id);
      return rows[0]?.status === 'executing' ? rows : undefined;
    });

    await page.goto(`${local.parent.url}/`);
    await page.getByLabel(/username|用户名/i).fill(local.admin.username);
    await page.getByLabel(/password|密码/i).fill(local.admin.password);
    await page.getByRole('button', { name: /sign in|登录/i }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    await page.goto(`${local.parent.url}/allocations/${allocation!.id}`);
    await expect
      .poll(() => page.getByTestId('progress').textContent(), { timeout: 20_000 })
      .toMatch(/^0\/1 feeds done, 0 (B|byte) read/);
    // Flagged after one stall period without progress; the page follows the live events without a reload.
    await page.locator('h1 [data-testid="stalled"]').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('progress').textContent()).toContain('no progress since');
    await page.screenshot({ path: `${REPO_ROOT}/docs/images/console-allocation-stalled.png`, fullPage: true });

    await page.goto(`${local.parent.url}/allocations?status=executing`);
    await page.locator(`tr[data-allocation="${allocation!.id}"] [data-testid="stalled"]`).waitFor({ timeout: 20_000 });

    // After a second period the attempt ends as `stalled` and the allocation is requeued; the history says so.
    await page.goto(`${local.parent.url}/allocations/${allocation!.id}`);
    await expect
      .poll(() => page.getByRole('cell', { name: 'stalled (no progress)' }).count(), { timeout: 30_000 })
      .toBeGreaterThan(0);

    // The same in Chinese: every new string is translated.
    await page.getByRole('combobox', { name: /Language|语言/ }).selectOption({ label: '简体中文' });
    await expect
      .poll(() => page.getByRole('cell', { name: '卡住（无进展）' }).count(), { timeout: 20_000 })
      .toBeGreaterThan(0);

    feed.setMode({ kind: 'answer' });
    feed.release();
    await waitFor('the allocation completed', async () => {
      const rows = await allocations(local, run.schedule_run_id);
      return rows[0]?.status === 'completed' ? rows : undefined;
    });
    expect(errors).toEqual([]);
  }, 120_000);
});
