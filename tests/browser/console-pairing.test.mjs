// The console's Pair panel, used as a person would: a display and a controller side by
// side (both on the JavaScript SDK), difficulties and their draws shown with the
// catalogue's texts, errors, presence, relay both ways, and a phone joining with the
// pairing code or its QR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleSession, openConsole, screenshot } from './console.mjs';

const catalog = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo', 'catalog.json'), 'utf8'));
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const session = consoleSession();

/** Waits until the badge `#id` says exactly `text` ('connected' is also in 'disconnected'). */
const badge = (page, id, text) => page.locator(`#${id}`).filter({ hasText: new RegExp(`^${text}$`) }).waitFor();

/** A console page with a fresh UUID and its display connected. */
async function pairPage(options) {
  const page = await openConsole(session, 'pair', options);
  await page.getByRole('button', { name: 'New UUID' }).click();
  await page.getByRole('button', { name: 'Connect display' }).click();
  await badge(page, 'display-state', 'connected');
  return page;
}

test('a display and a controller pair; the draw shows quiz names and choices from the catalogue', async () => {
  const page = await pairPage();
  assert.match(await page.getByLabel('Pair UUID').inputValue(), UUID_SHAPE);
  const display = page.locator('#display-log');
  const controller = page.locator('#controller-log');

  await page.getByRole('button', { name: 'Connect controller' }).click();
  await badge(page, 'controller-state', 'connected');
  // Presence, both ways.
  await badge(page, 'display-peer', 'connected');
  await badge(page, 'controller-peer', 'connected');
  await display.getByText('Controller connected').waitFor();
  await page.getByLabel('Difficulty', { exact: true }).fill('1');
  await page.getByRole('button', { name: 'Send difficulty' }).click();

  await controller.getByText('Delivered to the display').waitFor();
  const draw = display.locator('.entry', { hasText: 'Quizzes' });
  await draw.waitFor();
  await page.waitForFunction(() => ![...document.querySelectorAll('#display-log .draw-title')]
    .some((title) => title.textContent === 'looking up…'));
  const shownQuizzes = await draw.locator('.draw').first().locator('.draw-title').allTextContents();
  const easyQuizzes = catalog.quizzes.filter((quiz) => quiz.difficulty === 1);
  assert.equal(shownQuizzes.length, 3);
  for (const name of shownQuizzes) {
    assert.ok(easyQuizzes.some((quiz) => quiz.name === name), `${name} is not a difficulty-1 quiz`);
  }
  const shownChoices = await draw.locator('.draw-choices').allTextContents();
  const easyActions = catalog.actions.filter((action) => action.difficulty === 1);
  assert.ok(easyActions.some((action) => shownChoices.includes(`${action.lef_sel} / ${action.rig_sel}`)),
    `no difficulty-1 action among ${shownChoices}`);

  // A difficulty the catalogue does not have: the controller is told, the display gets nothing.
  await page.getByLabel('Difficulty', { exact: true }).fill('99');
  await page.getByRole('button', { name: 'Send difficulty' }).click();
  const error = controller.locator('.entry-error');
  await error.waitFor();
  assert.match(await error.textContent(), /no_content.*difficulty 99/);
  assert.equal(await display.locator('.entry', { hasText: 'Quizzes' }).count(), 1);

  // The display answers the controller through pairlink.
  await page.getByLabel('Message to the controller').fill('{"result":"correct","score":120}');
  await page.getByRole('button', { name: 'Send to controller' }).click();
  await controller.locator('.entry', { hasText: 'from display' }).filter({ hasText: '{"result":"correct","score":120}' }).waitFor();
  // And the controller answers the display.
  await page.getByLabel('Message to the display').fill('{"button":"A","pressed":true}');
  await page.getByRole('button', { name: 'Send to display' }).click();
  await display.locator('.entry', { hasText: 'from controller' }).filter({ hasText: '{"button":"A","pressed":true}' }).waitFor();
  // The controller leaves: the display is told.
  await page.getByRole('button', { name: 'Disconnect' }).nth(1).click();
  await badge(page, 'display-peer', 'absent');
  // Once when the display connected, alone; again now.
  await display.getByText('Controller not connected').nth(1).waitFor();

  await screenshot(page, 'console-pair');
  assert.deepEqual(page.problems, []);
});

