/**
 * The `ChatServer` actor: the one place chat state changes, one message at
 * a time, so there are no locks and no races between a rename and a line.
 *
 * It only dispatches. The state is the `Registry` (who, which name, which
 * room) and the `Community` (accounts, registered rooms, bans); lines go
 * out through `Delivery` (fan-out and join/leave batching); local users'
 * lines and commands are `UserCommands`', renames `Renames'`, accounts
 * `Accounts'` and moderation `Moderation`'s, and other servers' users are
 * kept by `RemoteUsers`. A handler never waits on I/O: a cluster-wide name
 * claim, a password's hash or a store's write is started, and its answer
 * comes back later as a message of its own (`claim_answer`, `resume`). The
 * server runs under the `resume` policy: a bug in one command drops that
 * command, not the chat. The wire format is described in `docs/protocol.md`.
 *
 * @module
 */

import { Actor, type Address, type Context, unreachable } from "../actors/mod.ts";
import { ANNOUNCE_BATCH_MS } from "./announcer.ts";
import { Delivery } from "./delivery.ts";
import { Link } from "./link.ts";
import type { Broker, ChatMetrics, ClusterEvent, CommunityStore, Log, Passwords } from "./ports.ts";
import { Accounts } from "./accounts.ts";
import { Community, type Snapshot } from "./community.ts";
import { Moderation } from "./moderation.ts";
import { type ChatEvent, type Face, noticed, type Refusal } from "./events.ts";
import { ROSTER_LIMIT } from "./protocol.ts";
import { Registry, type Sink, type User } from "./registry.ts";
import { render } from "./render.ts";
import { RemoteUsers } from "./remote.ts";
import { type ClaimAnswer, Renames } from "./renames.ts";
import type { RoomHistory } from "./history.ts";
import type { ClientSessionMessage } from "./session.ts";
import { type ServerCommand, UserCommands } from "./user_commands.ts";

export { CLAIM_TIMEOUT_MS } from "./renames.ts";
export type { ServerCommand } from "./user_commands.ts";

/** Live figures for the metrics endpoint, asked for at scrape time. */
export interface LiveFigures {
  users: number;
  remoteUsers: number;
  rooms: number;
  /** Deepest send queue among connected users, in bytes. */
  queueHighWaterBytes: number;
}

/** Messages the chat server understands. */
export type ChatServerMessage =
  | {
    type: "join";
    id: number;
    name: string;
    sink: Sink;
    /** How the client reads events. */
    face: Face;
    session: SessionAddress;
    /** Where the connection comes from (no port), and whether it is TLS. */
    address: string;
    secure: boolean;
  }
  | { type: "say"; id: number; text: string }
  | { type: "command"; id: number; command: ServerCommand }
  | { type: "leave"; id: number; reason?: string; cause?: string }
  | ({ type: "claim_answer"; id: number } & ClaimAnswer)
  | { type: "claim_expired"; id: number; token: number }
  /** A `/whois` asked of another server had its time (see Moderation). */
  | { type: "whois_expired"; asker: number; target: number; token: number }
  | { type: "shutdown"; flushMs: number; reply: () => void }
  | { type: "stats"; reply: (stats: LiveFigures) => void }
  | { type: "flush_announcements" }
  | { type: "remote"; event: ClusterEvent }
  | { type: "link"; up: boolean }
  | { type: "server_lost"; server: string }
  | { type: "name_lost"; key: string }
  /** Events for one user that a networked history store has answered. */
  | { type: "deliver"; id: number; events: ChatEvent[] }
  /** The second half of a handler that had to wait (for a store, or a
   * password's hash): run in a turn of its own. */
  | { type: "resume"; run: () => void }
  /** Accounts, rooms and bans as the store has them (at start, and after
   * the link comes back). */
  | { type: "community_loaded"; snapshot: Snapshot; reply?: () => void };

/** How the server reaches a user's session (to tell it its new name). */
type SessionAddress = Address<ClientSessionMessage>;
type ChatUser = User<SessionAddress>;

