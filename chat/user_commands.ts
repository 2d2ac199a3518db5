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
import { actionLine, chatLine, encodeLines, errorLine, infoLine, privateLine } from "./protocol.ts";
import type { Registry, User } from "./registry.ts";
import type { Renames } from "./renames.ts";
import { DEFAULT_HISTORY_PAGE, type Lines, parseBefore, type RoomHistory } from "./history.ts";
import type { Accounts } from "./accounts.ts";
import type { Community } from "./community.ts";
import type { Moderation } from "./moderation.ts";
import { moderationLines, SERVER_EVENT } from "./protocol.ts";

/** The commands the chat server handles (`/quit` ends at the session). */
export type ServerCommand = Exclude<Command, { name: "quit" }>;

/** How many names one `/who` or `/rooms` line holds before wrapping. */
const NAMES_PER_LINE = 20;

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
  readonly #later: (user: User<S>, lines: Promise<string[]>) => void;
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
      /** Sends lines to a user once a networked history store answers. */
      later?: (user: User<S>, lines: Promise<string[]>) => void;
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

  /** Replies now, or once the lines are ready. */
  #replyLines(user: User<S>, lines: Lines, first: string[] = []): void {
    if (Array.isArray(lines)) return this.#delivery.reply(user, ...first, ...lines);
    if (first.length > 0) this.#delivery.reply(user, ...first);
    this.#later(user, lines);
  }

  /** A chat line: to the others in the room, and to the other servers. */
  say(user: User<S>, text: string): void {
    if (this.#community.anyMutes && this.#muted(user)) return;
    this.#delivery.toRoom(user.room, encodeLines(chatLine(user.name, text)), user);
    this.#history?.keep(user.room.name, user.name, text, false);
    // Checked here, not only in publish, so a lone server builds no event per line.
    if (this.#link.linked) this.#link.publish({ type: "say", server: "", id: user.id, text });
  }

  /** Whether `user` is muted in their room; if so, tells them. */
  #muted(user: User<S>): boolean {
    const now = this.#now();
    const mute = this.#community.mute(user.room.name, user.name, now);
    if (mute === undefined) return false;
    const room = user.room.name;
    this.#delivery.reply(
      user,
      moderationLines.youAreMuted(room, mute.by, mute.until, now, mute.reason),
    );
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
        return this.#delivery.reply(user, ...helpLines(rank).map(infoLine));
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
      const reason = `${nick} is registered: /login ${nick} PASSWORD if it is yours`;
      return this.#delivery.reply(user, errorLine(reason));
    }
    if (this.#community.serverBan(key, "", this.#now()) !== undefined) {
      return this.#delivery.reply(user, errorLine(`${nick} is banned from this server`));
    }
    this.#renames.nick(user, nick);
  }

  #action(user: User<S>, action: string): void {
    if (this.#community.anyMutes && this.#muted(user)) return;
    if (SERVER_EVENT.test(action)) {
      return this.#delivery.reply(user, errorLine("that action would read like a server line"));
    }
    this.#delivery.toRoom(user.room, encodeLines(actionLine(user.name, action)), user);
    this.#history?.keep(user.room.name, user.name, action, true);
    this.#link.publish({ type: "me", server: "", id: user.id, action });
  }

  #privateMessage(user: User<S>, to: string, text: string): void {
    const target = this.#registry.named(to);
    if (target === undefined) return this.#delivery.reply(user, errorLine(`no such user: ${to}`));
    if (target.local) {
      return this.#delivery.send(target, encodeLines(privateLine(user.name, target.name, text)));
    }
    if (!this.#link.up) {
      const reason = `cannot reach ${target.name}: the link to other servers is down`;
      return this.#delivery.reply(user, errorLine(reason));
    }
    this.#link.publish({ type: "msg", server: "", from: user.name, to: target.name, text });
  }

  /** The room's users, this server's first, and how many are online. */
  #who(user: User<S>): void {
    const room = user.room;
    const names = [...room.users].filter((u) => u.local).map((u) => u.name);
    for (const other of room.users) if (!other.local) names.push(other.name);
    const lines = wrap(`in ${room.name}: `, names);
    const online = this.#registry.size;
    // While the link is down, other servers' users are as last seen: say so.
    const stale = this.#link.linked && !this.#link.up ? " (link to other servers down)" : "";
    lines.push(infoLine(`${names.length} in ${room.name}, ${online} online in all${stale}`));
    this.#delivery.reply(user, ...lines);
  }

  #listRooms(user: User<S>): void {
    const rooms = this.#registry.rooms().map((r) => `${r.name} (${r.users.size})`);
    this.#delivery.reply(user, ...wrap("rooms: ", rooms));
  }

  #page(user: User<S>, command: Extract<ServerCommand, { name: "history" }>): void {
    if (this.#history === undefined) {
      return this.#delivery.reply(user, errorLine("history is off on this server"));
    }
    const before = command.before === undefined
      ? undefined
      : parseBefore(command.before, this.#now());
    if (command.before !== undefined && before === undefined) {
      return this.#delivery.reply(
        user,
        errorLine("usage: /history [N] [before HH:MM or YYYY-MM-DDTHH:MM, UTC|more]"),
      );
    }
    const limit = command.limit ?? DEFAULT_HISTORY_PAGE;
    this.#replyLines(
      user,
      this.#history.page(user.room.name, user, { limit, before, more: command.more }),
    );
  }

  #moveTo(user: User<S>, roomName: string): void {
    if (user.room.name.toLowerCase() === roomName.toLowerCase()) {
      return this.#delivery.reply(user, errorLine(`you are already in ${user.room.name}`));
    }
    const now = this.#now();
    const ban = this.#community.roomBan(roomName, user.name, user.local?.address ?? "", now);
    if (ban !== undefined) {
      const notice = moderationLines.youAreBanned(roomName, ban.by, ban.until, now, ban.reason);
      return this.#delivery.reply(user, notice);
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
    this.#delivery.toRoom(from, encodeLines(infoLine(`${user.name} left the room`)));
    this.#delivery.toRoom(user.room, encodeLines(infoLine(`${user.name} joined the room`)), user);
    const size = plural(user.room.users.size, "user");
    const recent = this.#history?.onJoin(user.room.name, user) ?? [];
    const first = [infoLine(`you are in ${user.room.name} (${size})`)];
    this.#replyLines(user, recent, [...first, ...this.#moderation.topicLines(user.room.name)]);
    this.#link.publish({ type: "move", server: "", id: user.id, room: user.room.name });
  }
}

/** `* prefix a, b, c` lines of at most NAMES_PER_LINE names each. */
function wrap(prefix: string, items: string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += NAMES_PER_LINE) {
    const part = items.slice(i, i + NAMES_PER_LINE).join(", ");
    lines.push(infoLine(i === 0 ? prefix + part : part));
  }
  return lines;
}

/** `1 user`, `2 users`. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
