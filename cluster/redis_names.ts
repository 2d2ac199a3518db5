/**
 * Chosen names, claimed in Redis for the broker: one `SET NX PX` key per
 * name, which its server refreshes with each heartbeat (so a dead server's
 * names free themselves), listed in a set per server (so the others can
 * free them at once when it falls silent). See docs/operations.md, "Names".
 *
 * @module
 */

import type { Log } from "../chat/ports.ts";
import type { RedisClient } from "./redis_clients.ts";
import {
  type BrokerKeys,
  FREE_NAMES_SCRIPT,
  NAME_TTL_MS,
  REASSERT_NAME_SCRIPT,
} from "./redis_keys.ts";

/** What the claims need of the broker. */
export interface NameOptions {
  serverId: string;
  commands: () => RedisClient;
  keys: () => BrokerKeys;
  log: Log;
  /** A name of ours turned out to be held by another server. */
  lost: (key: string) => void;
}

/**
 * This server's claims (lower-cased names).
 *
 * @example
 * ```ts ignore
 * const names = new RedisNames({ serverId: "a1", commands, keys, log, lost });
 * await names.claim("alice"); // true, unless another server holds it
 * ```
 */
export class RedisNames {
  readonly #options: NameOptions;
  readonly #claimed = new Set<string>();

  constructor(options: NameOptions) {
    this.#options = options;
  }

  /** Claims `key` for us; false if another server holds it or Redis
   * fails. A name ours already (a change of case) stays ours. */
  async claim(key: string): Promise<boolean> {
    const { commands, serverId } = this.#options;
    const keys = this.#options.keys();
    try {
      const result = await commands().set(keys.name + key, serverId, { NX: true, PX: NAME_TTL_MS });
      if (result === "OK") {
        this.#claimed.add(key);
        const list = keys.serverNames + serverId;
        await commands().multi().sAdd(list, keys.name + key).pExpire(list, NAME_TTL_MS).exec();
        return true;
      }
      return (await commands().get(keys.name + key)) === serverId && this.#claimed.has(key);
    } catch {
      return false;
    }
  }

  /** Gives `key` up (in Redis too, when `linked`: if not, it expires). */
  release(key: string, linked: boolean): void {
    if (!this.#claimed.delete(key) || !linked) return;
    const keys = this.#options.keys();
    const commands = this.#options.commands();
    commands.del(keys.name + key).catch(() => {});
    commands.sRem(keys.serverNames + this.#options.serverId, keys.name + key).catch(() => {});
  }

  /** Refreshes each of our names, taking back any Redis lost; a name that
   * another server holds now (granted while Redis had lost ours) is given
   * up, logged and reported. */
  async reassert(): Promise<void> {
    const { commands, serverId } = this.#options;
    const keys = this.#options.keys();
    const names = [...this.#claimed];
    commands().pExpire(keys.serverNames + serverId, NAME_TTL_MS).catch(() => {});
    const results = await Promise.all(names.map((key) =>
      commands().eval(REASSERT_NAME_SCRIPT, {
        keys: [keys.name + key, keys.serverNames + serverId],
        arguments: [serverId, String(NAME_TTL_MS)],
      })
    ));
    names.forEach((key, i) => {
      if (results[i] !== 0 || !this.#claimed.delete(key)) return;
      this.#options.log(`[server] the name ${key} is held by another server: giving it up`, {
        level: "warn",
        event: "name_conflict",
        name: key,
      });
      this.#options.lost(key);
    });
  }

  /** Frees the names a silent server held (those still its own). */
  free(server: string): Promise<unknown> {
    return this.#options.commands().eval(FREE_NAMES_SCRIPT, {
      keys: [this.#options.keys().serverNames + server],
      arguments: [server],
    });
  }

  /** Our name keys and our list: what a graceful stop deletes. */
  ours(): string[] {
    const keys = this.#options.keys();
    return [
      ...[...this.#claimed].map((key) => keys.name + key),
      keys.serverNames + this.#options.serverId,
    ];
  }
}