/** Messages that may send lines at once: waiting announcements go first. */
type Immediate = Extract<
  ChatServerMessage,
  {
    type:
      | "say"
      | "command"
      | "claim_answer"
      | "claim_expired"
      | "whois_expired"
      | "shutdown"
      | "link"
      | "remote"
      | "deliver"
      | "resume";
  }
>;

/** How long `/whois` waits for another server's answer: as long as a
 * name claim may take. */
const WHOIS_TIMEOUT_MS = 2_000;

/** Options for {@linkcode ChatServer}. */
export interface ChatServerOptions {
  /** Where log lines go. */
  log: Log;
  /** Whether a newcomer is welcomed after the roster (default false). */
  welcome?: boolean;
  /** The link to other servers (`LocalBroker` when there are none). */
  broker: Broker;
  /** Counters for the metrics endpoint, if one is served. */
  metrics?: ChatMetrics;
  /** How long a cluster-wide name claim may take (default 2 s). */
  claimTimeoutMs?: number;
  /** How long `/whois` waits for another server's answer before saying
   * what this one knows (default 2 s). */
  whoisTimeoutMs?: number;
  /** Room history; none is kept without. */
  history?: RoomHistory;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
  /** Accounts, rooms and moderation; without, only server operators'
   * commands that keep nothing (and no operators without a list). */
  people?: PeopleOptions;
}

/** Where accounts and rooms are kept, and who the server operators are. */
export interface PeopleOptions {
  /** Undefined with `--accounts off`. */
  store?: CommunityStore;
  passwords: Passwords;
  /** Lower-cased name → password hash (`--operators`). */
  operators?: ReadonlyMap<string, string>;
}

/** Passwords when there are none to check. */
const NO_PASSWORDS: Passwords = {
  hash: () => Promise.reject(new Error("no password hashing on this server")),
  verify: () => Promise.resolve(false),
};

/** The chat's single source of truth; see the module doc. */
export class ChatServer extends Actor<ChatServerMessage> {
  readonly #log: Log;
  readonly #welcome: boolean;
  readonly #link: Link;
  readonly #registry = new Registry<SessionAddress>();
  readonly #delivery: Delivery<SessionAddress>;
  readonly #remote: RemoteUsers<SessionAddress>;
  readonly #renames: Renames<SessionAddress>;
  readonly #commands: UserCommands<SessionAddress>;
  readonly #history: RoomHistory | undefined;
  readonly #community = new Community();
  readonly #moderation: Moderation<SessionAddress>;
  readonly #store: CommunityStore | undefined;
  readonly #now: () => number;
  readonly #metrics: ChatMetrics | undefined;
  /** Set in `started`: timers and self-addressed messages go through it. */
  #ctx: Context<ChatServerMessage> | undefined;
  #shuttingDown = false;

