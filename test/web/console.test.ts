import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONSOLE_DIR } from '../../src/parent/plugins/console-static.js';
import { sampleFeedId, type LocalCascade } from '../../src/demo/local-cascade.js';
import { startChild, startCluster, stopEverything, type Allocation as HarnessAllocation } from '../e2e/harness.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { browserSuite, collectErrors, launchBrowser, type Browser } from './browser.js';

const en = JSON.parse(readFileSync(`${REPO_ROOT}/web/src/i18n/en.json`, 'utf8')) as Record<string, string>;
const MESSAGE_KEYS = Object.keys(en);
const PAGES = [
  { path: '/', name: 'overview' },
  { path: '/nodes', name: 'nodes' },
  { path: '/tasks', name: 'tasks' },
  { path: '/allocations', name: 'allocations' },
  { path: '/articles', name: 'articles' },
  { path: '/sync-logs', name: 'sync-logs' },
] as const;
/** What the page's globals look like from here (the test program has no DOM types). */
type PageGlobals = {
  sessionStorage: { length: number; getItem(key: string): string | null };
  document: { documentElement: { scrollWidth: number } };
  innerWidth: number;
  marker?: number;
};
type Allocation = HarnessAllocation & { created_at: string; schedule_run_id: string };

const GOOD = 'rss2-tech-news.xml';
const BROKEN = 'broken-malformed.xml';

