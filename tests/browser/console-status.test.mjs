// The console's Server status panel: the numbers follow the connections this test
// opens from other console pages, live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleSession, openConsole, screenshot } from './console.mjs';

const session = consoleSession();

/** Waits until the card titled `name` shows `expected`. */
async function waitForStat(page, name, expected) {
  await page.locator('.stat', { has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) })
    .locator('dd').filter({ hasText: new RegExp(`^${expected}$`) }).waitFor();
}

test('the status panel shows the displays, controllers, rooms and traffic opened from other pages', async () => {
  const status = await openConsole(session, 'status');
  await status.locator('#status-state').filter({ hasText: 'live' }).waitFor();
  await waitForStat(status, 'Displays', '0');
  await waitForStat(status, 'Controllers', '0');

  const pair = await openConsole(session, 'pair');
  await pair.getByRole('button', { name: 'New UUID' }).click();
  await pair.getByRole('button', { name: 'Connect display' }).click();
  await waitForStat(status, 'Displays', '1');
  await pair.getByRole('button', { name: 'Connect controller' }).click();
  await waitForStat(status, 'Controllers', '1');

  const rooms = await openConsole(session, 'rooms');
  await rooms.getByLabel('Your name').fill('Watcher');
  await rooms.getByRole('button', { name: 'Join' }).click();
  await waitForStat(status, 'Rooms', '1');
  await waitForStat(status, 'Room members', '1');
  await waitForStat(status, 'WebSocket connections', '3');

  // Traffic: difficulties until the status panel shows messages flowing.
  const rate = status.locator('#stat-messages_per_second');
  const deadline = Date.now() + 15_000;
  while (Number(await rate.textContent()) === 0) {
    assert.ok(Date.now() < deadline, 'messages per second stayed at 0');
    await pair.getByRole('button', { name: 'Send difficulty' }).click();
    await pair.waitForTimeout(100);
  }
  assert.ok(Number(await rate.textContent()) > 0);
  assert.match(await status.locator('#stat-uptime_seconds').textContent(), /\d+ s/);
  await screenshot(status, 'console-status');

  // Closing the display shows at once in the numbers.
  await pair.locator('#display-disconnect').click();
  await waitForStat(status, 'Displays', '0');
  assert.deepEqual([...status.problems, ...pair.problems, ...rooms.problems], []);
});

test('/api/stats answers the fields the console reads', async () => {
  const response = await fetch(`${session.server.base}/api/stats`);
  assert.equal(response.headers.get('content-type'), 'application/json');
  const stats = await response.json();
  for (const field of ['displays', 'controllers', 'rooms', 'room_members', 'signal_rooms', 'signal_peers',
    'hub_clients', 'connections', 'messages_per_second', 'uptime_seconds']) {
    assert.equal(typeof stats[field], 'number', field);
  }
});
