/**
 * The console in a real browser: headless Chromium (the system's /usr/bin/chromium, driven by
 * playwright-core) against a running broker. One browser for the whole file; every page is
 * checked for error banners, uncaught exceptions and console errors, and screenshots are kept
 * under reports/console/ (git-ignored) as artifacts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleFixture, startConsole } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../../reports/console');

let fixture: ConsoleFixture;
let context: BrowserContext;
let userDataDir: string;
let page: Page;
const problems: string[] = [];

async function open(hash: string): Promise<void> {
  await page.goto(`${fixture.base}/${hash}`);
  await page.locator('main h1').first().waitFor();
}

async function screenshot(name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  fixture = await startConsole({ sampleIntervalMs: 200 });
  const admin = fixture.gregor.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] });
  const producer = fixture.gregor.producer();
  await producer.connect();
  await producer.send({ topic: 'orders', messages: Array.from({ length: 12 }, (_, i) => ({ key: `user-${i % 3}`, value: JSON.stringify({ order: i }) })) });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  // Anything the page asks of another host would be refused by the CSP; count it too.
  page.on('request', (request) => {
    if (!request.url().startsWith(fixture.base) && !request.url().startsWith('data:')) problems.push(`request outside the console: ${request.url()}`);
  });
});

afterEach(async () => {
  const banners = await page.locator('[data-testid="error"]').allTextContents();
  expect({ banners, problems }).toEqual({ banners: [], problems: [] });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  await fixture?.close();
});

describe('the console in Chromium', () => {
  it('shows the cluster overview: brokers, controller, partitions, alerts, disk', async () => {
    await open('#/');
    await expect.poll(() => page.getByTestId('stat-brokers').textContent()).toContain('1');
    await page.getByTestId('alerts-row').first().waitFor();
    expect(await page.getByTestId('alerts-row').count()).toBe(4);
    expect(await page.getByTestId('brokers-row').first().textContent()).toContain('controller');
    await page.getByTestId('throughput-chart').locator('canvas').waitFor();
    await screenshot('overview');
  });

  it('lists topics and shows a topic\'s partitions with leader, ISR and offsets', async () => {
    await open('#/topics');
    await page.getByRole('link', { name: 'orders' }).click();
    await page.getByTestId('partitions-row').nth(2).waitFor();
    expect(await page.getByTestId('partitions-row').count()).toBe(3);
    await page.getByTestId('configs').waitFor();
    await screenshot('topic');
  });

  it('shows a produced record in the live tail without a reload', async () => {
    await open('#/tail/orders');
    await page.getByText('live: new records appear').waitFor();
    await expect.poll(() => page.getByTestId('tail-row').count()).toBe(12);
    await page.evaluate('window.marker = 42');
    const producer = fixture.gregor.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ key: 'live-key', value: 'arrived while watching' }] });
    await page.getByTestId('tail-row').filter({ hasText: 'arrived while watching' }).waitFor({ timeout: 20_000 });
    expect(await page.evaluate('window.marker')).toBe(42);
    await screenshot('tail');
  });

  it('searches by key from the keyboard', async () => {
    await open('#/tail/orders');
    await page.getByText('live: new records appear').waitFor();
    await page.keyboard.press('/');
    await page.keyboard.press('Tab');
    await page.keyboard.type('user-1');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await page.getByTestId('tail-row').allTextContents()).length).toBe(4);
    for (const row of await page.getByTestId('tail-row').allTextContents()) expect(row).toContain('user-1');
  });

  it('shows a group\'s lag rise and fall', async () => {
    const admin = fixture.gregor.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets('orders');
    await admin.setOffsets({ groupId: 'watchers', topic: 'orders', partitions: ends.map((o) => ({ partition: o.partition, offset: o.high })) });
    await open('#/groups/watchers');
    await expect.poll(() => page.getByTestId('group-lag').textContent(), { timeout: 20_000 }).toBe('0');
    const producer = fixture.gregor.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: Array.from({ length: 7 }, (_, i) => ({ value: `more-${i}`, partition: 0 })) });
    await expect.poll(() => page.getByTestId('group-lag').textContent(), { timeout: 20_000 }).toBe('7');
    await page.getByTestId('lag-chart').locator('canvas').waitFor();
    await screenshot('group-lag');
    const after = await admin.fetchTopicOffsets('orders');
    await admin.setOffsets({ groupId: 'watchers', topic: 'orders', partitions: after.map((o) => ({ partition: o.partition, offset: o.high })) });
    await expect.poll(() => page.getByTestId('group-lag').textContent(), { timeout: 20_000 }).toBe('0');
  });

  it('sends a record from the produce form', async () => {
    await open('#/produce/orders');
    await page.getByLabel('Key').fill('form-key');
    await page.getByLabel('Value', { exact: true }).fill('{"from":"the form"}');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.getByTestId('produced').textContent()).toMatch(/Written to orders, partition \d, offset \d+/);
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    try {
      await open('#/topics');
      await page.getByTestId('topics-row').first().waitFor();
      const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow as number).toBeLessThanOrEqual(0);
      await screenshot('phone-topics');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('shows an error banner for a topic that does not exist (the check the other tests rely on)', async () => {
    await page.goto(`${fixture.base}/#/topics/no-such-topic`);
    await page.getByTestId('error').waitFor();
    expect(await page.getByTestId('error').textContent()).toContain("topic 'no-such-topic' does not exist");
    // The 404 the page received shows up as a console error too: clear both, they were expected here.
    problems.splice(0);
    await page.goto('about:blank');
  });
});
