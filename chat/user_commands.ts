/**
 * What local users do: chat lines and the commands the chat server handles
 * (`/quit` ends at the session, `/nick` is `Renames`'). Each handler reads
 * and changes the registry and sends lines through `Delivery`; what the
 * other servers must know is published through the `Link`.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import { type Command, helpLines } from "./commands.ts";
import type { Delivery } from "./delivery.ts";
import type { Link } from "./link.ts";
import { type ChatEvent, type Refusal, refused } from "./events.ts";
import type { Registry, User } from "./registry.ts";
import type { Renames } from "./renames.ts";
import { DEFAULT_HISTORY_PAGE, parseBefore, type Replies, type RoomHistory } from "./history.ts";
import type { Accounts } from "./accounts.ts";
import type { Community } from "./community.ts";
import type { Moderation } from "./moderation.ts";
import { SERVER_EVENT } from "./protocol.ts";

/** The commands the chat server handles (`/quit` ends at the session). */
export type ServerCommand = Exclude<Command, { name: "quit" }>;

/**
 * Handles local users' lines and commands.
 *
 * @example
 * ```ts
 * // The chat server calls: commands.say(user, "hi"), commands.run(user, { name: "who" }).
 * ```
 */
export class UserCommands<S> {
  readonly #registry: Registry<S>;
  readonly #delivery: Delivery<S>;
  readonly #link: Link;
  readonly #renames: Renames<S>;
  readonly #history: RoomHistory | undefined;
  readonly #now: () => number;
  readonly #later: (user: User<S>, events: Promise<ChatEvent[]>) => void;
  readonly #community: Community;
  readonly #moderation: Moderation<S>;
  readonly #accounts: Accounts<S>;

  constructor(
    options: {
      registry: Registry<S>;
      delivery: Delivery<S>;
      link: Link;
      renames: Renames<S>;
      /** Room history; none kept without. */
      history?: RoomHistory;
      /** The clock, in ms (for `/history ... before`). */
      now?: () => number;
      /** Sends events to a user once a networked history store answers. */
      later?: (user: User<S>, events: Promise<ChatEvent[]>) => void;
      /** Accounts, rooms and bans, and the commands that change them. */
      community: Community;
      moderation: Moderation<S>;
      accounts: Accounts<S>;
    },
  ) {
    this.#community = options.community;
    this.#moderation = options.moderation;
    this.#accounts = options.accounts;
    this.#registry = options.registry;
    this.#delivery = options.delivery;
    this.#link = options.link;
    this.#renames = options.renames;
    this.#history = options.history;
    this.#now = options.now ?? Date.now;
    this.#later = options.later ?? (() => {});
  }

