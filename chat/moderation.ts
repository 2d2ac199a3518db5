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
  encodeLines,
  errorLine,
  formatLeft,
  infoLine,
  LOBBY,
  moderationLines as say,
} from "./protocol.ts";
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
  disconnect(user: User<S>, notice: string, reason: string): void;
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

/** Said when a change cannot be kept. */
export const STORE_FAILED = "cannot do that now: the store is unavailable (try again later)";
const NO_STORE = "this server keeps no accounts or rooms (it runs with --accounts off)";

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

  /** The topic line a newcomer to `room` gets, if it has one. */
  topicLines(room: string): string[] {
    const state = this.#c.community.room(room);
    if (state === undefined || state.topic === "") return [];
    return [say.topic(state.name, state.topic, state.topicBy)];
  }

  /** Carries out `act` for `by`: written first if it is kept, then enacted
   * here and on every other server. `done` runs once it has taken effect. */
  perform(act: Act, by: User<S> | undefined, done: () => void = () => {}): void {
    if (!isStored(act)) return this.#took(act, done);
    const store = this.#c.store;
    if (store === undefined) return this.#tell(by, errorLine(NO_STORE));
    const id = by?.id;
    this.#c.after(store.write(act), (kept) => {
      if (kept) return this.#took(act, done);
      this.#tellId(id, errorLine(`${act.room} is owned already`));
    }, () => this.#tellId(id, errorLine(STORE_FAILED)));
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
        return this.#toRoom(act.room, say.owned(act.room, act.by));
      case "release":
        return this.#toRoom(act.room, say.released(act.room));
      case "topic":
        return this.#toRoom(act.room, say.topicSet(act.by, act.text));
      case "op":
        return this.#toRoom(
          act.room,
          (act.on ? say.opped : say.deopped)(act.by, this.#shown(act.account), act.room),
        );
      case "ban":
        return this.#enactBan(act.room, act.sanction);
      case "unban":
        if (act.room === "") return;
        return this.#toRoom(act.room, say.unbanned(this.#shown(act.target), act.room, act.by));
      case "mute":
        return this.#enactMute(act.room, act.sanction);
      case "unmute":
        return this.#toRoom(act.room, say.unmuted(this.#shown(act.target), act.by));
      case "kick":
        return this.#enactKick(act.room, act.target, act.by, act.reason);
      case "kill":
        return this.#enactKill(act.target, act.by, act.reason);
      case "announce":
        return this.#c.delivery.broadcast(encodeLines(say.announcement(act.by, act.text)));
      case "account":
        return;
      default:
        return unreachable(act);
    }
  }

  #enactBan(room: string, ban: Sanction): void {
    if (ban.label !== undefined) return; // an address kept with a name's ban: no news
    const now = this.#c.now();
    const name = this.#shown(ban.target);
    if (room === "") {
      this.#c.delivery.broadcast(encodeLines(
        say.banned(name, "the server", ban.by, ban.until, now, ban.reason),
      ));
    } else {
      this.#toRoom(room, say.banned(name, room, ban.by, ban.until, now, ban.reason));
    }
    const place = room === "" ? "this server" : room;
    const notice = say.youAreBanned(place, ban.by, ban.until, now, ban.reason);
    for (const user of this.#localsMatching(room, ban.target)) {
      this.#keepAddress(room, ban, user);
      if (room === "") {
        this.#c.disconnect(user, notice.slice(2), `banned by ${ban.by}`);
      } else {
        this.#c.delivery.reply(user, notice);
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
    const now = this.#c.now();
    this.#toRoom(room, say.muted(this.#shown(mute.target), mute.by, mute.until, now, mute.reason));
    const target = this.#c.registry.named(mute.target);
    if (target?.local !== undefined) {
      this.#c.delivery.reply(target, say.youAreMuted(room, mute.by, mute.until, now, mute.reason));
    }
  }

  #enactKick(room: string, targetName: string, by: string, reason: string): void {
    this.#toRoom(room, say.kicked(this.#shown(targetName), by, reason));
    const target = this.#c.registry.named(targetName);
    if (target?.local === undefined || !sameRoom(target.room, room)) return;
    if (target.room.name === LOBBY) {
      return this.#c.disconnect(
        target,
        `you were kicked by ${by}${reason ? ` (${reason})` : ""}`,
        `kicked by ${by}`,
      );
    }
    this.#c.delivery.reply(target, say.youWereKicked(room, by, reason));
    this.#c.moveTo(target, LOBBY);
  }

  #enactKill(targetName: string, by: string, reason: string): void {
    const target = this.#c.registry.named(targetName);
    if (target?.local === undefined) return;
    this.#c.disconnect(target, say.youWereKilled(by, reason).slice(2), say.killReason(by, reason));
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
      const reason = registered ? `${name} is registered, and not online` : `no such user: ${name}`;
      return this.#c.delivery.reply(user, registered ? infoLine(reason) : errorLine(reason));
    }
    const oper = user.local?.oper === true;
    if (target.local !== undefined || !this.#c.link.up) {
      return this.#c.delivery.reply(user, infoLine(this.#facts(target, oper)));
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
    if (target === undefined) {
      return this.#c.delivery.reply(user, errorLine("no such user any more"));
    }
    const facts = `${this.#facts(target, false)} (its server did not answer)`;
    this.#c.delivery.reply(user, infoLine(facts));
  }

  /** Another server's user asked about one of ours: answer with the facts. */
  answerWhois(event: Extract<ClusterEvent, { type: "whois" }>): void {
    const target = this.#c.registry.user(event.target);
    if (target?.local === undefined) return;
    const facts = this.#facts(target, event.oper);
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
    this.#c.delivery.reply(asker, infoLine(event.facts));
  }

  /** What `/whois` says of `target`: everything for a user of this server
   * (the address only to an operator); for another server's user, what
   * this one knows (when that server cannot be asked). */
  #facts(target: User<S>, oper: boolean): string {
    const registered = this.#c.community.registered(target.name);
    const facts = [registered ? "registered" : "not registered"];
    const local = target.local;
    if (local?.account === target.name.toLowerCase()) facts.push("logged in");
    if (local?.oper) facts.push("server operator");
    facts.push(`in ${target.room.name}`);
    if (local === undefined) facts.push("on another server");
    else facts.push(`idle ${formatLeft(this.#c.now() - local.activeAt)}`);
    if (local !== undefined && oper) facts.push(`from ${local.address}`);
    return `${target.name}: ${facts.join(", ")}`;
  }

  #topic(user: User<S>, text: string): void {
    const room = user.room.name;
    if (text === "") {
      const state = this.#c.community.room(room);
      return this.#c.delivery.reply(
        user,
        say.topic(room, state?.topic ?? "", state?.topicBy ?? ""),
      );
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
      return this.#c.delivery.reply(user, errorLine(`${name} is not in ${room.name}`));
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
    if (kind === "ban" && room === LOBBY) {
      return this.#c.delivery.reply(
        user,
        errorLine("nobody can be banned from the lobby (operators: /gban)"),
      );
    }
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
      return this.#c.delivery.reply(
        user,
        errorLine(`${target} is not ${kind === "unban" ? "banned" : "muted"} in ${room}`),
      );
    }
    this.perform({ kind, room, target, by: user.name }, user);
  }

  #listBans(user: User<S>): void {
    const room = user.room.name;
    if (!this.#may(user, room, "op", "list bans", false)) return;
    const now = this.#c.now();
    const operator = user.local?.oper === true;
    const lines = [
      ...this.#c.community.bans(room, now).map((b) => sanctionLine("banned", b, now, operator)),
      ...this.#c.community.mutes(room, now).map((m) => sanctionLine("muted", m, now, operator)),
    ];
    if (lines.length === 0) {
      return this.#c.delivery.reply(user, infoLine(`nobody is banned or muted in ${room}`));
    }
    this.#c.delivery.reply(user, infoLine(`bans and mutes in ${room}:`), ...lines);
  }

  #op(user: User<S>, name: string, on: boolean): void {
    const room = user.room.name;
    if (!this.#may(user, room, "owner", on ? "make ops" : "take op")) return;
    const account = name.toLowerCase();
    if (on && !this.#c.community.registered(account)) {
      return this.#c.delivery.reply(
        user,
        errorLine(`${name} is not registered: only registered users can be ops`),
      );
    }
    const isOp = this.#c.community.room(room)?.ops.has(account) === true;
    if (isOp === on) {
      return this.#c.delivery.reply(
        user,
        errorLine(`${name} is ${on ? "already" : "not"} an op of ${room}`),
      );
    }
    this.perform({ kind: "op", room, account, on, by: user.name }, user);
  }

  #kill(user: User<S>, name: string, reason: string): void {
    if (!this.#may(user, "", "operator", "kill", false)) return;
    const target = this.#c.registry.named(name);
    if (target === undefined) {
      return this.#c.delivery.reply(user, errorLine(`no such user: ${name}`));
    }
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
    if (!banned) {
      return this.#c.delivery.reply(user, errorLine(`${target} is not banned from the server`));
    }
    this.perform(
      { kind: "unban", room: "", target, by: user.name },
      user,
      () => this.#tell(user, infoLine(`${target} is no longer banned from the server`)),
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
      this.#c.delivery.reply(user, errorLine(`only ${who} may ${what}`));
      return false;
    }
    if (kept && room !== "" && !this.#c.community.keeps(room)) {
      const why =
        `${room} is not registered: a room keeps a topic, ops, bans and mutes once a registered user owns it`;
      this.#c.delivery.reply(user, errorLine(why));
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
    this.#c.delivery.reply(
      user,
      errorLine(
        `${target} is ${theirs === "owner" ? "the owner" : "an op"} of ${room}: you cannot do that`,
      ),
    );
    return false;
  }

  #toRoom(room: string, line: string): void {
    const live = this.#c.registry.room(room);
    if (live !== undefined) this.#c.delivery.toRoom(live, encodeLines(line));
  }

  /** A name as shown: the online user's spelling, else as given. */
  #shown(name: string): string {
    return this.#c.registry.named(name)?.name ?? name;
  }

  #tell(user: User<S> | undefined, line: string): void {
    if (user?.local !== undefined) this.#c.delivery.reply(user, line);
  }

  #tellId(id: number | undefined, line: string): void {
    if (id !== undefined) this.#tell(this.#c.registry.user(id), line);
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

/** `*   alice banned by bob, 9m left (spam)` */
function sanctionLine(what: string, s: Sanction, now: number, operator: boolean): string {
  const whom = s.label === undefined
    ? s.target
    : operator
    ? `${s.target} (${s.label}'s address)`
    : `${s.label}'s address`;
  const left = s.until === 0 ? "for good" : `${formatLeft(s.until - now)} left`;
  return infoLine(`  ${whom} ${what} by ${s.by}, ${left}${s.reason ? ` (${s.reason})` : ""}`);
}

function whoisKey(asker: number, target: number): string {
  return `${asker}:${target}`;
}
