// The console's Signaling panel: two people in one signaling room, each in their own
// browser tab, set up a WebRTC data channel through pairlink and chat over it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleSession, openConsole, screenshot } from './console.mjs';

const session = consoleSession();

async function peer(room) {
  const page = await openConsole(session, 'signal');
  await page.getByLabel('Signaling room').fill(room);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#signal-state').filter({ hasText: `in ${room}` }).waitFor();
  return page;
}

test('two peers open a data channel through the console and chat over it', async () => {
  const first = await peer('e2e-call');
  const second = await peer('e2e-call');
  const firstId = (await first.locator('#signal-me').textContent()).trim();
  const secondId = (await second.locator('#signal-me').textContent()).trim();

  // Each sees the other in the room; the second calls the first.
  await first.getByRole('button', { name: `Connect to peer ${secondId}` }).waitFor();
  await second.getByRole('button', { name: `Connect to peer ${firstId}` }).click();
  for (const page of [first, second]) {
    await page.locator('#signal-channel').filter({ hasText: 'open' }).waitFor({ timeout: 20_000 });
  }
  assert.equal((await first.locator('#signal-partner').textContent()).trim(), secondId);
  assert.equal((await second.locator('#signal-partner').textContent()).trim(), firstId);

  await first.getByLabel('Message to the peer').fill('hello over WebRTC');
  await first.getByRole('button', { name: 'Send to peer' }).click();
  await second.locator('#signal-chat .entry-in').filter({ hasText: 'hello over WebRTC' }).waitFor();
  await second.getByLabel('Message to the peer').fill('hi back, peer to peer');
  await second.getByRole('button', { name: 'Send to peer' }).click();
  await first.locator('#signal-chat .entry-in').filter({ hasText: 'hi back, peer to peer' }).waitFor();
  assert.match(await first.locator('#signal-connection').textContent(), /connected/);

  // The offer, answer and candidates went through pairlink.
  await second.getByText('Signaling messages').click();
  const wire = await second.locator('#signal-log').textContent();
  assert.match(wire, /offer/i);
  assert.match(wire, /answer/i);
  assert.match(wire, /candidate/i);

  await screenshot(first, 'console-signaling');
  await screenshot(second, 'console-signaling-caller');

  // When one leaves, the other sees it.
  await second.getByRole('button', { name: 'Leave' }).click();
  await first.locator('#signal-chat').getByText(`${secondId} left the room`).waitFor();
  await first.locator('#signal-channel').filter({ hasText: 'closed' }).waitFor();
  assert.deepEqual([...first.problems, ...second.problems], []);
});