  /** Replies now, or once the events are ready. */
  #replyAll(user: User<S>, events: Replies, first: ChatEvent[] = []): void {
    if (Array.isArray(events)) return this.#delivery.reply(user, ...first, ...events);
    if (first.length > 0) this.#delivery.reply(user, ...first);
    this.#later(user, events);
  }

  #refuse(user: User<S>, refusal: Refusal): void {
    this.#delivery.reply(user, refused(refusal));
  }

  /** A chat line: to the others in the room, and to the other servers. */
  say(user: User<S>, text: string): void {
    if (this.#community.anyMutes && this.#muted(user)) return;
    this.#delivery.toRoom(user.room, { type: "say", from: user.name, text }, user);
    this.#history?.keep(user.room.name, user.name, text, false);
    // Checked here, not only in publish, so a lone server builds no event per line.
    if (this.#link.linked) this.#link.publish({ type: "say", server: "", id: user.id, text });
  }

  /** Whether `user` is muted in their room; if so, tells them. */
  #muted(user: User<S>): boolean {
    const now = this.#now();
    const mute = this.#community.mute(user.room.name, user.name, now);
    if (mute === undefined) return false;
    const { by, until, reason } = mute;
    this.#delivery.reply(user, { type: "you_are_muted", room: user.room.name, by, until, reason });
    return true;
  }

  /** One command. */
  run(user: User<S>, command: ServerCommand): void {
    switch (command.name) {
      case "nick":
        return this.nick(user, command.nick);
      case "who":
        return this.#who(user);
      case "me":
        return this.#action(user, command.action);
      case "msg":
        return this.#privateMessage(user, command.to, command.text);
      case "join":
        return this.#moveTo(user, command.room);
      case "rooms":
        return this.#listRooms(user);
      case "help": {
        const rank = this.#moderation.rankOf(user, user.room.name);
        return this.#delivery.reply(user, { type: "help", lines: helpLines(rank) });
      }
      case "history":
        return this.#page(user, command);
      case "register":
      case "login":
      case "logout":
      case "password":
      case "unregister":
      case "oper":
        return this.#accounts.run(user, command);
      case "whois":
      case "topic":
      case "kick":
      case "ban":
      case "unban":
      case "mute":
      case "unmute":
      case "bans":
      case "op":
      case "deop":
      case "kill":
      case "gban":
      case "ungban":
      case "announce":
        return this.#moderation.run(user, command);
      default:
        return unreachable(command);
    }
  }

  /** `/nick NAME`: a registered name only for its account, a banned one
   * for nobody; the rest is `Renames`'. */
  nick(user: User<S>, nick: string): void {
    const key = nick.toLowerCase();
    if (this.#community.registered(key) && user.local?.account !== key) {
      return this.#refuse(user, { refusal: "name_registered", name: nick });
    }
    if (this.#community.serverBan(key, "", this.#now()) !== undefined) {
      return this.#refuse(user, { refusal: "name_banned", name: nick });
    }
    this.#renames.nick(user, nick);
  }

  #action(user: User<S>, action: string): void {
    if (this.#community.anyMutes && this.#muted(user)) return;
    if (SERVER_EVENT.test(action)) return this.#refuse(user, { refusal: "action_like_server" });
    this.#delivery.toRoom(user.room, { type: "action", from: user.name, text: action }, user);
    this.#history?.keep(user.room.name, user.name, action, true);
    this.#link.publish({ type: "me", server: "", id: user.id, action });
  }

  #privateMessage(user: User<S>, to: string, text: string): void {
    const target = this.#registry.named(to);
    if (target === undefined) return this.#refuse(user, { refusal: "no_such_user", name: to });
    if (target.local) {
      return this.#delivery.reply(target, {
        type: "private",
        from: user.name,
        to: target.name,
        text,
      });
    }
    if (!this.#link.up) {
      return this.#refuse(user, { refusal: "unreachable_user", name: target.name });
    }
    this.#link.publish({ type: "msg", server: "", from: user.name, to: target.name, text });
  }

  /** The room's users, this server's first, and how many are online. */
  #who(user: User<S>): void {
    const room = user.room;
    const names = [...room.users].filter((u) => u.local).map((u) => u.name);
    for (const other of room.users) if (!other.local) names.push(other.name);
    const online = this.#registry.size;
    // While the link is down, other servers' users are as last seen: say so.
    const stale = this.#link.linked && !this.#link.up;
    this.#delivery.reply(user, { type: "who", room: room.name, names, online, stale });
  }

  #listRooms(user: User<S>): void {
    const rooms = this.#registry.rooms().map((r) => ({ name: r.name, users: r.users.size }));
    this.#delivery.reply(user, { type: "rooms", rooms });
  }

  #page(user: User<S>, command: Extract<ServerCommand, { name: "history" }>): void {
    if (this.#history === undefined) return this.#refuse(user, { refusal: "history_off" });
    const before = command.before === undefined
      ? undefined
      : parseBefore(command.before, this.#now());
    if (command.before !== undefined && before === undefined) {
      return this.#refuse(user, { refusal: "history_usage" });
    }
    const limit = command.limit ?? DEFAULT_HISTORY_PAGE;
    this.#replyAll(
      user,
      this.#history.page(user.room.name, user, { limit, before, more: command.more }),
    );
  }

  #moveTo(user: User<S>, roomName: string): void {
    if (user.room.name.toLowerCase() === roomName.toLowerCase()) {
      return this.#refuse(user, { refusal: "already_in_room", room: user.room.name });
    }
    const now = this.#now();
    const ban = this.#community.roomBan(roomName, user.name, user.local?.address ?? "", now);
    if (ban !== undefined) {
      const { by, until, reason } = ban;
      return this.#delivery.reply(user, {
        type: "you_are_banned",
        place: roomName,
        by,
        until,
        reason,
      });
    }
    this.move(user, roomName);
    // A logged-in user who opens a new room owns it.
    const account = user.local?.account;
    if (
      account !== undefined && user.room.creator === user.id && !this.#community.keeps(roomName)
    ) {
      this.#moderation.perform({
        kind: "claim",
        room: user.room.name,
        owner: account,
        by: user.name,
      }, user);
    }
  }

  /** Moves a local user to `roomName` and tells everyone concerned (the
   * caller has checked that they may go there). */
  move(user: User<S>, roomName: string): void {
    const from = this.#registry.move(user, roomName);
    const room = user.room.name;
    this.#delivery.toRoom(from, { type: "exit", name: user.name, room: from.name });
    this.#delivery.toRoom(user.room, { type: "enter", name: user.name, room }, user);
    const recent = this.#history?.onJoin(room, user) ?? [];
    const first: ChatEvent[] = [{ type: "room", room, users: user.room.users.size }];
    this.#replyAll(user, recent, [...first, ...this.#moderation.topicEvents(room)]);
    this.#link.publish({ type: "move", server: "", id: user.id, room: user.room.name });
  }
}
