// Joining with a pairing code: the display asks for one (with its QR code as PNG), the
// controller joins with it and learns the UUID; an unknown code is final; once the
// code has ended the controller reconnects by UUID.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Controller, Display, HttpError } from '../dist/index.js';
import { newUuid, next, Pairlink, reach, record } from './pairlink.mjs';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const quick = { baseDelay: 50, maxDelay: 200 };

test('a controller joins with the pairing code and learns the UUID', async () => {
  const server = await Pairlink.start();
  const uuid = newUuid();
  const display = new Display({ url: server.url, uuid });
  await reach(display, 'open');
  const pairing = await display.pairingCode();
  assert.match(pairing.code, /^[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{6}$/);
  assert.equal(pairing.uuid, uuid);
  assert.equal(pairing.joinUrl, `${server.url}/ws/join/${pairing.code}`);
  assert.equal(pairing.pageUrl, `${server.http}/join/${pairing.code}`);
  assert.ok(pairing.expiresAt.getTime() > Date.now());
  assert.deepEqual([...pairing.qrPng.subarray(0, 8)], PNG_SIGNATURE);
  assert.equal((await display.pairingCode()).code, pairing.code, 'the same live code again');

  const controller = new Controller({ url: server.url, code: pairing.code.toLowerCase() });
  assert.equal(controller.uuid, undefined);
  assert.equal(controller.code, pairing.code);
  await reach(controller, 'open');
  assert.equal(controller.uuid, uuid);
  assert.equal(controller.welcome.role, 'controller');
  const draw = next(display, 'draw');
  assert.equal(await controller.difficulty(1), 'received');
  await draw;

  // The server restarts: codes live in its memory, so this one has ended. The controller
  // goes on by UUID and is back once its display is.
  const states = record(controller, ['state']);
  await server.stop();
  await server.start();
  await reach(display, 'open');
  await reach(controller, 'open');
  const reasons = states.map(([, state]) => state.reason?.reason);
  assert.ok(reasons.includes('unknown_code'), `the code was refused once: ${reasons}`);
  const again = next(display, 'draw');
  assert.equal(await controller.difficulty(2), 'received');
  assert.equal((await again).difficulty, 2);
  display.close();
  controller.close();
  await server.dispose();
});

test('an unknown code is final, and a code for an offline display is refused', async () => {
  const server = await Pairlink.start();
  const controller = new Controller({ url: server.url, code: 'ZZZZZZ', backoff: quick });
  const closed = await reach(controller, 'closed');
  assert.equal(closed.reason.code, 4404);
  assert.equal(closed.reason.reason, 'unknown_code');

  const offline = new Display({ url: server.url, uuid: newUuid() });
  offline.close();
  await assert.rejects(
    offline.pairingCode(),
    (error) => error instanceof HttpError && error.code === 'display_offline',
  );
  await server.dispose();
});
