/**
 * The other servers' users, as this server sees them: applying their
 * (already validated) events to the registry and telling local users.
 *
 * Rosters replace, never merge: when a server sends its full roster (on
 * linking, or after an outage), every user we held for it that the roster
 * does not list is shown as left, and every listed one we did not know is
 * shown as joined.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import type { Delivery } from "./delivery.ts";
import type { ClusterEvent, RemoteUser } from "./ports.ts";
import { type ChatEvent, noticed } from "./events.ts";
import type { Registry, User } from "./registry.ts";
import type { RoomHistory } from "./history.ts";

/**
 * Applies cluster events; the chat server owns one and calls it in its turn.
 *
 * @example
 * ```ts
 * import { Delivery } from "./delivery.ts";
 * import { Registry } from "./registry.ts";
 * import { RemoteUsers } from "./remote.ts";
 * const registry = new Registry();
 * const delivery = new Delivery({ registry, scheduleFlush: () => {} });
 * const remote = new RemoteUsers(registry, delivery);
 * remote.apply({ type: "join", server: "b", user: { server: "b", id: 7, name: "bob", room: "lobby" } });
 * registry.named("bob")?.server; // "b"
 * ```
 */
export class RemoteUsers<S> {
  readonly #registry: Registry<S>;
  readonly #delivery: Delivery<S>;

  readonly #history: RoomHistory | undefined;

  constructor(registry: Registry<S>, delivery: Delivery<S>, history?: RoomHistory) {
    this.#registry = registry;
    this.#delivery = delivery;
    this.#history = history;
  }

  /** Applies one event from another server. */
  apply(event: ClusterEvent): void {
    switch (event.type) {
      case "join":
        return this.#join(event.user);
      case "leave":
        return this.#withUser(event, (user) => this.leave(user, event.reason));
      case "say":
        return this.#withUser(event, (user) => {
          this.#toRoom(user, { type: "say", from: user.name, text: event.text });
          this.#history?.keepRemote(user.room.name, user.name, event.text, false);
        });
      case "me":
        return this.#withUser(
          event,
          (user) => {
            this.#toRoom(user, { type: "action", from: user.name, text: event.action });
            this.#history?.keepRemote(user.room.name, user.name, event.action, true);
          },
        );
      case "nick":
        return this.#withUser(event, (user) => this.#rename(user, event.name));
      case "move":
        return this.#withUser(event, (user) => this.#move(user, event.room));
      case "msg":
        return this.#privateMessage(event.from, event.to, event.text);
      case "roster":
        return this.#replaceRoster(event.server, event.users);
      case "bye":
        return this.dropServer(event.server);
      case "conflict":
        return this.#keptName(event.name);
      case "sync":
      case "heartbeat":
      case "act":
      case "whois":
      case "whois_reply":
        // The chat server answers sync and /whois and enacts acts; presence
        // is the broker's.
        return;
      default:
        return unreachable(event);
    }
  }

  /** Another server gave up a name our user holds too: tell ours it stays. */
  #keptName(name: string): void {
    const user = this.#registry.named(name);
    if (user?.local === undefined) return;
    this.#delivery.reply(user, noticed({ notice: "name_kept", name }));
  }

  /** Shows every user of `server` as left. */
  dropServer(server: string): void {
    for (const user of this.#registry.usersOf(server)) this.leave(user);
  }

  /** Removes a remote user and announces the leave, unless its join is
   * still waiting to be announced: then neither is (a connection that came
   * and went at once, as its own server shows it). */
  leave(user: User<S>, reason?: string): void {
    this.#registry.remove(user);
    if (this.#delivery.withdraw(user)) return;
    const name = user.name;
    this.#delivery.announce(reason ? { type: "leave", name, reason } : { type: "leave", name });
  }

  #withUser(event: { server: string; id: number }, fn: (user: User<S>) => void): void {
    const user = this.#registry.user(event.id);
    // Only the user's own server may speak for it.
    if (user !== undefined && user.local === undefined && user.server === event.server) fn(user);
  }

  #join(remote: RemoteUser, announce = true): void {
    const user = this.#registry.add(
      { id: remote.id, name: remote.name, server: remote.server, local: undefined },
      remote.room,
    );
    if (user && announce) this.#delivery.announce({ type: "join", name: remote.name }, user);
  }

  #toRoom(user: User<S>, event: ChatEvent): void {
    this.#delivery.toRoom(user.room, event);
  }

  #rename(user: User<S>, name: string): void {
    const old = user.name;
    this.#registry.rename(user, name);
    this.#toRoom(user, { type: "rename", from: old, to: name });
  }

  #move(user: User<S>, roomName: string): void {
    const from = this.#registry.move(user, roomName);
    this.#delivery.toRoom(from, { type: "exit", name: user.name, room: from.name });
    this.#delivery.toRoom(
      user.room,
      { type: "enter", name: user.name, room: user.room.name },
      user,
    );
  }

  #privateMessage(from: string, to: string, text: string): void {
    const target = this.#registry.named(to);
    if (target?.local) {
      this.#delivery.reply(target, { type: "private", from, to: target.name, text });
    }
  }

  /** Makes our view of `server`'s users match its roster, announcing the
   * joins and leaves we missed (after an outage, or when we are new). */
  #replaceRoster(server: string, users: RemoteUser[]): void {
    const listed = new Set(users.map((u) => u.id));
    for (const user of this.#registry.usersOf(server)) {
      if (!listed.has(user.id)) this.leave(user);
    }
    for (const remote of users) {
      const known = this.#registry.user(remote.id);
      if (known === undefined) {
        this.#join({ ...remote, server });
        continue;
      }
      if (known.local !== undefined || known.server !== server) continue;
      if (known.name !== remote.name) this.#registry.rename(known, remote.name);
      if (known.room.name.toLowerCase() !== remote.room.toLowerCase()) {
        this.#registry.move(known, remote.room);
      }
    }
  }
}
