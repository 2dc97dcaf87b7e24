// A display and a controller against one real pairlink: draws with request ids, typed
// errors, presence and relay both ways, and what the SDK refuses before sending.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ConnectionLostError,
  Controller,
  Display,
  HandlerError,
  NotConnectedError,
  PairlinkError,
  ServerError,
} from '../dist/index.js';
import { newUuid, next, Pairlink, reach, record } from './pairlink.mjs';

let server;
before(async () => {
  server = await Pairlink.start();
});
after(() => server.dispose());

/** A display and its controller, both open. */
async function pair(uuid = newUuid()) {
  const display = new Display({ url: server.url, uuid });
  await reach(display, 'open');
  const controller = new Controller({ url: server.url, uuid });
  await reach(controller, 'open');
  return { display, controller, uuid, close: () => [display.close(), controller.close()] };
}

test('a pair and a draw: each difficulty is answered on its own id', async () => {
  const { display, controller, close } = await pair();
  const draws = record(display, ['draw']);
  // Three requests in flight at once: each promise gets its own answer.
  const answers = await Promise.allSettled([
    controller.difficulty(1),
    controller.difficulty(99),
    controller.difficulty(2),
  ]);
  assert.equal(answers[0].value, 'received');
  assert.equal(answers[1].reason.code, 'no_content');
  assert.equal(answers[2].value, 'received');
  // `received` means written to the display's socket; it may still be on its way here.
  await (draws.length < 2 ? next(display, 'draw', () => draws.length === 2) : null);
  assert.deepEqual(
    draws.map(([, draw]) => draw.difficulty),
    [1, 2],
  );
  for (const [, draw] of draws) {
    assert.equal(draw.quizIds.length, 3);
    assert.equal(new Set(draw.quizIds).size, 3, 'distinct quizzes');
    assert.equal(typeof draw.actionId, 'number');
    assert.equal(draw.held, false);
    assert.equal(draw.sentAt, null);
  }
  close();
});

test('an unknown difficulty rejects with a typed error carrying the server code', async () => {
  const { display, controller, close } = await pair();
  const draws = record(display, ['draw']);
  const error = await controller.difficulty(987654).then(
    () => assert.fail('no draw exists at that difficulty'),
    (error) => error,
  );
  assert.ok(error instanceof ServerError);
  assert.ok(error instanceof PairlinkError);
  assert.equal(error.code, 'no_content');
  assert.match(error.message, /987654/);
  assert.equal(typeof error.id, 'number');
  // The connection stays open and works.
  const draw = next(display, 'draw');
  assert.equal(await controller.difficulty(1), 'received');
  await draw;
  assert.equal(draws.length, 1);
  close();
});

test('presence in both directions', async () => {
  const uuid = newUuid();
  const display = new Display({ url: server.url, uuid });
  const displayPeers = record(display, ['peer']);
  await reach(display, 'open');
  assert.equal(display.welcome.peer, false);
  assert.equal(display.peerConnected, false);

  const controller = new Controller({ url: server.url, uuid });
  const joined = next(display, 'peer', (peer) => peer.connected);
  const welcomePeer = next(controller, 'peer');
  await reach(controller, 'open');
  assert.deepEqual(await welcomePeer, { role: 'display', connected: true });
  assert.deepEqual(await joined, { role: 'controller', connected: true });
  assert.equal(display.peerConnected, true);
  assert.equal(controller.peerConnected, true);

  const left = next(display, 'peer', (peer) => !peer.connected);
  controller.close();
  assert.deepEqual(await left, { role: 'controller', connected: false });
  assert.equal(display.peerConnected, false);

  // And the other way: the display goes, its controller is told.
  const back = next(display, 'peer', (peer) => peer.connected);
  const again = new Controller({ url: server.url, uuid });
  await reach(again, 'open');
  await back;
  const gone = next(again, 'peer', (peer) => !peer.connected);
  display.close();
  assert.deepEqual(await gone, { role: 'display', connected: false });
  assert.deepEqual(
    displayPeers.map(([, peer]) => peer.connected),
    [false, true, false, true],
  );
  again.close();
});

