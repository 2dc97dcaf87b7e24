// The SDK in a real browser (Debian's headless Chromium): the console's Pair panel as
// the display and the phone page at /join/{CODE} as the controller, both running the
// SDK bundle that pairlink embeds. They pair with a code, then a draw and relay data go
// each way. Screenshots land in test/artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Pairlink } from './pairlink.mjs';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

let server;
let browser;
before(async () => {
  server = await Pairlink.start();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** A page in its own context, collecting what it logs as errors. */
async function open(url, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') page.problems.push(`console error: ${message.text()}`);
  });
  await page.goto(url);
  return page;
}

const badge = (page, id, text) =>
  page
    .locator(`#${id}`)
    .filter({ hasText: new RegExp(`^${text}$`) })
    .waitFor();

test('a display page and the phone page pair with a code: a draw and relay data each way', async () => {
  const display = await open(`${server.http}/#pair`, { viewport: { width: 1280, height: 900 } });
  await display.getByRole('button', { name: 'New UUID' }).click();
  await display.getByRole('button', { name: 'Connect display' }).click();
  await badge(display, 'display-state', 'connected');
  await display.getByRole('button', { name: 'Get pairing code' }).click();
  await display.locator('#display-code-box').waitFor();
  const code = (await display.locator('#display-code-value').textContent()).trim();
  const pageUrl = await display.locator('#display-code-page').getAttribute('href');
  assert.equal(pageUrl, `${server.http}/join/${code}`);
  const qr = await display.locator('#display-code-qr').elementHandle();
  await display.waitForFunction((img) => img.complete && img.naturalWidth > 0, qr);

  // The phone opens the page the QR code leads to.
  const phone = await open(pageUrl, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await badge(phone, 'join-state', 'connected');
  await badge(phone, 'join-peer', 'connected');
  await badge(display, 'display-peer', 'connected');

  // A draw: the phone asks, the display shows the quizzes.
  await phone.getByRole('button', { name: '2', exact: true }).click();
  await phone.locator('#join-answer').filter({ hasText: 'Difficulty 2: on the display' }).waitFor();
  await display.locator('#display-log .entry', { hasText: 'Quizzes' }).waitFor();

  // Relay, phone to display: a pad button and the drag area.
  await phone.getByRole('button', { name: 'A', exact: true }).click();
  const fromPhone = display.locator('#display-log .entry', { hasText: 'from controller' });
  await fromPhone.filter({ hasText: '{"button":"A","pressed":true}' }).waitFor();
  await fromPhone.filter({ hasText: '{"button":"A","pressed":false}' }).waitFor();
  const area = await phone.locator('#join-stick').boundingBox();
  // Pressed off the centre, so that the only [0,0] is the one the release sends.
  await phone.mouse.move(area.x + area.width * 0.75, area.y + area.height / 2);
  await phone.mouse.down();
  await phone.mouse.move(area.x + area.width - 2, area.y + 2, { steps: 4 });
  await fromPhone
    .filter({ hasText: /\{"stick":\[0\.9\d*,0\.9\d*\]\}/ })
    .first()
    .waitFor();
  await phone.mouse.up();
  await fromPhone.filter({ hasText: '{"stick":[0,0]}' }).waitFor();

  // Relay, display to phone.
  await display.getByLabel('Message to the controller').fill('{"result":"correct","score":120}');
  await display.getByRole('button', { name: 'Send to controller' }).click();
  await phone.locator('#join-inbox .entry', { hasText: '{"result":"correct","score":120}' }).waitFor();

  mkdirSync(artifacts, { recursive: true });
  await display.screenshot({ path: join(artifacts, 'display.png'), fullPage: true });
  await phone.screenshot({ path: join(artifacts, 'phone.png'), fullPage: true });
  assert.deepEqual([...display.problems, ...phone.problems], []);

  // The display goes: the phone sees it, and waits for it.
  await display.getByRole('button', { name: 'Disconnect' }).first().click();
  await badge(phone, 'join-peer', 'absent');
  assert.equal(await phone.locator('#join-state').textContent(), 'connected');
});

test('the phone page explains a code that is not valid', async () => {
  const phone = await open(`${server.http}/join/ZZZZZZ`, { viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.locator('#join-problem').filter({ hasText: 'not valid any more' }).waitFor();
  assert.equal(await phone.getByLabel('Another pairing code').isVisible(), true);
  assert.equal(await phone.getByRole('button', { name: '1', exact: true }).isDisabled(), true);
  await phone.screenshot({ path: join(artifacts, 'phone-unknown-code.png'), fullPage: true });
});
