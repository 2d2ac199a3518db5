/**
 * Rooms and moderation: topics, kicks, bans, mutes, ops, and the server
 * operators' kill, server ban and announcement.
 *
 * Every command is checked here (is the caller allowed, is the target
 * outranked, is the room registered), then becomes an `Act`. An act that
 * changes what is kept is written to the store first and takes effect only
 * once the store has it, in a later turn (the chat server never waits on a
 * store); then it is applied to the in-memory `Community`, shown to the
 * people it concerns, logged, and sent to the other servers, which apply
 * the same act to their own users (`enact`). A store that fails refuses the
 * command with a `! ` line and nothing changes.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import type { Command } from "./commands.ts";
import {
  type Act,
  atLeast,
  type Community,
  isStored,
  type Rank,
  type Sanction,
} from "./community.ts";
import type { Delivery } from "./delivery.ts";
import type { Link } from "./link.ts";
import type { ClusterEvent, CommunityStore, Log } from "./ports.ts";
import {
  type ChatEvent,
  noticed,
  type Refusal,
  refused,
  type SanctionEntry,
  type WhoisFacts,
} from "./events.ts";
import { LOBBY } from "./protocol.ts";
import { whoisText } from "./render.ts";
import type { Registry, Room, User } from "./registry.ts";

/** What accounts and moderation need from the chat server. */
export interface PeopleContext<S> {
  registry: Registry<S>;
  delivery: Delivery<S>;
  link: Link;
  community: Community;
  /** Where accounts and rooms are kept; undefined with `--accounts off`. */
  store: CommunityStore | undefined;
  log: Log;
  now: () => number;
  /** Runs `then` (or `failed`) in a later turn of the chat server, once
   * `promise` settles: how a handler waits without blocking the chat. */
  after<T>(promise: Promise<T>, then: (value: T) => void, failed: (error: unknown) => void): void;
  /** Moves a local user to `room` as `/join` does. */
  moveTo(user: User<S>, room: string): void;
  /** Disconnects a local user: `notice` to them, `reason` in their leave. */
  disconnect(user: User<S>, notice: Refusal, reason: string): void;
  /** Has `whoisExpired(asker, target, token)` called once a `/whois` asked
   * of another server has had its time to be answered. */
  expireWhois(asker: number, target: number, token: number): void;
}

/** The commands handled here. */
export type ModerationCommand = Extract<
  Command,
  {
    name:
      | "whois"
      | "topic"
      | "kick"
      | "ban"
      | "unban"
      | "mute"
      | "unmute"
      | "bans"
      | "op"
      | "deop"
      | "kill"
      | "gban"
      | "ungban"
      | "announce";
  }
>;

/**
 * Moderation; see the module doc.
 *
 * @example
 * ```ts
 * // The chat server calls: moderation.run(user, { name: "kick", target: "bob", reason: "" }),
 * // and moderation.enact(act) for an act another server sent.
 * ```
 */
export class Moderation<S> {
  readonly #c: PeopleContext<S>;
  /** `/whois` questions another server has not answered yet, by asker and
   * target: the token of the latest. */
  readonly #asked = new Map<string, number>();
  #lastToken = 0;

  constructor(context: PeopleContext<S>) {
    this.#c = context;
  }

  /** One command from a local user. */
  run(user: User<S>, command: ModerationCommand): void {
    switch (command.name) {
      case "whois":
        return this.#whois(user, command.target);
      case "topic":
        return this.#topic(user, command.text);
      case "kick":
        return this.#kick(user, command.target, command.reason);
      case "ban":
      case "mute":
        return this.#sanction(user, command.name, command.target, command.ms, command.reason);
      case "unban":
      case "unmute":
        return this.#lift(user, command.name, command.target);
      case "bans":
        return this.#listBans(user);
      case "op":
      case "deop":
        return this.#op(user, command.target, command.name === "op");
      case "kill":
        return this.#kill(user, command.target, command.reason);
      case "gban":
        return this.#serverBan(user, command.target, command.ms, command.reason);
      case "ungban":
        return this.#serverUnban(user, command.target);
      case "announce":
        return this.#announce(user, command.text);
      default:
        return unreachable(command);
    }
  }

