// The console's Rooms panel: two people in one room see each other and every message
// with its seq; one leaves, misses messages, reconnects and sees them replayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleSession, openConsole, screenshot } from './console.mjs';

const session = consoleSession();

async function member(name, room) {
  const page = await openConsole(session, 'rooms');
  await page.getByLabel('Room', { exact: true }).fill(room);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#rooms-state').filter({ hasText: `in ${room}` }).waitFor();
  return page;
}

async function say(page, text, format = 'text') {
  await page.getByRole('radio', { name: format }).check();
  await page.getByLabel('Message to the room').fill(text);
  await page.getByRole('button', { name: 'Send to room' }).click();
}

/** The message with this seq as the page shows it. */
function message(page, seq) {
  return page.locator(`#rooms-messages .entry[data-seq="${seq}"]`);
}

test('members see each other and every message with its seq, and a reconnect replays what was missed', async () => {
  const ana = await member('Ana', 'e2e-lobby');
  const bo = await member('Bo', 'e2e-lobby');
  const members = ana.locator('#rooms-members');
  await members.getByText('Bo').waitFor();
  assert.deepEqual(await members.locator('.member-name').allTextContents(), ['Ana', 'Bo']);
  await ana.locator('#rooms-messages').getByText(/Bo \(.*\) joined/).waitFor();

  await say(ana, 'hello');
  await say(bo, '{"score":3}', 'json');
  for (const page of [ana, bo]) {
    await message(page, 2).waitFor();
    assert.match(await message(page, 1).textContent(), /#1.*Ana: hello/);
    assert.match(await message(page, 2).textContent(), /#2.*Bo: \{"score":3\}/);
  }
  await bo.locator('#rooms-seq').filter({ hasText: 'last seq: 2' }).waitFor();

  // Bo leaves; Ana goes on talking.
  await bo.getByRole('button', { name: 'Leave' }).click();
  await bo.locator('#rooms-state').filter({ hasText: 'left e2e-lobby' }).waitFor();
  await ana.locator('#rooms-messages').getByText(/Bo \(.*\) left/).waitFor();
  await say(ana, 'while you were away');
  await say(ana, 'still there?');
  await message(ana, 4).waitFor();

  await bo.getByRole('button', { name: 'Reconnect' }).click();
  await bo.locator('#rooms-recovery').filter({ hasText: 'recovered: 2 missed messages replayed' }).waitFor();
  for (const seq of [3, 4]) {
    assert.match(await message(bo, seq).textContent(), /replayed/);
  }
  assert.match(await message(bo, 3).textContent(), /Ana: while you were away/);
  assert.equal(await bo.locator('#rooms-messages .entry[data-seq="1"]').count(), 1, 'nothing seen twice');
  await say(bo, "I'm back");
  await message(ana, 5).filter({ hasText: "Bo: I'm back" }).waitFor();

  await screenshot(ana, 'console-rooms');
  await screenshot(bo, 'console-rooms-recovered');
  assert.deepEqual([...ana.problems, ...bo.problems], []);
});

test('JSON that does not parse is pointed out before it is sent', async () => {
  const cy = await member('Cy', 'e2e-json');
  await say(cy, '{"unfinished":', 'json');
  const error = cy.locator('#rooms-message-error');
  await error.waitFor();
  assert.match(await error.textContent(), /Not valid JSON/);
  assert.equal(await cy.getByLabel('Message to the room').getAttribute('aria-invalid'), 'true');
  assert.equal(await cy.locator('#rooms-messages .entry[data-seq]').count(), 0);
});

test('a room name the server refuses is explained', async () => {
  const page = await openConsole(session, 'rooms');
  // The field's pattern stops such a name in the browser; without it, the server's
  // own refusal must be shown.
  await page.evaluate(() => document.getElementById('rooms-room').removeAttribute('pattern'));
  await page.getByLabel('Room', { exact: true }).fill('no spaces allowed');
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#rooms-state').filter({ hasText: 'refused' }).waitFor();
  assert.match(await page.locator('#rooms-messages .entry-error').textContent(), /invalid_room/);
});
