/**
 * The `ChatServer` actor: the one place chat state changes, one message at
 * a time, so there are no locks and no races between a rename and a line.
 *
 * It is the shell around a pure core. The state is the `Registry` (who,
 * which name, which room) and the `Community` (accounts, registered rooms,
 * bans), held in a `Scene` that every command reads; a command's handler
 * (`commands/`, one module per command or family) returns `Effect`s, and
 * this actor carries them out: deliveries through `Delivery` (fan-out and
 * join/leave batching), publishes through the `Link`, store writes and
 * password work as tasks whose results come back as `task_done` messages,
 * timers through the actor's context. A handler never waits on I/O. The
 * server runs under the `resume` policy: a bug in one command drops that
 * command, not the chat. The wire format is described in
 * `docs/protocol.md`; the lines themselves are rendered in `render.ts`.
 *
 * @module
 */

import { Actor, type Address, type Context, unreachable } from "../actors/mod.ts";
import type { Writes } from "../net/mod.ts";
import { ANNOUNCE_BATCH_MS } from "./announcer.ts";
import { enact } from "./acts.ts";
import type { Effect, Scene } from "./command.ts";
import type { ServerCommand } from "./commands.ts";
import { finishTask, perform, runCommand } from "./commands/mod.ts";
import { type ClaimAnswer, claimAnswered, claimExpired, nameLost } from "./commands/nick.ts";
import { say } from "./commands/talk.ts";
import { answerWhois, whoisAnswered, whoisExpired } from "./commands/whois.ts";
import { topicOf } from "./commands/join.ts";
import { Community, FailureLimit, type Snapshot } from "./community.ts";
import { Delivery } from "./delivery.ts";
import { type ChatEvent, type Face, noticed, type Refusal } from "./events.ts";
import type { RoomHistory } from "./history.ts";
import { Link } from "./link.ts";
import type { Broker, ChatMetrics, ClusterEvent, CommunityStore, Log, Passwords } from "./ports.ts";
import { ROSTER_LIMIT } from "./protocol.ts";
import { Registry, type Sink, type User } from "./registry.ts";
import { RemoteUsers } from "./remote.ts";
import { render } from "./render.ts";
import type { ClientSessionMessage } from "./session.ts";
import { runTask, type TaskDone, type TaskPorts } from "./tasks.ts";

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
  /** A `/whois` asked of another server had its time. */
  | { type: "whois_expired"; asker: number; target: number; token: number }
  /** Slow work a command started is done (`id`: the user it was for; 0
   * for none). */
  | { type: "task_done"; id: number; done: TaskDone }
  | { type: "shutdown"; flushMs: number; reply: () => void }
  | { type: "stats"; reply: (stats: LiveFigures) => void }
  | { type: "flush_announcements" }
  | { type: "remote"; event: ClusterEvent }
  | { type: "link"; up: boolean }
  | { type: "server_lost"; server: string }
  | { type: "name_lost"; key: string }
  /** Events for one user that a networked history store has answered. */
  | { type: "deliver"; id: number; events: ChatEvent[] }
  /** Accounts, rooms and bans as the store has them (at start, and after
   * the link comes back). */
  | { type: "community_loaded"; snapshot: Snapshot; reply?: () => void };

/** How the server reaches a user's session (to tell it its new name). */
type SessionAddress = Address<ClientSessionMessage>;
type ChatUser = User<SessionAddress>;
type ChatEffect = Effect<SessionAddress>;

/** Messages that may send lines at once: waiting announcements go first. */
type Immediate = Exclude<
  ChatServerMessage,
  {
    type:
      | "join"
      | "leave"
      | "flush_announcements"
      | "stats"
      | "server_lost"
      | "community_loaded"
      | "name_lost";
  }
>;

/** How long a rename waits for the other servers to confirm a name: long
 * enough for a slow Redis, short enough that the user is not left guessing. */
export const CLAIM_TIMEOUT_MS = 2_000;

/** How long `/whois` waits for another server's answer: as long as a
 * name claim may take. */
const WHOIS_TIMEOUT_MS = 2_000;

/** Failed logins one account may take in a burst, and how fast the
 * allowance comes back: a person who mistypes is never stopped, a script
 * gets five guesses a minute. */
