// Pure logic, no server: the backoff's delays and what each close code means.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../dist/index.js';
import { closeVerdict } from '../dist/protocol.js';

test('full jitter: attempt n waits within [0, min(cap, base * 2^(n-1))]', () => {
  const highest = new Backoff({ random: () => 0.999999 });
  const bounds = Array.from({ length: 10 }, () => highest.next().delay);
  assert.deepEqual(bounds, [499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999, 29999]);
  const lowest = new Backoff({ random: () => 0 });
  assert.equal(lowest.next().delay, 0);
  const real = new Backoff();
  for (let i = 0; i < 50; i++) {
    const { attempt, delay } = real.next();
    assert.equal(attempt, i + 1);
    assert.ok(delay >= 0 && delay <= 30_000);
  }
});

test('reset starts the attempts again', () => {
  const backoff = new Backoff({ random: () => 0.999999 });
  for (let i = 0; i < 5; i++) backoff.next();
  backoff.reset();
  assert.deepEqual(backoff.next(), { attempt: 1, delay: 499 });
  assert.ok(Number.isFinite(new Backoff({ random: () => 0.5 }).next().delay));
  const many = new Backoff({ random: () => 0.5 });
  for (let i = 0; i < 2000; i++) many.next();
  assert.equal(many.next().delay, 15_000, 'no overflow after many attempts');
});

test('final and retryable closes, as docs/protocol.md lists them', () => {
  const final = [
    [4001, 'replaced'],
    [4400, 'invalid_uuid'],
    [4403, 'origin_not_allowed'],
    [4404, 'unknown_code'],
    [1009, 'message too big'],
  ];
  for (const [code, reason] of final) assert.equal(closeVerdict(code, reason), 'final', `${code} ${reason}`);
  const retry = [
    [1001, 'going away'],
    [1006, ''],
    [1011, ''],
    [1012, 'reconnect: messages may have been missed'],
    [1013, 'slow consumer: outbound queue full'],
    [4002, 'idle timeout'],
    [4400, 'display_offline'],
    [4429, 'too_many_guesses'],
    [4503, 'server_full'],
    [4503, 'broker_unavailable'],
  ];
  for (const [code, reason] of retry) assert.equal(closeVerdict(code, reason), 'retry', `${code} ${reason}`);
  assert.equal(closeVerdict(4401, 'token_expired'), 'token');
});