test('relay both ways, JSON and binary', async () => {
  const { display, controller, close } = await pair();
  const toDisplay = next(display, 'relay', (relay) => !relay.binary);
  assert.equal(controller.relay({ stick: [0.25, -1], button: 'A' }), true);
  assert.deepEqual(await toDisplay, { binary: false, data: { stick: [0.25, -1], button: 'A' } });

  const toController = next(controller, 'relay', (relay) => !relay.binary);
  display.relay('correct');
  assert.deepEqual(await toController, { binary: false, data: 'correct' });

  const bytes = Uint8Array.from([0, 1, 2, 254, 255]);
  const binaryToDisplay = next(display, 'relay', (relay) => relay.binary);
  controller.relay(bytes);
  const received = await binaryToDisplay;
  assert.ok(received.data instanceof Uint8Array);
  assert.deepEqual([...received.data], [...bytes]);

  const binaryToController = next(controller, 'relay', (relay) => relay.binary);
  display.relay(bytes.buffer);
  assert.deepEqual([...(await binaryToController).data], [...bytes]);
  close();
});

test('relay to an absent peer is dropped and reported as an error event', async () => {
  const display = new Display({ url: server.url, uuid: newUuid() });
  await reach(display, 'open');
  const error = next(display, 'error');
  display.relay({ score: 1 });
  const reported = await error;
  assert.ok(reported instanceof ServerError);
  assert.equal(reported.code, 'controller_offline');
  assert.equal(display.state.type, 'open');
  display.close();
});

test('what the SDK refuses before sending anything', async () => {
  const { display, controller, close } = await pair();
  await assert.rejects(controller.difficulty(1.5), { code: 'invalid_difficulty' });
  await assert.rejects(controller.difficulty(Number.NaN), { code: 'invalid_difficulty' });
  // Over the welcome's max_message_bytes the server would close for good (1009).
  const big = 'x'.repeat(controller.welcome.maxMessageBytes);
  assert.throws(() => controller.relay(big), { code: 'message_too_big' });
  assert.throws(() => display.relay(new Uint8Array(display.welcome.maxMessageBytes + 1)), { code: 'message_too_big' });
  assert.equal(controller.state.type, 'open');
  assert.equal(await controller.difficulty(1), 'received');
  close();
  assert.equal(controller.relay({ late: true }), false);
  await assert.rejects(controller.difficulty(1), NotConnectedError);
});

test('close() fails a request in flight with connection_lost and ends for good', async () => {
  const { controller, display } = await pair();
  const inFlight = controller.difficulty(1);
  controller.close();
  await assert.rejects(inFlight, (error) => error instanceof ConnectionLostError && error.code === 'connection_lost');
  assert.deepEqual(controller.state, { type: 'closed', reason: { code: 1000, reason: 'closed' } });
  display.close();
});

test('an AbortSignal closes the connection', async () => {
  const controllerAbort = new AbortController();
  const display = new Display({ url: server.url, uuid: newUuid(), signal: controllerAbort.signal });
  await reach(display, 'open');
  controllerAbort.abort();
  assert.equal(display.state.type, 'closed');
  assert.equal(display.state.reason.reason, 'aborted');
  const already = new Display({ url: server.url, uuid: newUuid(), signal: AbortSignal.abort() });
  assert.equal(already.state.reason.reason, 'aborted');
});

test('callbacks run on the event loop, and one that throws is reported without harm', async () => {
  const { display, controller, close } = await pair();
  let inside = false;
  display.on('draw', () => {
    assert.equal(inside, false, 'never called from inside the app call that caused it');
    throw new Error('the app has a bug');
  });
  const reported = next(display, 'error');
  inside = true;
  const answer = controller.difficulty(1);
  inside = false;
  assert.equal(await answer, 'received');
  const error = await reported;
  assert.ok(error instanceof HandlerError);
  assert.equal(error.event, 'draw');
  assert.equal(error.cause.message, 'the app has a bug');
  // The connection is untouched and the next draw still arrives.
  assert.equal(display.state.type, 'open');
  display.on('error', () => {}); // the handler throws again; already checked
  const second = next(display, 'draw');
  await controller.difficulty(2);
  assert.equal((await second).difficulty, 2);

  // With no error handler, and from an error handler itself: console.error.
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args);
  try {
    const state = next(controller, 'state');
    controller.on('state', () => {
      throw new Error('state handler bug');
    });
    close();
    await state;
    assert.equal(logged.length, 1);
    assert.match(String(logged[0][0]), /'state' handler threw/);
  } finally {
    console.error = original;
  }
});