  constructor(options: ChatServerOptions) {
    super();
    this.#log = options.log;
    this.#welcome = options.welcome ?? false;
    this.#now = options.now ?? Date.now;
    this.#link = new Link(options.broker);
    const registry = this.#registry;
    const delivery = new Delivery({
      registry,
      metrics: options.metrics,
      now: this.#now,
      scheduleFlush: () => this.#later(ANNOUNCE_BATCH_MS, { type: "flush_announcements" }),
    });
    this.#delivery = delivery;
    this.#renames = new Renames({
      registry,
      delivery,
      link: this.#link,
      log: this.#log,
      claimTimeoutMs: options.claimTimeoutMs,
      answer: (user, answer) => this.#tellSelf({ type: "claim_answer", id: user.id, ...answer }),
      expireLater: (user, token, ms) =>
        this.#later(ms, { type: "claim_expired", id: user.id, token }),
      renamed: (user, name) => void user.local?.session.send({ type: "renamed", name }).catch(noop),
    });
    this.#history = options.history;
    this.#remote = new RemoteUsers(registry, delivery, options.history);
    this.#metrics = options.metrics;
    this.#store = options.people?.store;
    const context = {
      registry,
      delivery,
      link: this.#link,
      community: this.#community,
      store: this.#store,
      log: this.#log,
      now: this.#now,
      after: <T>(p: Promise<T>, then: (v: T) => void, failed: (e: unknown) => void) =>
        this.#after(p, then, failed),
      moveTo: (user: ChatUser, room: string) => this.#commands.move(user, room),
      disconnect: (user: ChatUser, notice: Refusal, reason: string) =>
        this.#disconnect(user, notice, reason),
      expireWhois: (asker: number, target: number, token: number) =>
        this.#later(options.whoisTimeoutMs ?? WHOIS_TIMEOUT_MS, {
          type: "whois_expired",
          asker,
          target,
          token,
        }),
    };
    this.#moderation = new Moderation(context);
    const accounts = new Accounts({
      context,
      moderation: this.#moderation,
      passwords: options.people?.passwords ?? NO_PASSWORDS,
      operators: options.people?.operators ?? new Map(),
      rename: (user, name) => this.#commands.nick(user, name),
    });
    this.#commands = new UserCommands({
      registry,
      delivery,
      link: this.#link,
      renames: this.#renames,
      history: options.history,
      now: this.#now,
      later: (user, lines) => this.#deliverLater(user, lines),
      community: this.#community,
      moderation: this.#moderation,
      accounts,
    });
  }

  override started(ctx: Context<ChatServerMessage>): void {
    this.#ctx = ctx;
    this.#log("[server] ChatServer started", { event: "start" });
  }

  /** Handles one message; returns a promise only when this turn queued so
   * much that the writes should go out first (see `Delivery.breather`). */
  handle(message: ChatServerMessage): void | Promise<void> {
    this.#dispatch(message);
    return this.#delivery.breather();
  }

  #dispatch(message: ChatServerMessage): void {
    switch (message.type) {
      case "join":
        return this.#join(message);
      case "leave":
        return this.#leave(message.id, message.reason, message.cause);
      case "flush_announcements":
        return this.#delivery.flushDue();
      case "stats":
        return message.reply(this.#figures());
      case "server_lost":
        return this.#serverLost(message.server);
      case "community_loaded":
        this.#community.load(message.snapshot);
        return message.reply?.();
      case "name_lost": {
        const user = this.#registry.named(message.key);
        if (user?.local === undefined) return;
        this.#delivery.flush(); // it sends lines: waiting announcements first
        return this.#renames.lost(user);
      }
      case "say":
      case "command":
      case "claim_answer":
      case "claim_expired":
      case "whois_expired":
      case "shutdown":
      case "link":
      case "deliver":
      case "resume":
        this.#delivery.flush();
        return this.#immediate(message);
      case "remote":
        // Another server's join or leave only queues its announcement, in
        // order: no flush, so that a join still waiting is withdrawn by its
        // leave, as this server's own are.
        if (!isAnnouncement(message.event)) this.#delivery.flush();
        return this.#immediate(message);
      default:
        return unreachable(message);
    }
  }

  #immediate(message: Immediate): void {
    switch (message.type) {
      case "say": {
        // The hot path: no closure per line.
        const user = this.#registry.user(message.id);
        if (user?.local === undefined) return;
        user.local.activeAt = this.#now();
        this.#commands.say(user, message.text);
        return;
      }
      case "command":
        return this.#withLocal(message.id, (user) => {
          (user.local as { activeAt: number }).activeAt = this.#now();
          // The command's name only: its arguments may hold a password.
          this.#log(`[server] ${user.name} ran /${message.command.name}`, {
            level: "debug",
            event: "command",
            user: user.name,
            command: message.command.name,
          });
          this.#commands.run(user, message.command);
        });
      case "claim_answer":
        return this.#withLocal(message.id, (user) => this.#renames.answered(user, message));
      case "claim_expired":
        return this.#withLocal(message.id, (user) => this.#renames.expired(user, message.token));
      case "whois_expired":
        return this.#moderation.whoisExpired(message.asker, message.target, message.token);
      case "shutdown":
        return this.#shutdown(message.flushMs, message.reply);
      case "link":
        return this.#linkChanged(message.up);
      case "remote":
        if (message.event.type === "sync") return this.#publishRoster();
        if (message.event.type === "act") return this.#moderation.enact(message.event.act);
        if (message.event.type === "whois") return this.#moderation.answerWhois(message.event);
        if (message.event.type === "whois_reply") {
          return this.#moderation.whoisAnswered(message.event);
        }
        return this.#remote.apply(message.event);
      case "deliver":
        return this.#withLocal(message.id, (user) => this.#delivery.reply(user, ...message.events));
      case "resume":
        return message.run();
      default:
        return unreachable(message);
    }
  }

  #withLocal(id: number, fn: (user: ChatUser) => void): void {
    const user = this.#registry.user(id);
    if (user?.local !== undefined) fn(user);
  }

  #join(message: Extract<ChatServerMessage, { type: "join" }>): void {
    const { id, name, sink, face, session, address, secure } = message;
    if (this.#shuttingDown) {
      void sink.close();
      return;
    }
    if (this.#refusedAtConnect(sink, face, address)) return;
    const announcement: ChatEvent = { type: "join", name };
    const events: ChatEvent[] = [announcement, this.#roster()];
    if (this.#welcome) events.push({ type: "welcome", name });
    events.push(...this.#moderation.topicEvents(this.#registry.lobby.name));
    // Someone arriving during an outage must not take the roster at face value.
    if (this.#link.linked && !this.#link.up) events.push(noticed({ notice: "link_down" }));
    const local = { sink, face, assigned: name, session, address, secure, activeAt: this.#now() };
    const user = this.#registry.add({ id, name, server: this.#link.serverId, local });
    if (user === undefined) return; // A number handed out twice: a bug upstream.
    const recent = this.#history?.onJoin(user.room.name, user) ?? [];
    if (Array.isArray(recent)) events.push(...recent);
    else this.#deliverLater(user, recent);
    this.#delivery.reply(user, ...events);
    this.#delivery.announce(announcement, user);
    const remote = { server: user.server, id, name, room: user.room.name };
    this.#link.publish({ type: "join", server: "", user: remote });
    this.#log(`[server] ${name} joined`, { event: "join", user: name });
  }

  /** A connection from an address banned from the server is told why and
   * closed, and nobody hears of it. */
  #refusedAtConnect(sink: Sink, face: Face, address: string): boolean {
    const now = this.#now();
    const ban = this.#community.serverBan(undefined, address, now);
    if (ban === undefined) return false;
    const { by, until, reason } = ban;
    sink.push(
      render(face, [{ type: "you_are_banned", place: "this server", by, until, reason }], now),
    );
    void sink.close({ flushMs: 1_000 });
    this.#log(`[server] refused ${address}: banned from the server`, {
      event: "refuse",
      peer: address,
      reason: "banned",
    });
    return true;
  }

  /** Disconnects a local user on the server's initiative (a kill, a server
   * ban): `notice` to them, then their leave, with `reason`, to everyone. */
  #disconnect(user: ChatUser, notice: Refusal, reason: string): void {
    const sink = user.local?.sink;
    if (sink === undefined) return;
    this.#delivery.reply(user, { type: "refusal", refusal: notice });
    this.#leave(user.id, reason, `kicked: ${reason}`);
    this.#metrics?.kicked(reason.startsWith("killed") ? "killed" : "banned");
    void sink.close({ flushMs: 1_000 });
  }

  /** Runs `then` (or `failed`) in a turn of ours once `promise` settles. */
  #after<T>(promise: Promise<T>, then: (v: T) => void, failed: (e: unknown) => void): void {
    const self = this.#ctx?.address;
    const run = (fn: () => void) => void self?.send({ type: "resume", run: fn }).catch(noop);
    promise.then((value) => run(() => then(value)), (error) => run(() => failed(error)));
  }

  /** The roster a newcomer gets after its own join. */
  #roster(): ChatEvent {
    const names: string[] = [];
    for (const name of this.#registry.names()) {
      if (names.length === ROSTER_LIMIT) break;
      names.push(name);
    }
    return { type: "roster", names, more: Math.max(0, this.#registry.size - ROSTER_LIMIT) };
  }

  #leave(id: number, reason: string | undefined, cause: string | undefined): void {
    const user = this.#registry.user(id);
    if (user?.local === undefined) return;
    const name = user.name;
    this.#registry.remove(user);
    this.#link.release(name.toLowerCase());
    if (!this.#shuttingDown) {
      if (!this.#delivery.withdraw(user)) {
        this.#delivery.announce(reason ? { type: "leave", name, reason } : { type: "leave", name });
      }
      this.#link.publish({ type: "leave", server: "", id, ...(reason ? { reason } : {}) });
    }
    const why = cause ?? (this.#shuttingDown ? "server shutting down" : "unknown");
    this.#log(`[server] ${name} left`, { event: "leave", user: name, reason: why });
  }

  #shutdown(flushMs: number, reply: () => void): void {
    this.#shuttingDown = true;
    this.#delivery.broadcast({ type: "shutdown" });
    const closing = [...this.#registry.locals()].map((u) => u.local?.sink.close({ flushMs }));
    // Not awaited: sessions keep sending their leaves while outboxes drain.
    Promise.all(closing).then(reply);
  }

  #publishRoster(): void {
    const users = [...this.#registry.locals()].map((u) => ({
      server: u.server,
      id: u.id,
      name: u.name,
      room: u.room.name,
    }));
    this.#link.publish({ type: "roster", server: "", users });
  }

  #linkChanged(up: boolean): void {
    const wasUp = this.#link.up;
    const news = this.#link.changed(up);
    if (news) this.#delivery.broadcast(noticed({ notice: up ? "link_restored" : "link_lost" }));
    if (!up || wasUp) return;
    // Acts the other servers sent while we could not hear them are in the
    // store: read it again.
    if (news) this.#reloadCommunity();
    // Others may have written us off meanwhile, and we them: swap rosters;
    // the differences are announced.
    this.#publishRoster();
    this.#link.publish({ type: "sync", server: "" });
  }

  #serverLost(server: string): void {
    this.#log(`[server] server ${server} went silent; its users left`, {
      level: "warn",
      event: "server_lost",
      server,
    });
    this.#remote.dropServer(server);
  }

  #figures(): LiveFigures {
    let deepest = 0;
    for (const user of this.#registry.locals()) {
      deepest = Math.max(deepest, user.local?.sink.highWater ?? 0);
    }
    return {
      users: this.#registry.localCount,
      remoteUsers: this.#registry.remoteCount,
      rooms: this.#registry.roomCount,
      queueHighWaterBytes: deepest,
    };
  }

  /** Sends `events` to `user` once they are ready, through the mailbox (a
   * handler never waits for a store). */
  #deliverLater(user: ChatUser, events: Promise<ChatEvent[]>): void {
    const id = user.id;
    events.then((ready) => this.#ctx?.address.send({ type: "deliver", id, events: ready }))
      .catch(noop);
  }

  #reloadCommunity(): void {
    const store = this.#store;
    if (store === undefined) return;
    this.#after(store.load(this.#now()), (snapshot) => this.#community.load(snapshot), (error) => {
      this.#log(`[server] could not reload accounts and rooms: ${String(error)}`, {
        level: "error",
        event: "store_error",
      });
    });
  }

  #later(ms: number, message: ChatServerMessage): void {
    this.#ctx?.runLater(ms, message);
  }

  /** A message to self from outside the turn (a claim's answer). If the
   * server is gone, a granted name is given back. */
  #tellSelf(message: Extract<ChatServerMessage, { type: "claim_answer" }>): void {
    const self = this.#ctx?.address;
    const giveBack = (): void => {
      if (message.granted) this.#link.release(message.name.toLowerCase());
    };
    if (self === undefined) return giveBack();
    self.send(message).catch(giveBack);
  }
}

function noop(): void {}

/** Whether `event` is a join or a leave: all it sends is an announcement. */
function isAnnouncement(event: ClusterEvent): boolean {
  return event.type === "join" || event.type === "leave";
}
