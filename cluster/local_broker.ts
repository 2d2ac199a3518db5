/**
 * The in-process default `Broker`: this server is the whole chat. It hands
 * out user numbers from a counter (kept in a `NumberStore`, when given one,
 * so that none is handed out twice across restarts), grants every name claim at once (the
 * chat server's own registry already checked the name) and publishes
 * nothing.
 *
 * @module
 */

import type { Broker, NumberStore } from "../chat/ports.ts";

/** Numbers reserved in the store at a time. */
const NUMBER_BLOCK = 64;

/**
 * One server, no links.
 *
 * @example
 * ```ts
 * import { LocalBroker } from "./local_broker.ts";
 * const broker = new LocalBroker();
 * await broker.nextUserNumber(); // 1
 * ```
 */
export class LocalBroker implements Broker {
  readonly serverId = "local";
  readonly linked = false;
  #next = 0;
  /** Numbers up to here are reserved in the store. */
  #reserved = 0;
  readonly #store: NumberStore | undefined;

  /** `store` keeps the numbers across restarts (none: they start at 1). */
  constructor(store?: NumberStore) {
    this.#store = store;
    this.#next = this.#reserved = store?.load() ?? 0;
  }

  /** Reserves the first block now: a store that cannot be written fails
   * the start, and the first users need no write (which a server out of
   * descriptors could not make). */
  start(): Promise<void> {
    try {
      this.#reserveFrom(this.#next + 1);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  nextUserNumber(): Promise<number> {
    const next = this.#next + 1;
    try {
      this.#reserveFrom(next);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#next = next;
    return Promise.resolve(next);
  }

  /** Makes sure `next` is reserved: a block at a time, so one write per
   * NUMBER_BLOCK connections. */
  #reserveFrom(next: number): void {
    if (this.#store === undefined || next <= this.#reserved) return;
    this.#store.reserve(next + NUMBER_BLOCK - 1);
    this.#reserved = next + NUMBER_BLOCK - 1;
  }

  publish(): void {}

  claimName(): Promise<boolean> {
    return Promise.resolve(true);
  }

  releaseName(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
