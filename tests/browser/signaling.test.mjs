// Two real WebRTC peers in headless Chromium open a data channel through pairlink's
// signaling endpoint and exchange a message over it.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPairlink, launchChromium } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
let server;
let browser;

before(async () => {
  server = await startPairlink();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function peerPage(room) {
  const page = await browser.newPage();
  // Any page of the server's origin will do: WebRTC needs a secure context, which
  // http://127.0.0.1 is.
  await page.goto(`${server.base}/healthz`);
  await page.addScriptTag({ path: join(here, 'signaling-peer.js') });
  await page.evaluate((url) => window.startPeer(url), `${server.ws}/ws/signal/${room}`);
  return page;
}

test('two browsers open a WebRTC data channel through pairlink and chat over it', async () => {
  const first = await peerPage('e2e-room');
  await first.waitForFunction(() => window.peer.state === 'waiting');
  const second = await peerPage('e2e-room');

  for (const page of [first, second]) {
    await page.waitForFunction(() => window.peer.received.length > 0, null, { timeout: 20_000 });
  }
  const firstPeer = await first.evaluate(() => window.peer.id);
  const secondPeer = await second.evaluate(() => window.peer.id);
  assert.notEqual(firstPeer, secondPeer);
  // Each got the other's greeting over the data channel, not through the server.
  assert.deepEqual(await first.evaluate(() => window.peer.received), [`hello from ${secondPeer}`]);
  assert.deepEqual(await second.evaluate(() => window.peer.received), [`hello from ${firstPeer}`]);
  assert.equal(await first.evaluate(() => window.peer.connection.connectionState), 'connected');
  for (const page of [first, second]) {
    assert.deepEqual(await page.evaluate(() => window.peer.errors), []);
  }
});
