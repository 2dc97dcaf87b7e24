// Connection tokens against a server with `--auth-secret`: a provider that first gives
// an expired token is asked again after the 4401 and the connection opens; a static
// token that is refused ends the connection; the pairing code request carries the token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Controller, Display, HttpError } from '../dist/index.js';
import { newUuid, next, Pairlink, reach, record, signToken } from './pairlink.mjs';

const secret = 'a-test-secret-that-is-at-least-32-bytes-long';
const now = () => Math.floor(Date.now() / 1000);
// The server tolerates 30 s of clock difference: an hour ago is expired for sure.
const expired = (sub) => signToken(secret, { sub, exp: now() - 3600 });
const fresh = (sub) => signToken(secret, { sub, exp: now() + 3600 });
const quick = { baseDelay: 50, maxDelay: 200 };

let server;
before(async () => {
  server = await Pairlink.start(['--auth-secret', secret]);
});
after(() => server.dispose());

test('an expiring token with a provider: a 4401, then a fresh token, then open', async () => {
  const uuid = newUuid();
  const given = [];
  const tokenProvider = async () => {
    const token = given.length === 0 ? expired(`display:${uuid}`) : fresh(`display:${uuid}`);
    given.push(token);
    return token;
  };
  const display = new Display({ url: server.url, uuid, tokenProvider, backoff: quick });
  const states = record(display, ['state']);
  await reach(display, 'open');
  const [refused] = states.map(([, state]) => state).filter((state) => state.type === 'reconnecting');
  assert.equal(refused.reason.code, 4401);
  assert.equal(refused.reason.reason, 'token_expired');
  assert.equal(given.length, 2, 'asked before the first connect and again after the 4401');

  // A controller with its own narrow token pairs with it.
  const controller = new Controller({ url: server.url, uuid, token: fresh(`controller:${uuid}`) });
  await reach(controller, 'open');
  const draw = next(display, 'draw');
  assert.equal(await controller.difficulty(1), 'received');
  await draw;

  // The pairing code request is authorised with the provider's token.
  const code = await display.pairingCode();
  assert.match(code.code, /^[A-Z2-9]{6}$/);
  assert.equal(given.length, 3);
  display.close();
  controller.close();
});

test('a refused static token ends the connection: there is no new one to try', async () => {
  const uuid = newUuid();
  const display = new Display({ url: server.url, uuid, token: expired(uuid), backoff: quick });
  const closed = await reach(display, 'closed');
  assert.equal(closed.reason.code, 4401);
  assert.equal(closed.reason.reason, 'token_expired');
  assert.equal(closed.reason.error.code, 'token_expired');
});

test('a provider that keeps giving the refused token ends the connection', async () => {
  const uuid = newUuid();
  const stale = expired(uuid);
  const display = new Display({ url: server.url, uuid, tokenProvider: () => stale, backoff: quick });
  const closed = await reach(display, 'closed');
  assert.equal(closed.reason.reason, 'token_expired');
});

test('a provider that throws is reported and retried', async () => {
  const uuid = newUuid();
  let calls = 0;
  const tokenProvider = () => {
    calls += 1;
    if (calls === 1) throw new Error('backend unreachable');
    return fresh(uuid);
  };
  const display = new Display({ url: server.url, uuid, tokenProvider, backoff: quick });
  const error = await next(display, 'error');
  assert.equal(error.code, 'token_provider_failed');
  assert.equal(error.cause.message, 'backend unreachable');
  await reach(display, 'open');
  display.close();
});

test('without a token the pairing code request is refused with its code', async () => {
  const uuid = newUuid();
  const display = new Display({ url: server.url, uuid, token: fresh(uuid) });
  await reach(display, 'open');
  const anonymous = new Display({ url: server.url, uuid: newUuid() });
  await assert.rejects(
    anonymous.pairingCode(),
    (error) => error instanceof HttpError && error.status === 401 && error.code.startsWith('token_'),
  );
  anonymous.close();
  display.close();
});