browserSuite('web console in a real browser', () => {
  let local: LocalCascade;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let secret = '';
  let taskId = '';
  const base = () => local.parent.url;

  async function login(p: Page, username: string, password: string): Promise<void> {
    await p.goto(`${base()}/`);
    await p.getByLabel(/username|用户名/i).fill(username);
    await p.getByLabel(/password|密码/i).fill(password);
    await p.getByRole('button', { name: /sign in|登录/i }).click();
  }

  async function allocationsOf(runId?: string): Promise<Allocation[]> {
    return local.api.listAll<Allocation>(`/api/v1/cascade/allocations${runId ? `?schedule_run_id=${runId}` : ''}`);
  }

  beforeAll(async () => {
    // The console is built by `npm run build` (and npm install); build it here when a checkout skipped that.
    if (!existsSync(`${CONSOLE_DIR}index.html`))
      execFileSync('npm', ['run', 'build:web'], { cwd: REPO_ROOT, stdio: 'ignore' });
    local = await startCluster({ 'dispatch.max_attempts': 1 });
    await local.addSampleFeeds([GOOD, BROKEN, 'atom-minimal.atom', 'rss2-cdata.xml']);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    errors = collectErrors(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopEverything();
  }, 60_000);

  it('shows the error for a wrong password, logs in, logs out', async () => {
    await login(page, local.admin.username, 'not-the-password');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong username or password');
    await login(page, local.admin.username, local.admin.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.length)).toBe(1);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Cascade' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.length)).toBe(0);
    await login(page, local.admin.username, local.admin.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  it('adds a node, shows its secret once and never after a reload, and the child comes online live', async () => {
    await page.getByRole('link', { name: 'Nodes', exact: true }).click();
    await page.getByText('No nodes yet: add one').waitFor();
    await page.getByRole('button', { name: 'Add a node' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('web-a');
    await dialog.getByLabel(/Max capacity/).fill('4');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByTestId('credentials').waitFor();
    const apiKey = (await dialog.getByTestId('api-key').textContent()) ?? '';
    secret = (await dialog.getByTestId('api-secret').textContent()) ?? '';
    expect(secret).toMatch(/^CS/);
    expect(await dialog.locator('pre').textContent()).toContain(`api_secret: "${secret}"`);
    await expect.poll(() => dialog.getByRole('button', { name: 'Copy api_secret' }).count()).toBe(1);
    await dialog.getByRole('button', { name: 'Done' }).click();

    await page.reload();
    await page.getByRole('link', { name: 'web-a' }).waitFor();
    expect(await page.content()).not.toContain(secret);
    await page.getByRole('link', { name: 'web-a' }).click();
    await page.getByRole('heading', { name: /web-a/ }).waitFor();
    expect(await page.content()).not.toContain(secret);

    // A real child with the credentials from the page; its status turns online without a reload.
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).marker = 1));
    startChild(local, { api_key: apiKey, api_secret: secret }, 'web-a', { maxConcurrency: 4 });
    await page.getByRole('heading', { name: /web-a/ }).getByText('online').waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).marker)).toBe(1);
  });

  it('dispatches from the page and shows allocations completing and a broken feed failing with its reason, live', async () => {
    const b = await local.addNode('web-b', 4);
    startChild(local, b, 'web-b', { maxConcurrency: 4 });
    await waitFor(
      'web-b online',
      async () =>
        (await local.api.listAll<{ name: string; status: number }>('/api/v1/cascade/nodes')).some(
          (n) => n.name === 'web-b' && n.status === 1,
        )
          ? true
          : undefined,
      30_000,
    );

    await page.getByRole('link', { name: 'Tasks and feeds' }).click();
    await page.getByText('No tasks yet').waitFor();
    await page.getByRole('button', { name: 'New task' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Task').fill('web task');
    await dialog.getByLabel('Schedule (cron)').fill('0 3 * * *');
    await dialog.getByRole('listbox').selectOption([GOOD, BROKEN, 'atom-minimal.atom', 'rss2-cdata.xml']);
    await dialog.getByRole('button', { name: 'Save' }).click();
    // The schedule's next three runs, in words and in the viewer's time zone (03:00 in Asia/Shanghai).
    const runs = page.locator('tr[data-task="web task"] ol.runs li');
    await expect.poll(() => runs.count()).toBe(3);
    // The parent's cron runs (its own zone), shown in the viewer's zone (the browser runs in Asia/Shanghai).
    const cron = await local.api.call<{ cron: Array<{ task_name: string; next_runs: string[] }> }>(
      'GET',
      '/api/v1/cascade/activity?minutes=1',
    );
    const expected = (cron.cron.find((c) => c.task_name === 'web task')?.next_runs ?? []).map((iso) =>
      new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'Asia/Shanghai' }).format(
        new Date(iso),
      ),
    );
    expect(expected).toHaveLength(3);
    const shown = await runs.allTextContents();
    shown.forEach((run, i) =>
      expect(run).toMatch(
        new RegExp(`^(in \\d+ (hours?|hr\\.|minutes?|min\\.)|tomorrow|in \\d+ days?) · ${expected[i]}$`),
      ),
    );
    await page.getByRole('button', { name: 'Dispatch web task now' }).click();
    await expect
      .poll(() => page.getByTestId('dispatch-result').textContent())
      .toMatch(/Dispatched 1 task\(s\): \d+ allocation\(s\) created, 4 feed\(s\) placed/);
    taskId =
      (await local.api.listAll<{ id: string; name: string }>('/api/v1/message-tasks')).find(
        (t) => t.name === 'web task',
      )?.id ?? '';

    await page.evaluate(() => ((globalThis as unknown as PageGlobals).marker = 2));
    await page.getByRole('link', { name: 'Allocations' }).click();
    await page.locator('tr[data-status="completed"]').first().waitFor({ timeout: 30_000 });
    await page.locator('tr[data-status="failed"]').first().waitFor({ timeout: 30_000 });
    await expect
      .poll(
        () => page.locator('tr[data-status="pending"], tr[data-status="claimed"], tr[data-status="executing"]').count(),
        { timeout: 30_000 },
      )
      .toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).marker)).toBe(2);

    const failed = (await allocationsOf()).filter((a) => a.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((a) => a.feed_ids.includes(sampleFeedId(BROKEN)))).toBe(true);
    await page.locator('tr[data-status="failed"] a').first().click();
    await expect.poll(() => page.getByTestId('allocation-error').textContent()).toMatch(/.{5,}/);
    expect(await page.getByTestId('allocation-error').textContent()).toBe(failed[0]?.error_message);
    await page.getByRole('heading', { name: 'Attempts' }).waitFor();
  });

  it('edits capacity and feed quota on the page, and the next dispatch follows them', async () => {
    const nodes = await local.api.listAll<{ id: string; name: string }>('/api/v1/cascade/nodes');
    const webB = nodes.find((n) => n.name === 'web-b');
    await page.goto(`${base()}/nodes/${webB?.id}`);
    await page.getByRole('heading', { name: /web-b/ }).waitFor();
    await page.getByLabel('Max capacity (feeds at once)').fill('2');
    await page.getByRole('button', { name: 'Add a feed' }).click();
    await page.getByLabel('Feed of quota row 1').fill(sampleFeedId(GOOD));
    await page.getByLabel('Weight of quota row 1').fill('5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved: the next dispatch uses these settings.').waitFor();
    const saved = await local.api.call<{ sync_config: { max_capacity: number; feed_quota: Record<string, number> } }>(
      'GET',
      `/api/v1/cascade/nodes/${webB?.id}`,
    );
    expect(saved.sync_config).toEqual({ max_capacity: 2, feed_quota: { [sampleFeedId(GOOD)]: 5 } });

    await page.getByRole('link', { name: 'Tasks and feeds' }).click();
    // Every feed was fetched a moment ago: none is due (docs/refresh.md); the page says so and offers to fetch anyway.
    await page.getByRole('button', { name: 'Dispatch web task now' }).click();
    await expect
      .poll(() => page.getByTestId('dispatch-not-due').textContent())
      .toMatch(/^4 feed\(s\) not due yet \(the next in /);
    expect(await page.getByRole('columnheader', { name: 'Next fetch' }).count()).toBe(1);
    expect(await page.getByRole('columnheader', { name: 'Interval' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Fetch them now' }).click();
    await expect.poll(() => page.getByTestId('dispatch-result').textContent()).toMatch(/4 feed\(s\) placed/);
    const runId =
      (await allocationsOf()).sort((x, y) => (x.created_at < y.created_at ? 1 : -1))[0]?.schedule_run_id ?? '';
    const rows = await allocationsOf(runId);
    const good = rows.find((r) => r.feed_ids.includes(sampleFeedId(GOOD)));
    expect(good?.node_name).toBe('web-b');
    const onB = rows.filter((r) => r.node_name === 'web-b').reduce((n, r) => n + r.feed_ids.length, 0);
    expect(onB).toBeLessThanOrEqual(2);
    await waitFor(
      'the run to finish',
      async () =>
        (await allocationsOf(runId)).every((r) => ['completed', 'failed'].includes(r.status)) ? true : undefined,
      30_000,
    );
  });

  it('gives a viewer no write control, and the server refuses a write sent by hand with 403', async () => {
    await local.api.call('POST', '/api/v1/users', {
      username: 'watcher',
      password: 'watcher-password',
      role: 'viewer',
    });
    const viewer = await browser.context.newPage();
    const viewerErrors = collectErrors(viewer);
    await login(viewer, 'watcher', 'watcher-password');
    await viewer.getByRole('heading', { name: 'Overview' }).waitFor();
    const allowed = new Set(['Log out', 'Previous page', 'Next page', '‹', '›']);
    const nodeId = (await local.api.listAll<{ id: string; name: string }>('/api/v1/cascade/nodes')).find(
      (n) => n.name === 'web-a',
    )?.id;
    const allocationId = (await allocationsOf())[0]?.id;
    for (const path of [...PAGES.map((p) => p.path), `/nodes/${nodeId}`, `/allocations/${allocationId}`]) {
      await viewer.goto(`${base()}${path}`);
      await viewer.locator('main h1').first().waitFor();
      await viewer.waitForLoadState('networkidle');
      const buttons = await viewer.locator('main button:visible').allTextContents();
      expect(
        buttons.filter((b) => !allowed.has(b.trim())),
        path,
      ).toEqual([]);
      expect(await viewer.locator('main form input:visible:not([type=search]):not([name=feed_id])').count(), path).toBe(
        0,
      );
    }
    const forged = await viewer.evaluate(async (id) => {
      const token = (globalThis as unknown as PageGlobals).sessionStorage.getItem('cascade.token');
      const response = await fetch(`/api/v1/cascade/nodes/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ is_active: false }),
      });
      return { status: response.status, body: (await response.json()) as { error: string } };
    }, nodeId);
    expect(forged).toMatchObject({ status: 403, body: { error: 'FORBIDDEN' } });
    expect(viewerErrors.filter((e) => !e.includes('403'))).toEqual([]);
    await viewer.close();
  });

  it('renders every page in English and Chinese with no untranslated key and no console error, and saves screenshots', async () => {
    errors.length = 0;
    for (const language of ['English', '简体中文'] as const) {
      await page.goto(`${base()}/`);
      await page.locator('main h1').first().waitFor();
      await page.getByRole('combobox', { name: /Language|语言/ }).selectOption({ label: language });
      for (const target of PAGES) {
        await page.goto(`${base()}${target.path}`);
        await page.locator('main h1').first().waitFor();
        await page.waitForLoadState('networkidle');
        await page.locator('[aria-busy="true"]').waitFor({ state: 'detached' });
        const text = await page.locator('body').innerText();
        expect(
          MESSAGE_KEYS.filter((key) => text.includes(key)),
          `${language} ${target.path}`,
        ).toEqual([]);
        if (language === '简体中文') expect(text, target.path).toMatch(/[\u4e00-\u9fff]/);
        // The overview's picture comes from the demo's data (demo-console.test.ts).
        if (language === 'English' && target.name !== 'overview')
          await page.screenshot({ path: `${REPO_ROOT}/docs/images/console-${target.name}.png`, fullPage: true });
      }
    }
    await page.getByRole('combobox', { name: /Language|语言/ }).selectOption({ label: 'English' });
    // Phone width: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base()}/nodes`);
    await page.locator('main h1').first().waitFor();
    await page.waitForLoadState('networkidle');
    const overflow = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return g.document.documentElement.scrollWidth - g.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${REPO_ROOT}/docs/images/console-nodes-phone.png` });
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(errors).toEqual([]);
  });

  it('reconnects after a parent restart and keeps updating without a reload', async () => {
    await page.goto(`${base()}/allocations?task_id=${taskId}`);
    await page.getByText('Live', { exact: true }).waitFor();
    const before = await page.locator('tr[data-allocation]').count();
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).marker = 3));
    await local.stopParent();
    await page.getByText('Reconnecting…').waitFor();
    await local.startParentAgain();
    await page.getByText('Live', { exact: true }).waitFor({ timeout: 20_000 });
    const summary = await local.dispatch(taskId, { force: true }); // its feeds were fetched moments ago: not due yet
    expect(summary.allocations_created).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('tr[data-allocation]').count(), { timeout: 20_000 })
      .toBe(before + summary.allocations_created);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).marker)).toBe(3);
  });
});
