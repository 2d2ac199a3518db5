/**
 * The in-process default `Broker`: this server is the whole chat. It hands
 * out user numbers from a counter, grants every name claim at once (the
 * chat server's own registry already checked the name) and publishes
 * nothing.
 *
 * @module
 */

import type { Broker } from "../chat/ports.ts";

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

  start(): Promise<void> {
    return Promise.resolve();
  }

  nextUserNumber(): Promise<number> {
    return Promise.resolve(++this.#next);
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