export const ACCOUNT_FAILURES = { burst: 5, refillMs: 12_000 } as const;
/** The same per address: room for a few people behind one NAT. */
export const ADDRESS_FAILURES = { burst: 20, refillMs: 3_000 } as const;

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
  /** The chat's writes (the same object its sessions' outboxes are given),
   * so a fan-out that backlogs a reader lets the writes go out first. */
  writes?: Writes;
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
  readonly #scene: Scene<SessionAddress>;
  readonly #registry = new Registry<SessionAddress>();
  readonly #community = new Community();
  readonly #delivery: Delivery<SessionAddress>;
  readonly #remote: RemoteUsers<SessionAddress>;
  readonly #history: RoomHistory | undefined;
  readonly #tasks: TaskPorts;
  readonly #now: () => number;
  readonly #metrics: ChatMetrics | undefined;
  readonly #claimTimeoutMs: number;
  readonly #whoisTimeoutMs: number;
  /** Set in `started`: timers and self-addressed messages go through it. */
  #ctx: Context<ChatServerMessage> | undefined;
  #shuttingDown = false;

  constructor(options: ChatServerOptions) {
    super();
    this.#log = options.log;
    this.#welcome = options.welcome ?? false;
    this.#now = options.now ?? Date.now;
    this.#link = new Link(options.broker);
    this.#metrics = options.metrics;
    this.#history = options.history;
    this.#claimTimeoutMs = options.claimTimeoutMs ?? CLAIM_TIMEOUT_MS;
    this.#whoisTimeoutMs = options.whoisTimeoutMs ?? WHOIS_TIMEOUT_MS;
    this.#delivery = new Delivery({
      registry: this.#registry,
      metrics: options.metrics,
      now: this.#now,
      writes: options.writes,
      scheduleFlush: () => this.#later(ANNOUNCE_BATCH_MS, { type: "flush_announcements" }),
    });
    this.#remote = new RemoteUsers(this.#registry, this.#delivery, options.history);
    const store = options.people?.store;
    this.#tasks = { store, passwords: options.people?.passwords ?? NO_PASSWORDS };
    this.#scene = {
      registry: this.#registry,
      community: this.#community,
      link: this.#link,
      clock: { now: this.#now },
      history: options.history !== undefined,
      accounts: store !== undefined,
      operators: options.people?.operators ?? new Map(),
      logins: {
        byAccount: new FailureLimit(ACCOUNT_FAILURES),
        byAddress: new FailureLimit(ADDRESS_FAILURES),
      },
      whois: { asked: new Map(), lastToken: 0 },
      claims: { lastToken: 0 },
    };
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
        return this.#run(nameLost(this.#scene, user));
      }
      case "remote":
        // Another server's join or leave only queues its announcement, in
        // order: no flush, so that a join still waiting is withdrawn by its
        // leave, as this server's own are.
        if (!isAnnouncement(message.event)) this.#delivery.flush();
        return this.#immediate(message);
      default:
        this.#delivery.flush();
        return this.#immediate(message);
    }
  }

  #immediate(message: Immediate): void {
    const scene = this.#scene;
    switch (message.type) {
      case "say": {
        // The hot path: no closure per line.
        const user = this.#registry.user(message.id);
        if (user?.local === undefined) return;
        user.local.activeAt = this.#now();
        return this.#run(say(scene, user, message.text));
      }
      case "command":
        return this.#command(message.id, message.command);
      case "claim_answer":
        return this.#withLocal(message.id, (user) => claimAnswered(scene, user, message));
      case "claim_expired":
        return this.#withLocal(message.id, (user) => claimExpired(user, message.token));
      case "whois_expired":
        return this.#run(whoisExpired(scene, message.asker, message.target, message.token));
      case "task_done":
        return this.#run(finishTask(scene, this.#localUser(message.id), message.done));
      case "shutdown":
        return this.#shutdown(message.flushMs, message.reply);
      case "link":
        return this.#linkChanged(message.up);
      case "remote":
        return this.#remoteEvent(message.event);
      case "deliver":
        return this.#withLocal(
          message.id,
          (user) => [{ type: "reply", to: user, events: message.events }],
        );
      default:
        return unreachable(message);
    }
  }

  #command(id: number, command: ServerCommand): void {
    const user = this.#localUser(id);
    if (user?.local === undefined) return;
    user.local.activeAt = this.#now();
    // The command's name only: its arguments may hold a password.
    this.#log(`[server] ${user.name} ran /${command.name}`, {
      level: "debug",
      event: "command",
      user: user.name,
      command: command.name,
    });
    this.#run(runCommand(this.#scene, user, command));
  }

  #remoteEvent(event: ClusterEvent): void {
    const scene = this.#scene;
    switch (event.type) {
      case "sync":
        return this.#publishRoster();
      case "act":
        return this.#run(enact(scene, event.act));
      case "whois":
        return this.#run(answerWhois(scene, event));
      case "whois_reply":
        return this.#run(whoisAnswered(scene, this.#link.serverId, event));
      default:
        return this.#remote.apply(event);
    }
  }

  #localUser(id: number): ChatUser | undefined {
    const user = this.#registry.user(id);
    return user?.local === undefined ? undefined : user;
  }

  #withLocal(id: number, handler: (user: ChatUser) => ChatEffect[]): void {
    const user = this.#localUser(id);
    if (user !== undefined) this.#run(handler(user));
  }

  /** Carries out a handler's effects, in order. */
  #run(effects: ChatEffect[]): void {
    for (const effect of effects) this.#carryOut(effect);
  }

  #carryOut(effect: ChatEffect): void {
    switch (effect.type) {
      case "reply":
        return this.#delivery.reply(effect.to, ...effect.events);
      case "room":
        return this.#delivery.toRoom(effect.room, effect.event, effect.except);
      case "everyone":
        return this.#delivery.broadcast(effect.event);
      case "announce":
        return this.#delivery.announce(effect.event, effect.newcomer);
      case "publish":
        return this.#link.publish(effect.event);
      case "keep":
        return this.#history?.keep(effect.room, effect.from, effect.text, effect.action);
      case "history":
        return this.#replay(effect);
      case "act":
        return this.#run(perform(this.#scene, effect.act, effect.by, effect.then));
      case "disconnect":
        return this.#disconnect(effect.user, effect.notice, effect.reason);
      case "renamed":
        return void effect.user.local?.session.send({ type: "renamed", name: effect.name })
          .catch(noop);
      case "claim":
        return this.#claim(effect.user, effect.name, effect.token);
      case "release":
        return this.#link.release(effect.key);
      case "task":
        return this.#startTask(effect);
      case "whois_timer": {
        const { asker, target, token } = effect;
        return this.#later(this.#whoisTimeoutMs, { type: "whois_expired", asker, target, token });
      }
      case "log":
        return this.#log(effect.line, effect.fields);
      default:
        return unreachable(effect);
    }
  }

  /** A room's replay on entering it, or a `/history` page: now, or once a
   * networked store answers (through the mailbox: a handler never waits). */
  #replay(effect: Extract<ChatEffect, { type: "history" }>): void {
    const history = this.#history;
    if (history === undefined) return;
    const { to, room, page } = effect;
    const events = page === undefined ? history.onJoin(room, to) : history.page(room, to, page);
    if (Array.isArray(events)) return this.#delivery.reply(to, ...events);
    this.#deliverLater(to, events);
  }

  /** Sends the claim and carries on: its answer, or its time running out,
   * comes back as a message. If the server is gone, a granted name is
   * given back. */
  #claim(user: ChatUser, name: string, token: number): void {
    const id = user.id;
    const answer = (granted: boolean): void => {
      const self = this.#ctx?.address;
      const giveBack = (): void => {
        if (granted) this.#link.release(name.toLowerCase());
      };
      if (self === undefined) return giveBack();
      self.send({ type: "claim_answer", id, token, name, granted }).catch(giveBack);
    };
    this.#link.claim(name.toLowerCase()).then(answer, () => answer(false));
    this.#later(this.#claimTimeoutMs, { type: "claim_expired", id, token });
  }

  #startTask(effect: Extract<ChatEffect, { type: "task" }>): void {
    const id = effect.user?.id ?? 0;
    runTask(effect.task, this.#tasks).then((done) =>
      this.#ctx?.address.send({ type: "task_done", id, done })
    ).catch(noop);
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
    events.push(...topicOf(this.#scene, this.#registry.lobby.name));
    // Someone arriving during an outage must not take the roster at face value.
    if (this.#link.linked && !this.#link.up) events.push(noticed({ notice: "link_down" }));
    const local = { sink, face, assigned: name, session, address, secure, activeAt: this.#now() };
    const user = this.#registry.add({ id, name, server: this.#link.serverId, local });
    if (user === undefined) return; // A number handed out twice: a bug upstream.
    this.#delivery.reply(user, ...events);
    this.#replay({ type: "history", to: user, room: user.room.name });
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
    const event: ChatEvent = { type: "you_are_banned", place: "this server", by, until, reason };
    sink.push(render(face, [event], now));
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
    const user = this.#localUser(id);
    if (user === undefined) return;
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

  /** Reads accounts, rooms and bans again; the snapshot comes back as a
   * `community_loaded` message. */
  #reloadCommunity(): void {
    const store = this.#tasks.store;
    if (store === undefined) return;
    store.load(this.#now()).then(
      (snapshot) => this.#ctx?.address.send({ type: "community_loaded", snapshot }),
      (error) =>
        this.#log(`[server] could not reload accounts and rooms: ${String(error)}`, {
          level: "error",
          event: "store_error",
        }),
    ).catch(noop);
  }

  #later(ms: number, message: ChatServerMessage): void {
    this.#ctx?.runLater(ms, message);
  }
}

function noop(): void {}

/** Whether `event` is a join or a leave: all it sends is an announcement. */
function isAnnouncement(event: ClusterEvent): boolean {
  return event.type === "join" || event.type === "leave";
}
