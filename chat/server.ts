/**
 * The `ChatServer` actor: the one place chat state changes, one message at
 * a time, so there are no locks and no races between a rename and a line.
 *
 * It dispatches. The state is the `Registry` (who, which name, which room)
 * and the `Community` (accounts, registered rooms, bans), held in a
 * `Scene` that every handler reads; each message goes to its handler (a
 * command to its module in `commands/`, another server's event to
 * `commands/remote.ts`, a task's result to the command that started it),
 * and the `Effect`s the handler returns are carried out by the `Shell`.
 * A handler never waits on I/O. The server runs under the `resume`
 * policy: a bug in one command drops that command, not the chat. The wire
 * format is described in `docs/protocol.md`; the lines themselves are
 * rendered in `render.ts`.
 *
 * @module
 */

import { Actor, type Context, unreachable } from "../actors/mod.ts";
import { enact } from "./acts.ts";
import { ANNOUNCE_BATCH_MS } from "./announcer.ts";
import type { Effect, Scene } from "./command.ts";
import type { ServerCommand } from "./commands.ts";
import { type Arrival, arrive, publishRoster } from "./commands/connect.ts";
import { focus } from "./commands/channels.ts";
import { finishTask, runCommand } from "./commands/mod.ts";
import { claimAnswered, claimExpired, nameLost } from "./commands/nick.ts";
import { applyRemote, dropServer } from "./commands/remote.ts";
import { say } from "./commands/talk.ts";
import { answerWhois, whoisAnswered, whoisExpired } from "./commands/whois.ts";
import { Community, FailureLimit } from "./community.ts";
import { Delivery } from "./delivery.ts";
import { noticed } from "./events.ts";
import { Link } from "./link.ts";
import type { ClusterEvent, CommunityStore, Log } from "./ports.ts";
import { type Held, type Local, Registry, type User } from "./registry.ts";
import {
  ACCOUNT_FAILURES,
  ADDRESS_FAILURES,
  type ChatServerMessage,
  type ChatServerOptions,
  CLAIM_TIMEOUT_MS,
  REGISTRATIONS,
  type SessionAddress,
  WHOIS_TIMEOUT_MS,
} from "./server_api.ts";
import { RoomsWatch } from "./rooms_watch.ts";
import { Shell } from "./shell.ts";
import { HASHING, HashQueue, NO_PASSWORDS } from "./tasks.ts";

export * from "./server_api.ts";

type ChatUser = User<SessionAddress>;
type ChatEffect = Effect<SessionAddress>;

/** Messages that may send lines at once: waiting announcements go first. */
type Immediate = Exclude<
  ChatServerMessage,
  {
    type:
      | "join"
      | "leave"
      | "face"
      | "flush_announcements"
      | "push_rooms"
      | "stats"
      | "server_lost"
      | "community_loaded"
      | "name_lost";
  }
>;

/** The chat's single source of truth; see the module doc. */
export class ChatServer extends Actor<ChatServerMessage> {
  readonly #log: Log;
  readonly #welcome: boolean;
  readonly #link: Link;
  readonly #scene: Scene<SessionAddress>;
  readonly #registry = new Registry<SessionAddress>();
  readonly #community = new Community();
  readonly #delivery: Delivery<SessionAddress>;
  readonly #shell: Shell;
  readonly #store: CommunityStore | undefined;
  readonly #now: () => number;
  readonly #roomsWatch: RoomsWatch<SessionAddress>;
  /** Set in `started`: timers and self-addressed messages go through it. */
  #ctx: Context<ChatServerMessage> | undefined;

