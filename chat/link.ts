/**
 * This server's side of the link to the others: the `Broker` port plus what
 * the chat server knows of the link's state. One word for one thing:
 * a server is *linked* when other servers may exist (`--redis`), and its
 * link is *up* while they can be reached.
 *
 * @module
 */

import type { Broker, ClusterEvent } from "./ports.ts";

/**
 * Publishing, name claims and the link's state, for the chat server's parts.
 *
 * @example
 * ```ts
 * import { Link } from "./link.ts";
 * import { LocalBroker } from "../cluster/local_broker.ts";
 * const link = new Link(new LocalBroker());
 * link.up; // true: a lone server is never cut off
 * ```
 */
export class Link {
  readonly #broker: Broker;
  #up: boolean;
  #everUp = false;

  constructor(broker: Broker) {
    this.#broker = broker;
    // A linked server starts down and says hello when the broker reports up.
    this.#up = !broker.linked;
  }

  /** Whether other servers may exist. */
  get linked(): boolean {
    return this.#broker.linked;
  }

  /** Whether the other servers can be reached now. */
  get up(): boolean {
    return this.#up;
  }

  /** This server's id in the cluster. */
  get serverId(): string {
    return this.#broker.serverId;
  }

  /** Records the link's state; returns whether users should be told (it
   * changed, and it had been up before: the first "up" is no news). */
  changed(up: boolean): boolean {
    if (up === this.#up) return false;
    this.#up = up;
    const news = this.#everUp;
    if (up) this.#everUp = true;
    return news;
  }

  /** Tells the other servers (or only the server `to`), stamped with our
   * id; nothing when not linked. */
  publish(event: ClusterEvent, to?: string): void {
    if (!this.#broker.linked) return;
    event.server = this.#broker.serverId;
    this.#broker.publish(event, to);
  }

  /** See {@linkcode Broker.listen}. */
  listen(room: string, here: boolean): void {
    if (this.#broker.linked) this.#broker.listen(room, here);
  }

  /** See {@linkcode Broker.claimName}. */
  claim(key: string): Promise<boolean> {
    return this.#broker.claimName(key);
  }

  /** See {@linkcode Broker.releaseName}. */
  release(key: string): void {
    this.#broker.releaseName(key);
  }
}
