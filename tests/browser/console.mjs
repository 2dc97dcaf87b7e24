// What the console's browser tests share: one pairlink and one Chromium per test file,
// the console opened in a fresh browser context, and screenshots saved to artifacts/
// (kept by CI, ignored by git).
import { mkdirSync } from 'node:fs';
import { after, before } from 'node:test';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPairlink, launchChromium } from './server.mjs';

export const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

/** Starts pairlink and Chromium before the file's tests and stops them after them.
 * The returned session holds `server` and `browser` once they run. */
export function consoleSession() {
  const session = { server: null, browser: null };
  before(async () => {
    session.server = await startPairlink();
    session.browser = await launchChromium();
  });
  after(async () => {
    await session.browser?.close();
    await session.server?.stop();
  });
  return session;
}

/** A new page on the console at `#panel`, in its own browser context; `options` are
 * Playwright's context options (a phone's viewport, say). Errors the page logs are
 * collected in `page.problems`. */
export async function openConsole({ browser, server }, panel, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.problems = problems;
  await page.goto(`${server.base}/#${panel}`);
  await page.getByRole('tab', { name: tabNames[panel], selected: true }).waitFor();
  return page;
}

const tabNames = { pair: 'Pair', rooms: 'Rooms', signal: 'Signaling', status: 'Server status' };

/** Saves a screenshot as artifacts/NAME.png: the whole page, or with `fullPage: false`
 * what the window shows (a phone's screen). */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage });
}
