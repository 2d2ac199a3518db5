/**
 * A `Broker` for unit tests of the chat domain: linked, in memory, with
 * name claims the test answers by hand (or never), so the chat server's
 * handling of slow and lost answers is tested without Redis. The Redis
 * adapter itself is tested against a real redis-server in `e2e/`.
 *
 * @module
 */

import type { Broker, ClusterEvent } from "../chat/ports.ts";

/**
 * Records what the chat server publishes and claims.
 *
 * @example
 * ```ts
 * import { FakeBroker } from "./fake_broker.ts";
 * const broker = new FakeBroker();
 * const claim = broker.claimName("alice");
 * broker.answerClaim("alice", true);
 * await claim; // true
 * ```
 */
export class FakeBroker implements Broker {
  readonly serverId = "here";
  readonly linked = true;
  readonly published: ClusterEvent[] = [];
  /** Each published event's one server, if it had one (same order). */
  readonly routes: (string | undefined)[] = [];
  readonly released: string[] = [];
  /** Rooms this server has users in, as the chat said (lower-cased). */
  readonly rooms = new Set<string>();
  readonly #claims = new Map<string, (granted: boolean) => void>();
  #next = 0;

  start(): Promise<void> {
    return Promise.resolve();
  }

  nextUserNumber(): Promise<number> {
    return Promise.resolve(++this.#next);
  }

  publish(event: ClusterEvent, to?: string): void {
    this.published.push(event);
    this.routes.push(to);
  }

  listen(room: string, here: boolean): void {
    if (here) this.rooms.add(room.toLowerCase());
    else this.rooms.delete(room.toLowerCase());
  }

  /** Stays pending until {@linkcode answerClaim}. */
  claimName(key: string): Promise<boolean> {
    return new Promise((resolve) => this.#claims.set(key, resolve));
  }

  /** Names with a claim waiting for an answer. */
  get pendingClaims(): string[] {
    return [...this.#claims.keys()];
  }

  /** Answers the pending claim of `key`. */
  answerClaim(key: string, granted: boolean): void {
    const answer = this.#claims.get(key);
    if (answer === undefined) throw new Error(`Cannot answer: no claim for ${key}`);
    this.#claims.delete(key);
    answer(granted);
  }

  releaseName(key: string): void {
    this.released.push(key);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
