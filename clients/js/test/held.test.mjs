// Held delivery (`--hold-for`): a difficulty for an absent display is `queued`, and the
// draw reaches the display when it is back; one that waits too long is reported `expired`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Controller, Display, ServerError } from '../dist/index.js';
import { newUuid, next, Pairlink, reach } from './pairlink.mjs';

/** A pair whose display then leaves: the controller stays, the display is gone. */
async function displayGone(server) {
  const uuid = newUuid();
  const display = new Display({ url: server.url, uuid });
  await reach(display, 'open');
  const controller = new Controller({ url: server.url, uuid });
  await reach(controller, 'open');
  const gone = next(controller, 'peer', (peer) => !peer.connected);
  display.close();
  await gone;
  return { uuid, controller };
}

test('queued while the display is away, then the held draw after it reconnects', async () => {
  const server = await Pairlink.start(['--hold-for', '30s']);
  const { uuid, controller } = await displayGone(server);
  assert.equal(controller.welcome.holdMs, 30_000);
  const asked = new Date();
  assert.equal(await controller.difficulty(2), 'queued');

  const display = new Display({ url: server.url, uuid });
  const draw = await next(display, 'draw');
  assert.equal(draw.held, true);
  assert.equal(draw.difficulty, 2);
  assert.ok(draw.sentAt instanceof Date);
  assert.ok(Math.abs(draw.sentAt.getTime() - asked.getTime()) < 60_000, 'sent_at is the time of the request');
  display.close();
  controller.close();
  await server.dispose();
});

test('a held draw that expires is reported as an expired error with its difficulty', async () => {
  const server = await Pairlink.start(['--hold-for', '300ms']);
  const { controller } = await displayGone(server);
  const expired = next(controller, 'error', (error) => error.code === 'expired');
  assert.equal(await controller.difficulty(4), 'queued');
  const error = await expired;
  assert.ok(error instanceof ServerError);
  assert.equal(error.difficulty, 4);
  assert.equal(typeof error.id, 'number');
  assert.equal(controller.state.type, 'open');
  controller.close();
  await server.dispose();
});
