/**
 * Reconnect delays: exponential backoff with full jitter. Attempt n waits a uniformly
 * random time in [0, min(cap, base · 2^(n-1))]: 0–0.5 s, 0–1 s, 0–2 s, … up to 0–30 s.
 * Full jitter spreads the devices a server restart disconnected all at once, so they do
 * not all knock again at the same instant.
 *
 * @module
 */

/** How reconnect delays grow. */
export interface BackoffOptions {
  /** The first attempt's upper bound, in milliseconds (default 500). */
  baseDelay?: number;
  /** The largest upper bound, in milliseconds (default 30 000). */
  maxDelay?: number;
  /** Random numbers in [0, 1); `Math.random` unless a test gives its own. */
  random?: () => number;
}

/** Counts reconnect attempts and draws each one's delay. */
export class Backoff {
  readonly #base: number;
  readonly #cap: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor({ baseDelay = 500, maxDelay = 30_000, random = Math.random }: BackoffOptions = {}) {
    this.#base = Math.max(0, baseDelay);
    this.#cap = Math.max(this.#base, maxDelay);
    this.#random = random;
  }

  /** Attempts made since the last {@link reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Counts one more attempt and returns its delay in milliseconds. */
  next(): { attempt: number; delay: number } {
    this.#attempt += 1;
    // 2^(n-1) overflows to Infinity for large n; min() keeps the bound at the cap.
    const bound = Math.min(this.#cap, this.#base * 2 ** (this.#attempt - 1));
    return { attempt: this.#attempt, delay: Math.floor(this.#random() * bound) };
  }

  /** Starts counting again: after a connection that stayed open long enough. */
  reset(): void {
    this.#attempt = 0;
  }
}
