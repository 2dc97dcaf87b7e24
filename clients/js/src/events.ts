/**
 * A small typed event emitter: `on(name, handler)` returns a function that removes the
 * handler, `off` does the same, `once` runs a handler one time.
 *
 * Why not `EventTarget`: events here carry typed payloads (no `CustomEvent.detail`), and
 * an exception thrown by an app's handler must never reach the SDK's own code or, in
 * Node, become an uncaught exception that ends the process (which is what an
 * `EventTarget` listener that throws does there). Every handler runs inside a
 * `try`; what it throws is reported as an `error` event ({@link HandlerError}), or with
 * `console.error` when it was an `error` handler or there is none.
 *
 * @module
 */

import { HandlerError } from './errors.js';

/** A handler for one event's payload. */
export type Handler<T> = (event: T) => void;

/** The typed `on`/`off`/`once` of an object whose events are described by `Events`. */
export class Emitter<Events extends { error: unknown }> {
  readonly #handlers = new Map<keyof Events, Set<Handler<never>>>();

  /** Adds `handler` for `name`; returns a function that removes it. */
  on<K extends keyof Events>(name: K, handler: Handler<Events[K]>): () => void {
    let set = this.#handlers.get(name);
    if (!set) {
      set = new Set();
      this.#handlers.set(name, set);
    }
    set.add(handler as Handler<never>);
    return () => this.off(name, handler);
  }

  /** Removes `handler` from `name`; nothing happens if it was not there. */
  off<K extends keyof Events>(name: K, handler: Handler<Events[K]>): void {
    this.#handlers.get(name)?.delete(handler as Handler<never>);
  }

  /** Adds `handler` for the next `name` event only; returns a function that removes it. */
  once<K extends keyof Events>(name: K, handler: Handler<Events[K]>): () => void {
    const remove = this.on(name, (event) => {
      remove();
      handler(event);
    });
    return remove;
  }

  /** Calls every handler of `name` in the order they were added. */
  protected emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const set = this.#handlers.get(name);
    if (!set || set.size === 0) return;
    for (const handler of [...set]) {
      try {
        (handler as Handler<Events[K]>)(event);
      } catch (thrown) {
        this.#reportHandlerError(name, thrown);
      }
    }
  }

  #reportHandlerError(name: keyof Events, thrown: unknown): void {
    const errorHandlers = this.#handlers.get('error');
    if (name === 'error' || !errorHandlers || errorHandlers.size === 0) {
      console.error(`pairlink: a '${String(name)}' handler threw`, thrown);
      return;
    }
    this.emit('error', new HandlerError(String(name), thrown) as Events['error']);
  }
}
