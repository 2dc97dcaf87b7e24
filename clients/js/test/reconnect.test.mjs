// Reconnecting against a real pairlink: which closes are final, a restart on the same
// port, a controller that comes before its display, a frozen server, and the ping that
// keeps a quiet connection inside the server's idle timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionLostError, Controller, Display, RefusedError } from '../dist/index.js';
import { newUuid, next, Pairlink, reach, record, sleep } from './pairlink.mjs';

/** Short waits between attempts, so that tests do not sit through real backoff. */
const quick = { baseDelay: 50, maxDelay: 200 };

test('4001: the replaced display ends closed(replaced) and does not reconnect', async () => {
  const server = await Pairlink.start();
  const uuid = newUuid();
  const first = new Display({ url: server.url, uuid, backoff: quick });
  await reach(first, 'open');
  const states = record(first, ['state']);
  const second = new Display({ url: server.url, uuid, backoff: quick });
  await reach(second, 'open');
  const closed = await reach(first, 'closed');
  assert.equal(closed.reason.code, 4001);
  assert.equal(closed.reason.reason, 'replaced');
  assert.ok(closed.reason.error instanceof RefusedError);
  assert.equal(closed.reason.error.closeCode, 4001);

  // Had the first reconnected, it would have replaced the second in turn. Wait well past
  // several of its backoff delays and check that nothing moved.
  const secondStates = record(second, ['state']);
  await sleep(1000);
  assert.deepEqual(
    states.map(([, state]) => state.type),
    ['closed'],
  );
  assert.deepEqual(secondStates, []);
  const controller = new Controller({ url: server.url, uuid });
  await reach(controller, 'open');
  const draw = next(second, 'draw');
  await controller.difficulty(1);
  await draw;
  for (const client of [second, controller]) client.close();
  await server.dispose();
});

test('a server restart on the same port: both sides reconnect by themselves and draw again', async () => {
  const server = await Pairlink.start();
  const uuid = newUuid();
  const display = new Display({ url: server.url, uuid, backoff: quick });
  const controller = new Controller({ url: server.url, uuid, backoff: quick });
  await reach(display, 'open');
  await reach(controller, 'open');
  const displayDown = reach(display, 'reconnecting');
  const controllerDown = reach(controller, 'reconnecting');
  await server.stop();
  const down = await displayDown;
  assert.equal(down.reason.code, 1001, 'a server shutting down says going away');
  assert.equal(down.attempt, 1);
  await controllerDown;

  await server.start();
  await reach(display, 'open');
  await reach(controller, 'open');
  const draw = next(display, 'draw');
  assert.equal(await controller.difficulty(3), 'received');
  assert.equal((await draw).difficulty, 3);
  display.close();
  controller.close();
  await server.dispose();
});

test('a controller started before its display retries until the display appears', async () => {
  const server = await Pairlink.start();
  const uuid = newUuid();
  const controller = new Controller({ url: server.url, uuid, backoff: quick });
  const waiting = await reach(controller, 'reconnecting');
  assert.equal(waiting.reason.code, 4400);
  assert.equal(waiting.reason.reason, 'display_offline');
  assert.equal(waiting.reason.error.code, 'display_offline');
  assert.match(waiting.reason.error.message, /display/);
  await reach(controller, 'reconnecting'); // and again: it keeps waiting

  const display = new Display({ url: server.url, uuid });
  await reach(controller, 'open');
  const draw = next(display, 'draw');
  assert.equal(await controller.difficulty(1), 'received');
  await draw;
  display.close();
  controller.close();
  await server.dispose();
});

test('a frozen server: reconnecting within two pings, in-flight requests lost, open again after SIGCONT', async () => {
  const server = await Pairlink.start();
  const uuid = newUuid();
  const options = { url: server.url, uuid, pingInterval: 200, connectTimeout: 1000, backoff: quick };
  const display = new Display(options);
  const controller = new Controller(options);
  await reach(display, 'open');
  await reach(controller, 'open');

  const lost = reach(controller, 'reconnecting');
  server.pause();
  const inFlight = controller.difficulty(1);
  const state = await lost;
  assert.equal(state.reason.reason, 'ping_timeout');
  await assert.rejects(inFlight, ConnectionLostError);
  await reach(display, 'reconnecting');

  server.resume();
  await reach(display, 'open');
  await reach(controller, 'open');
  const draws = record(display, ['draw']);
  const draw = next(display, 'draw', (draw) => draw.difficulty === 2);
  assert.equal(await controller.difficulty(2), 'received');
  await draw;
  // The lost difficulty was never sent again by the SDK. (The server may still have
  // read the first one from its buffer after SIGCONT: at most one draw, never two.)
  assert.ok(draws.filter(([, draw]) => draw.difficulty === 1).length <= 1);
  display.close();
  controller.close();
  await server.dispose();
});

test('the ping follows the welcome: at most a third of the idle timeout', async () => {
  // The server pings rarely, so only the SDK's own pings keep the connection alive.
  const server = await Pairlink.start(['--idle-timeout', '900ms', '--ping-interval', '60s']);
  const display = new Display({ url: server.url, uuid: newUuid() }); // default ping: 10 s
  await reach(display, 'open');
  assert.equal(display.welcome.idleTimeoutMs, 900);
  const states = record(display, ['state']);
  await sleep(2500);
  assert.deepEqual(states, [], 'no 4002 idle timeout, no reconnect');
  assert.ok((await display.ping()) >= 0);
  display.close();
  await server.dispose();
});

test('retryNow() skips the rest of the wait', async () => {
  const server = await Pairlink.start();
  const uuid = newUuid();
  const controller = new Controller({
    url: server.url,
    uuid,
    backoff: { baseDelay: 60_000, maxDelay: 60_000, random: () => 0.99 },
  });
  // Attempt 1 waits about a minute; a display appears; retryNow connects at once.
  await reach(controller, 'reconnecting');
  const display = new Display({ url: server.url, uuid });
  await reach(display, 'open');
  controller.retryNow();
  await reach(controller, 'open', 5000);
  display.close();
  controller.close();
  await server.dispose();
});
