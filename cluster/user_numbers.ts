/**
 * The `userN` counter of one process, the lone server's (`LocalBroker`) or
 * its workers' (`Hub`): kept in a `NumberStore` when given one, a block of
 * numbers at a time, so that no number is handed out twice across
 * restarts and only one connection in `NUMBER_BLOCK` costs a write.
 *
 * @module
 */

import type { NumberStore } from "../chat/ports.ts";

/** Numbers reserved in the store at a time. */
export const NUMBER_BLOCK = 64;

/**
 * A counter that goes on where the last run stopped.
 *
 * @example
 * ```ts
 * import { UserNumbers } from "./user_numbers.ts";
 * const numbers = new UserNumbers();
 * numbers.next(); // 1
 * ```
 */
export class UserNumbers {
  readonly #store: NumberStore | undefined;
  #last: number;
  /** Numbers up to here are reserved in the store. */
  #reserved: number;

  /** `store` keeps the count across restarts (none: it starts at 1). */
  constructor(store?: NumberStore) {
    this.#store = store;
    this.#last = this.#reserved = store?.load() ?? 0;
  }

  /** Reserves the first block now: a store that cannot be written fails
   * the start, and the first users need no write (which a server out of
   * descriptors could not make). Throws what the store throws. */
  reserveFirst(): void {
    this.#reserveFrom(this.#last + 1);
  }

  /** The next number; throws (and hands out none) if the store cannot
   * reserve it. */
  next(): number {
    const next = this.#last + 1;
    this.#reserveFrom(next);
    this.#last = next;
    return next;
  }

  #reserveFrom(next: number): void {
    if (this.#store === undefined || next <= this.#reserved) return;
    this.#store.reserve(next + NUMBER_BLOCK - 1);
    this.#reserved = next + NUMBER_BLOCK - 1;
  }
}