test('a pairing code and its QR appear for a connected display, and a phone joins with the code', async () => {
  const headset = await pairPage();
  await headset.getByRole('button', { name: 'Get pairing code' }).click();
  await headset.locator('#display-code-box').waitFor();
  const code = (await headset.locator('#display-code-value').textContent()).trim();
  assert.match(code, /^[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{6}$/);
  assert.match(await headset.locator('#display-code-box').textContent(), /Expires at .* \(in 10 min\)/);
  const qr = headset.getByRole('img', { name: `QR code of the join URL for pairing code ${code}` });
  await headset.waitForFunction((img) => img.complete && img.naturalWidth > 0, await qr.elementHandle());

  const phone = await openConsole(session, 'pair', { viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.getByLabel('Or join with a pairing code').fill(code.toLowerCase());
  await phone.getByRole('button', { name: 'Join with code' }).click();
  await badge(phone, 'controller-state', 'connected');
  assert.equal(await headset.locator('#display-code-page').getAttribute('href'), `${session.server.base}/join/${code}`);
  await phone.getByLabel('Difficulty', { exact: true }).fill('3');
  await phone.getByRole('button', { name: 'Send difficulty' }).click();
  await phone.locator('#controller-log').getByText('Delivered to the display').waitFor();
  await headset.locator('#display-log .entry', { hasText: 'Quizzes' }).waitFor();
  await headset.waitForFunction(() => ![...document.querySelectorAll('#display-log .draw-title')]
    .some((title) => title.textContent === 'looking up…'));
  await screenshot(headset, 'console-pair-code');
  await phone.locator('#controller-title').evaluate((title) => title.scrollIntoView());
  await screenshot(phone, 'console-phone', { fullPage: false });
  await screenshot(phone, 'console-phone-full');
  assert.deepEqual([...headset.problems, ...phone.problems], []);
});

test('a controller whose display is offline says why, waits, and connects when the display does', async () => {
  const page = await openConsole(session, 'pair');
  await page.getByRole('button', { name: 'New UUID' }).click();
  await page.getByRole('button', { name: 'Connect controller' }).click();

  await badge(page, 'controller-state', 'waiting for display');
  const error = page.locator('#controller-log .entry-error');
  assert.match(await error.textContent(), /display_offline.*connect the display first/);
  assert.equal(await page.getByRole('button', { name: 'Disconnect' }).nth(1).isEnabled(), true);
  await screenshot(page, 'console-pair-refused');

  await page.getByRole('button', { name: 'Connect display' }).click();
  await badge(page, 'controller-state', 'connected');
  await page.locator('#controller-log').getByText(/^Reconnected as the controller/).waitFor();
  assert.deepEqual(page.problems, []);
});

test('the panels are reachable from the keyboard', async () => {
  const page = await openConsole(session, 'pair');
  await page.getByRole('tab', { name: 'Pair' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.getByRole('tab', { name: 'Rooms', selected: true }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Rooms');
  assert.equal(await page.getByRole('tabpanel', { name: 'Rooms' }).isVisible(), true);
  assert.equal(await page.getByRole('tabpanel', { name: 'Pair' }).isVisible(), false);
  await page.keyboard.press('End');
  await page.getByRole('tab', { name: 'Server status', selected: true }).waitFor();
  assert.equal(new URL(page.url()).hash, '#status');
  // Every input has a label a screen reader announces.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input')]
    .filter((input) => input.labels.length === 0 && !input.getAttribute('aria-label'))
    .map((input) => input.id || input.name));
  assert.deepEqual(unlabelled, []);
});
