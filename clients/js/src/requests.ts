/**
 * Requests waiting for their answer, by id. The SDK assigns ids itself (integers from 1,
 * never reused by one object), so an answer can never be taken for another request's,
 * even across reconnects.
 *
 * @module
 */

import type { PairlinkError } from './errors.js';
import type { RequestId, ServerMessage } from './protocol.js';

/** How a waiting request is settled. */
export interface Pending {
  resolve(answer: ServerMessage): void;
  reject(error: PairlinkError): void;
}

/** The requests of one Display or Controller that have not been answered yet. */
export class Requests {
  readonly #pending = new Map<RequestId, Pending>();
  #next = 1;

  /** A fresh id. */
  nextId(): number {
    const id = this.#next;
    this.#next += 1;
    return id;
  }

  /** Waits for the answer to request `id`. */
  add(id: RequestId, pending: Pending): void {
    this.#pending.set(id, pending);
  }

  /** Removes and returns the request `id` answers, if it is still waiting. */
  take(id: RequestId | undefined): Pending | undefined {
    if (id === undefined) return undefined;
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    return pending;
  }

  /** Fails every waiting request (their connection ended): none is sent again. */
  failAll(error: () => PairlinkError): void {
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of waiting) pending.reject(error());
  }
}