  /** What `user` may do in `room`. */
  rankOf(user: User<S>, room: string): Rank {
    const local = user.local;
    if (local === undefined) {
      const key = user.name.toLowerCase();
      return this.#c.community.rank(
        room,
        this.#c.community.registered(key) ? key : undefined,
        false,
      );
    }
    return this.#c.community.rank(room, local.account, local.oper === true);
  }

  /** The topic a newcomer to `room` gets, if it has one. */
  topicEvents(room: string): ChatEvent[] {
    const state = this.#c.community.room(room);
    if (state === undefined || state.topic === "") return [];
    return [{ type: "topic", room: state.name, text: state.topic, by: state.topicBy }];
  }

  /** Carries out `act` for `by`: written first if it is kept, then enacted
   * here and on every other server. `done` runs once it has taken effect. */
  perform(act: Act, by: User<S> | undefined, done: () => void = () => {}): void {
    if (!isStored(act)) return this.#took(act, done);
    const store = this.#c.store;
    if (store === undefined) return this.#tell(by, refused({ refusal: "no_store" }));
    const id = by?.id;
    this.#c.after(store.write(act), (kept) => {
      if (kept) return this.#took(act, done);
      this.#tellId(id, refused({ refusal: "room_owned", room: act.room }));
    }, () => this.#tellId(id, refused({ refusal: "store_failed" })));
  }

  #took(act: Act, done: () => void): void {
    this.enact(act);
    this.#c.link.publish({ type: "act", server: "", act });
    this.#logAct(act);
    done();
  }

  /** Applies `act` (done here, or on another server) to the in-memory copy
   * and to this server's users. */
  enact(act: Act): void {
    this.#c.community.apply(act);
    switch (act.kind) {
      case "claim":
        return this.#toRoom(act.room, { type: "owned", room: act.room, owner: act.by });
      case "release":
        return this.#toRoom(act.room, { type: "released", room: act.room });
      case "topic":
        return this.#toRoom(act.room, {
          type: "topic_set",
          room: act.room,
          by: act.by,
          text: act.text,
        });
      case "op": {
        const { room, by, on } = act;
        return this.#toRoom(room, { type: "opped", room, name: this.#shown(act.account), by, on });
      }
      case "ban":
        return this.#enactBan(act.room, act.sanction);
      case "unban":
        if (act.room === "") return;
        return this.#toRoom(act.room, {
          type: "unbanned",
          room: act.room,
          name: this.#shown(act.target),
          by: act.by,
        });
      case "mute":
        return this.#enactMute(act.room, act.sanction);
      case "unmute":
        return this.#toRoom(act.room, {
          type: "unmuted",
          room: act.room,
          name: this.#shown(act.target),
          by: act.by,
        });
      case "kick":
        return this.#enactKick(act.room, act.target, act.by, act.reason);
      case "kill":
        return this.#enactKill(act.target, act.by, act.reason);
      case "announce":
        return this.#c.delivery.broadcast({ type: "announcement", by: act.by, text: act.text });
      case "account":
        return;
      default:
        return unreachable(act);
    }
  }

  #enactBan(room: string, ban: Sanction): void {
    if (ban.label !== undefined) return; // an address kept with a name's ban: no news
    const { by, until, reason } = ban;
    const news: ChatEvent = {
      type: "banned",
      room,
      name: this.#shown(ban.target),
      by,
      until,
      reason,
    };
    if (room === "") this.#c.delivery.broadcast(news);
    else this.#toRoom(room, news);
    const place = room === "" ? "this server" : room;
    for (const user of this.#localsMatching(room, ban.target)) {
      this.#keepAddress(room, ban, user);
      if (room === "") {
        const now = this.#c.now();
        this.#c.disconnect(
          user,
          { refusal: "banned_off", place, by, until, now, reason },
          `banned by ${by}`,
        );
      } else {
        this.#c.delivery.reply(user, { type: "you_are_banned", place, by, until, reason });
        this.#c.moveTo(user, LOBBY);
      }
    }
  }

  /** A name's ban also keeps out the address its holder connected from
   * (recorded by that user's server, the only one that knows it), so a
   * reconnect under a new name does not get round it. */
  #keepAddress(room: string, ban: Sanction, user: User<S>): void {
    const address = user.local?.address;
    // Not a loopback address: behind a local proxy everyone has it.
    if (address === undefined || ban.target === address || isLoopback(address)) return;
    const sanction = { ...ban, target: address, label: ban.target };
    this.perform({ kind: "ban", room, sanction }, undefined);
  }

  #enactMute(room: string, mute: Sanction): void {
    const { by, until, reason } = mute;
    this.#toRoom(room, { type: "muted", room, name: this.#shown(mute.target), by, until, reason });
    const target = this.#c.registry.named(mute.target);
    if (target?.local !== undefined) {
      this.#c.delivery.reply(target, { type: "you_are_muted", room, by, until, reason });
    }
  }

  #enactKick(room: string, targetName: string, by: string, reason: string): void {
    this.#toRoom(room, { type: "kicked", room, name: this.#shown(targetName), by, reason });
    const target = this.#c.registry.named(targetName);
    if (target?.local === undefined || !sameRoom(target.room, room)) return;
    if (target.room.name === LOBBY) {
      return this.#c.disconnect(target, { refusal: "kicked_off", by, reason }, `kicked by ${by}`);
    }
    this.#c.delivery.reply(target, { type: "you_were_kicked", room, by, reason });
    this.#c.moveTo(target, LOBBY);
  }

  #enactKill(targetName: string, by: string, reason: string): void {
    const target = this.#c.registry.named(targetName);
    if (target?.local === undefined) return;
    this.#c.disconnect(target, { refusal: "killed", by, reason }, `killed by ${by}: ${reason}`);
  }

  /** Local users a ban on `target` (a name or an address) in `room` ("":
   * the server) reaches now. */
  #localsMatching(room: string, target: string): User<S>[] {
    const users = room === "" ? this.#c.registry.locals() : this.#c.registry.room(room)?.users;
    return [...(users ?? [])].filter((u) =>
      u.local !== undefined && (u.name.toLowerCase() === target || u.local.address === target)
    );
  }

  #whois(user: User<S>, name: string): void {
    const target = this.#c.registry.named(name);
    const registered = this.#c.community.registered(name);
    if (target === undefined) {
      return this.#c.delivery.reply(
        user,
        registered
          ? noticed({ notice: "registered_offline", name })
          : refused({ refusal: "no_such_user", name }),
      );
    }
    const oper = user.local?.oper === true;
    if (target.local !== undefined || !this.#c.link.up) {
      return this.#c.delivery.reply(user, { type: "whois", facts: this.#facts(target, oper) });
    }
    // Idle time, login and address are known to the user's own server: ask
    // it (the answer comes back as a `whois_reply`), but not forever.
    const token = ++this.#lastToken;
    this.#asked.set(whoisKey(user.id, target.id), token);
    this.#c.link.publish({ type: "whois", server: "", asker: user.id, target: target.id, oper });
    this.#c.expireWhois(user.id, target.id, token);
  }

  /** A `/whois` of another server's user had its time: if no answer came,
   * the asker gets what this server knows. */
  whoisExpired(asker: number, targetId: number, token: number): void {
    const key = whoisKey(asker, targetId);
    if (this.#asked.get(key) !== token) return; // answered, or asked again since
    this.#asked.delete(key);
    const user = this.#c.registry.user(asker);
    if (user?.local === undefined) return;
    const target = this.#c.registry.user(targetId);
    if (target === undefined) return this.#refuse(user, { refusal: "no_such_user_any_more" });
    const facts = { ...this.#facts(target, false), unanswered: true };
    this.#c.delivery.reply(user, { type: "whois", facts });
  }

  /** Another server's user asked about one of ours: answer with the facts. */
  answerWhois(event: Extract<ClusterEvent, { type: "whois" }>): void {
    const target = this.#c.registry.user(event.target);
    if (target?.local === undefined) return;
    const facts = whoisText(this.#facts(target, event.oper));
    const reply = {
      type: "whois_reply",
      server: "",
      asker: event.asker,
      target: event.target,
      facts,
    } as const;
    this.#c.link.publish({ ...reply, to: event.server });
  }

  /** The answer to one of ours. */
  whoisAnswered(event: Extract<ClusterEvent, { type: "whois_reply" }>): void {
    const asker = this.#c.registry.user(event.asker);
    if (event.to !== this.#c.link.serverId || asker?.local === undefined) return;
    // An answer after its time (the asker was told already) is dropped.
    if (!this.#asked.delete(whoisKey(event.asker, event.target))) return;
    this.#c.delivery.reply(asker, { type: "whois_told", text: event.facts });
  }

  /** What `/whois` says of `target`: everything for a user of this server
   * (the address only to an operator); for another server's user, what
   * this one knows (when that server cannot be asked). */
  #facts(target: User<S>, oper: boolean): WhoisFacts {
    const local = target.local;
    const facts: WhoisFacts = {
      name: target.name,
      registered: this.#c.community.registered(target.name),
      loggedIn: local?.account === target.name.toLowerCase(),
      oper: local?.oper === true,
      room: target.room.name,
    };
    if (local !== undefined) facts.idleMs = this.#c.now() - local.activeAt;
    if (local !== undefined && oper) facts.address = local.address;
    return facts;
  }

  #topic(user: User<S>, text: string): void {
    const room = user.room.name;
    if (text === "") {
      const state = this.#c.community.room(room);
      const text = state?.topic ?? "";
      return this.#c.delivery.reply(user, { type: "topic", room, text, by: state?.topicBy ?? "" });
    }
    if (!this.#may(user, room, "op", "set the topic")) return;
    const topic = text === "-" ? "" : text;
    this.perform({ kind: "topic", room, text: topic, by: user.name }, user);
  }

  #kick(user: User<S>, name: string, reason: string): void {
    const room = user.room;
    if (!this.#may(user, room.name, "op", "kick", false)) return;
    const target = this.#c.registry.named(name);
    if (target === undefined || target.room !== room) {
      return this.#refuse(user, { refusal: "not_in_room", name, room: room.name });
    }
    if (!this.#outranks(user, room.name, target.name)) return;
    this.perform(
      { kind: "kick", room: room.name, target: target.name, by: user.name, reason },
      user,
    );
  }

  #sanction(user: User<S>, kind: "ban" | "mute", target: string, ms: number, reason: string): void {
    const room = user.room.name;
    if (!this.#may(user, room, "op", kind)) return;
    if (kind === "ban" && room === LOBBY) return this.#refuse(user, { refusal: "lobby_ban" });
    if (!this.#outranks(user, room, target)) return;
    const until = ms === 0 ? 0 : this.#c.now() + ms;
    const sanction = { target, by: user.name, reason, until };
    this.perform({ kind, room, sanction } as Act, user);
  }

  #lift(user: User<S>, kind: "unban" | "unmute", target: string): void {
    const room = user.room.name;
    if (!this.#may(user, room, "op", kind)) return;
    const now = this.#c.now();
    const held = kind === "unban"
      ? this.#c.community.bans(room, now).some((b) => b.target === target || b.label === target)
      : this.#c.community.mutes(room, now).some((m) => m.target === target);
    if (!held) {
      const what = kind === "unban" ? "banned" : "muted";
      return this.#refuse(user, { refusal: "not_sanctioned", target, what, room });
    }
    this.perform({ kind, room, target, by: user.name }, user);
  }

  #listBans(user: User<S>): void {
    const room = user.room.name;
    if (!this.#may(user, room, "op", "list bans", false)) return;
    const now = this.#c.now();
    const operator = user.local?.oper === true;
    const entries = [
      ...this.#c.community.bans(room, now).map((b) => sanctionEntry("banned", b, operator)),
      ...this.#c.community.mutes(room, now).map((m) => sanctionEntry("muted", m, operator)),
    ];
    if (entries.length === 0) {
      return this.#c.delivery.reply(user, noticed({ notice: "nobody_banned", room }));
    }
    this.#c.delivery.reply(user, { type: "bans", room, entries });
  }

  #op(user: User<S>, name: string, on: boolean): void {
    const room = user.room.name;
    if (!this.#may(user, room, "owner", on ? "make ops" : "take op")) return;
    const account = name.toLowerCase();
    if (on && !this.#c.community.registered(account)) {
      return this.#refuse(user, { refusal: "not_registered_for_op", name });
    }
    const isOp = this.#c.community.room(room)?.ops.has(account) === true;
    if (isOp === on) return this.#refuse(user, { refusal: "op_already", name, room, on });
    this.perform({ kind: "op", room, account, on, by: user.name }, user);
  }

  #kill(user: User<S>, name: string, reason: string): void {
    if (!this.#may(user, "", "operator", "kill", false)) return;
    const target = this.#c.registry.named(name);
    if (target === undefined) return this.#refuse(user, { refusal: "no_such_user", name });
    this.perform({ kind: "kill", target: target.name, by: user.name, reason }, user);
  }

  #serverBan(user: User<S>, target: string, ms: number, reason: string): void {
    if (!this.#may(user, "", "operator", "ban from the server", false)) return;
    const until = ms === 0 ? 0 : this.#c.now() + ms;
    this.perform(
      { kind: "ban", room: "", sanction: { target, by: user.name, reason, until } },
      user,
    );
  }

  #serverUnban(user: User<S>, target: string): void {
    if (!this.#may(user, "", "operator", "lift server bans", false)) return;
    const banned = this.#c.community.bans("", this.#c.now()).some((b) =>
      b.target === target || b.label === target
    );
    if (!banned) return this.#refuse(user, { refusal: "not_server_banned", target });
    this.perform(
      { kind: "unban", room: "", target, by: user.name },
      user,
      () => this.#tell(user, noticed({ notice: "server_unbanned", target })),
    );
  }

  #announce(user: User<S>, text: string): void {
    if (!this.#may(user, "", "operator", "announce", false)) return;
    this.perform({ kind: "announce", by: user.name, text }, user);
  }

  /** Whether `user` has `rank` in `room`; if not, says so. Acts that are
   * kept also need a room that keeps state. */
  #may(user: User<S>, room: string, rank: Rank, what: string, kept = true): boolean {
    const have = room === "" ? (user.local?.oper ? "operator" : "user") : this.rankOf(user, room);
    if (!atLeast(have, rank)) {
      const who = rank === "operator"
        ? "server operators"
        : rank === "owner"
        ? `the owner of ${room}`
        : `ops of ${room}`;
      this.#refuse(user, { refusal: "rank_needed", who, what });
      return false;
    }
    if (kept && room !== "" && !this.#c.community.keeps(room)) {
      this.#refuse(user, { refusal: "room_not_registered", room });
      return false;
    }
    return true;
  }

  /** Whether `user` outranks `target` (a name) in `room`; if not, says so.
   * Server operators outrank everyone. */
  #outranks(user: User<S>, room: string, target: string): boolean {
    const mine = this.rankOf(user, room);
    const online = this.#c.registry.named(target);
    const theirs = online !== undefined ? this.rankOf(online, room) : this.#c.community.rank(
      room,
      this.#c.community.registered(target) ? target.toLowerCase() : undefined,
      false,
    );
    if (mine === "operator" || !atLeast(theirs, mine)) return true;
    const rank = theirs === "owner" ? "owner" : "op";
    this.#refuse(user, { refusal: "outranked", target, rank, room });
    return false;
  }

  #toRoom(room: string, event: ChatEvent): void {
    const live = this.#c.registry.room(room);
    if (live !== undefined) this.#c.delivery.toRoom(live, event);
  }

  #refuse(user: User<S>, refusal: Refusal): void {
    this.#c.delivery.reply(user, refused(refusal));
  }

  /** A name as shown: the online user's spelling, else as given. */
  #shown(name: string): string {
    return this.#c.registry.named(name)?.name ?? name;
  }

  #tell(user: User<S> | undefined, event: ChatEvent): void {
    if (user?.local !== undefined) this.#c.delivery.reply(user, event);
  }

  #tellId(id: number | undefined, event: ChatEvent): void {
    if (id !== undefined) this.#tell(this.#c.registry.user(id), event);
  }

  /** Who did what to whom, where and why, for the operator's log. */
  #logAct(act: Act): void {
    if (act.kind === "account" || act.kind === "claim" || act.kind === "release") return;
    const fields: Record<string, string> = { event: "moderation", action: act.kind };
    const sanction = "sanction" in act ? act.sanction : undefined;
    fields.by = sanction?.by ?? ("by" in act ? act.by : "");
    const target = sanction?.label ?? sanction?.target ??
      ("target" in act ? act.target : "account" in act ? act.account : undefined);
    if (target !== undefined) fields.target = target;
    if ("room" in act) fields.room = act.room === "" ? "(server)" : act.room;
    const reason = sanction?.reason ?? ("reason" in act ? act.reason : undefined);
    if (reason) fields.reason = reason;
    if (sanction) {
      fields.until = sanction.until === 0 ? "never" : new Date(sanction.until).toISOString();
    }
    const where = fields.room ? ` in ${fields.room}` : "";
    const why = reason ? ` (${reason})` : "";
    this.#c.log(
      `[server] ${fields.by}: ${act.kind}${target ? ` ${target}` : ""}${where}${why}`,
      { level: "warn", ...fields },
    );
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
}

function sameRoom<S>(room: Room<S>, name: string): boolean {
  return room.name.toLowerCase() === name.toLowerCase();
}

/** One entry of `/bans`: an address kept with a name's ban shows as that
 * name's, and only operators see the address itself. */
function sanctionEntry(what: "banned" | "muted", s: Sanction, operator: boolean): SanctionEntry {
  const whom = s.label === undefined
    ? s.target
    : operator
    ? `${s.target} (${s.label}'s address)`
    : `${s.label}'s address`;
  return { whom, what, by: s.by, until: s.until, reason: s.reason };
}

function whoisKey(asker: number, target: number): string {
  return `${asker}:${target}`;
}
