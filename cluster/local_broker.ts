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
import { UserNumbers } from "./user_numbers.ts";

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
  readonly #numbers: UserNumbers;

  /** `store` keeps the numbers across restarts (none: they start at 1). */
  constructor(store?: NumberStore) {
    this.#numbers = new UserNumbers(store);
  }

  /** Reserves the first block now: a store that cannot be written fails
   * the start, and the first users need no write (which a server out of
   * descriptors could not make). */
  start(): Promise<void> {
    try {
      this.#numbers.reserveFirst();
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  nextUserNumber(): Promise<number> {
    try {
      return Promise.resolve(this.#numbers.next());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  publish(): void {}

  listen(): void {}

  claimName(): Promise<boolean> {
    return Promise.resolve(true);
  }

  releaseName(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
