/**
 * The app-level ping (docs/protocol.md, "App-level ping"). Browsers cannot send
 * WebSocket pings or see pongs, so the SDK sends `{"type":"ping"}` every interval and
 * counts the connection dead when a ping is still unanswered as the next one falls due:
 * at most two intervals after the server went quiet. Anything the server sends counts as
 * an answer, so a busy connection is never taken for a dead one.
 *
 * @module
 */

/** One open connection's ping timer. */
export class Liveness {
  #timer: ReturnType<typeof setInterval> | undefined;
  #unanswered = false;

  /**
   * Pings every `interval` milliseconds with `ping`; calls `dead` once if a ping is still
   * unanswered when the next one is due, and stops.
   */
  start(interval: number, ping: () => void, dead: () => void): void {
    this.stop();
    this.#unanswered = false;
    this.#timer = setInterval(() => {
      if (this.#unanswered) {
        this.stop();
        dead();
        return;
      }
      this.#unanswered = true;
      ping();
    }, interval);
  }

  /** Something arrived from the server: it is there. */
  heard(): void {
    this.#unanswered = false;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