  constructor(options: ChatServerOptions) {
    super();
    this.#log = options.log;
    this.#welcome = options.welcome ?? false;
    this.#now = options.now ?? Date.now;
    this.#link = new Link(options.broker);
    // Called while a command changes the rooms, before its effects run: a
    // room's channel is asked for before the move into it is published.
    this.#registry.onLocalRoom = (room, here) => this.#link.listen(room, here);
    this.#registry.onRoomGone = (room) => this.#community.gone(room);
    this.#store = options.people?.store;
    this.#delivery = new Delivery({
      registry: this.#registry,
      metrics: options.metrics,
      now: this.#now,
      writes: options.writes,
      ircName: options.ircName,
      scheduleFlush: () => this.#ctx?.runLater(ANNOUNCE_BATCH_MS, { type: "flush_announcements" }),
    });
    this.#scene = {
      registry: this.#registry,
      community: this.#community,
      link: this.#link,
      clock: { now: this.#now },
      history: options.history !== undefined,
      accounts: this.#store !== undefined,
      operators: options.people?.operators ?? new Map(),
      logins: {
        byAccount: new FailureLimit(ACCOUNT_FAILURES),
        byAddress: new FailureLimit(ADDRESS_FAILURES),
        registrations: new FailureLimit(REGISTRATIONS),
        exemptLoopback: options.exemptLoopback ?? true,
      },
      whois: { asked: new Map(), lastToken: 0 },
      claims: { lastToken: 0 },
    };
    this.#roomsWatch = new RoomsWatch(
      this.#scene,
      this.#delivery,
      (ms) => this.#ctx?.runLater(ms, { type: "push_rooms" }),
    );
    this.#shell = new Shell({
      scene: this.#scene,
      delivery: this.#delivery,
      link: this.#link,
      history: options.history,
      tasks: {
        store: this.#store,
        passwords: options.people?.passwords ?? NO_PASSWORDS,
        hashing: new HashQueue(HASHING),
      },
      log: this.#log,
      metrics: options.metrics,
      now: this.#now,
      claimTimeoutMs: options.claimTimeoutMs ?? CLAIM_TIMEOUT_MS,
      whoisTimeoutMs: options.whoisTimeoutMs ?? WHOIS_TIMEOUT_MS,
    });
  }

  override started(ctx: Context<ChatServerMessage>): void {
    this.#ctx = ctx;
    this.#shell.attach(ctx);
  }

  /** Handles one message; returns a promise only when this turn queued so
   * much that the writes should go out first (see `Delivery.breather`). */
  handle(message: ChatServerMessage): void | Promise<void> {
    this.#dispatch(message);
    this.#roomsWatch.check();
    return this.#delivery.breather();
  }

  #dispatch(message: ChatServerMessage): void {
    switch (message.type) {
      case "join":
        return this.#join(message);
      case "leave":
        return this.#shell.leave(message.id, message.reason, message.cause);
      case "flush_announcements":
        return this.#delivery.flushDue();
      case "push_rooms":
        return this.#roomsWatch.due();
      case "stats":
        return message.reply(this.#registry.figures());
      case "face": {
        const local = this.#localUser(message.id)?.local;
        if (local === undefined) return;
        local.face = message.face;
        local.echo = message.echo || undefined;
        local.wants = message.wants?.length ? new Set(message.wants) : undefined;
        return;
      }
      case "server_lost":
        return this.#serverLost(message.server);
      case "community_loaded":
        this.#community.load(message.snapshot);
        return message.reply?.();
      case "name_lost": {
        const user = this.#registry.named(message.key);
        if (user?.local === undefined) return;
        this.#delivery.flush(); // it sends lines: waiting announcements first
        return this.#shell.run(nameLost(this.#scene, user));
      }
      case "remote":
        // Another server's join or leave only queues its announcement, in
        // order: no flush, so that a join still waiting is withdrawn by its
        // leave, as this server's own are.
        if (!isAnnouncement(message.event)) this.#delivery.flush();
        return this.#immediate(message);
      case "say":
      case "command":
      case "claim_answer":
      case "claim_expired":
      case "whois_expired":
      case "task_done":
      case "shutdown":
      case "link":
      case "deliver":
        this.#delivery.flush();
        return this.#immediate(message);
      default:
        return unreachable(message);
    }
  }

  #immediate(message: Immediate): void {
    const scene = this.#scene;
    switch (message.type) {
      case "say": {
        // The hot path: no closure per line.
        const user = this.#registry.user(message.id);
        if (user?.local === undefined) return;
        if (user.local.busy || user.local.held) return hold(user.local, message);
        user.local.activeAt = this.#now();
        const refused = message.room === undefined ? undefined : focus(scene, user, message.room);
        // A NOTICE is never answered with an error (RFC 2812 3.3.2).
        if (refused !== undefined) return message.notice ? undefined : this.#shell.run(refused);
        return this.#shell.run(say(scene, user, message.text, message.notice, message.tags));
      }
      case "command":
        return this.#command(message.id, message.command, message.room);
      case "claim_answer":
        this.#withLocal(message.id, (user) => claimAnswered(scene, user, message));
        return this.#release(this.#localUser(message.id));
      case "claim_expired":
        this.#withLocal(message.id, (user) => claimExpired(user, message.token));
        return this.#release(this.#localUser(message.id));
      case "whois_expired":
        return this.#shell.run(whoisExpired(scene, message.asker, message.target, message.token));
      case "task_done": {
        const user = this.#localUser(message.id);
        this.#shell.run(finishTask(scene, user, message.done));
        return this.#release(user);
      }
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

  #command(id: number, command: ServerCommand, room?: string): void {
    const user = this.#localUser(id);
    if (user?.local === undefined) return;
    if (user.local.busy || user.local.held) {
      return hold(user.local, { type: "command", id, command, room });
    }
    user.local.activeAt = this.#now();
    // Joining names a room the user is not in yet; anything else about a
    // room is about one of the user's.
    if (room !== undefined) {
      const refused = focus(this.#scene, user, room, command);
      if (refused !== undefined) return this.#shell.run(refused);
    }
    // The command's name only: its arguments may hold a password.
    this.#log(`[server] ${user.name} ran /${command.name}`, {
      level: "debug",
      event: "command",
      user: user.name,
      command: command.name,
    });
    this.#shell.run(runCommand(this.#scene, user, command));
    // A look at a room the user is not in leaves it in none of its own.
    if (!user.rooms.has(user.room)) user.room = this.#registry.nowhere;
  }

  /** Handles what `user` sent while its account command ran, in order,
   * once it is done and the rename it started (a login's) has settled. */
  #release(user: ChatUser | undefined): void {
    const local = user?.local;
    if (local?.held === undefined || local.busy || local.claim !== undefined) return;
    const held = local.held;
    local.held = undefined;
    for (let i = 0; i < held.length; i++) {
      // One of them started another account command: the rest wait again.
      if (local.busy || local.claim !== undefined) {
        local.held = held.slice(i);
        return;
      }
      this.#immediate(held[i] as Held);
    }
  }

  #remoteEvent(event: ClusterEvent): void {
    const scene = this.#scene;
    switch (event.type) {
      case "sync":
        return this.#shell.run(publishRoster(scene));
      case "act":
        return this.#shell.run(enact(scene, event.act));
      case "whois":
        return this.#shell.run(answerWhois(scene, event));
      case "whois_reply":
        return this.#shell.run(whoisAnswered(scene, this.#link.serverId, event));
      default:
        return this.#shell.run(applyRemote(scene, event));
    }
  }

  #localUser(id: number): ChatUser | undefined {
    const user = this.#registry.user(id);
    return user?.local === undefined ? undefined : user;
  }

  #withLocal(id: number, handler: (user: ChatUser) => ChatEffect[]): void {
    const user = this.#localUser(id);
    if (user !== undefined) this.#shell.run(handler(user));
  }

  #join(arrival: Arrival<SessionAddress>): void {
    if (this.#shell.shuttingDown) {
      void arrival.sink.close();
      return;
    }
    this.#shell.run(arrive(this.#scene, this.#link.serverId, arrival, this.#welcome));
  }

  #shutdown(flushMs: number, reply: () => void): void {
    this.#shell.shuttingDown = true;
    this.#delivery.broadcast({ type: "shutdown" });
    const closing = [...this.#registry.locals()].map((u) => u.local?.sink.close({ flushMs }));
    // Not awaited: sessions keep sending their leaves while outboxes drain.
    Promise.all(closing).then(reply);
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
    this.#shell.run(publishRoster(this.#scene));
    this.#link.publish({ type: "sync", server: "" });
  }

  #serverLost(server: string): void {
    this.#log(`[server] server ${server} went silent; its users left`, {
      level: "warn",
      event: "server_lost",
      server,
    });
    this.#shell.run(dropServer(this.#scene, server));
  }

  /** Reads accounts, rooms and bans again; the snapshot comes back as a
   * `community_loaded` message. */
  #reloadCommunity(): void {
    const store = this.#store;
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
}

function noop(): void {}

/** How many lines and commands wait for an account command at most: more
 * than anyone types while a password is checked. */
const MAX_HELD = 32;

/** Keeps a line or command sent while an account command runs (a login's
 * password being checked): what follows a `/login` is done as the account,
 * not before it. Past {@linkcode MAX_HELD}, lines are dropped. */
function hold(local: Local<SessionAddress>, message: Held): void {
  const held = local.held ??= [];
  if (held.length < MAX_HELD) held.push(message);
}

/** Whether `event` is a join or a leave: all it sends is an announcement. */
function isAnnouncement(event: ClusterEvent): boolean {
  return event.type === "join" || event.type === "leave";
}
