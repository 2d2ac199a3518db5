/**
 * The `ChatServer` actor: the one place chat state changes, one message at
 * a time, so there are no locks and no races between a rename and a line.
 *
 * It only dispatches. The state is the `Registry` (who, which name, which
 * room), lines go out through `Delivery` (fan-out and join/leave batching),
 * and other servers' users are kept by `RemoteUsers`. A handler never waits
 * on I/O: a cluster-wide name claim is sent, and its answer (or its
 * timeout) comes back later as a message of its own, when the name is
 * checked again. The server runs under the `resume` policy: a bug in one
 * command drops that command, not the chat. The wire format is described
 * in `docs/protocol.md`.
 *
 * @module
 */

import { Actor, type Address, type Context, unreachable } from "../actors/mod.ts";
import { type Command, helpLines } from "./commands.ts";
import { Delivery } from "./delivery.ts";
import type { Broker, ChatMetrics, ClusterEvent, Log, RemoteUser } from "./ports.ts";
import {
  actionLine,
  chatLine,
  encodeLines,
  errorLine,
  infoLine,
  joinedChat,
  leftChat,
  privateLine,
  renamed,
  ROSTER_LIMIT,
  SHUTTING_DOWN,
} from "./protocol.ts";
import { isAssignedName, Registry, type Sink, type User } from "./registry.ts";
import { RemoteUsers } from "./remote.ts";
import type { ClientSessionMessage } from "./session.ts";
import { ANNOUNCE_BATCH_MS } from "./announcer.ts";

/** How long a rename waits for the other servers to confirm a name: long
 * enough for a slow Redis, short enough that the user is not left guessing. */
export const CLAIM_TIMEOUT_MS = 2_000;

/** How many names one `/who` or `/rooms` line holds before wrapping. */
const NAMES_PER_LINE = 20;

/** The commands the server handles (`/quit` ends at the session). */
export type ServerCommand = Exclude<Command, { name: "quit" }>;

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
  | { type: "join"; id: number; name: string; sink: Sink; session: SessionAddress }
  | { type: "say"; id: number; text: string }
  | { type: "command"; id: number; command: ServerCommand }
  | { type: "leave"; id: number; reason?: string; cause?: string }
  | { type: "claim_answer"; id: number; token: number; name: string; granted: boolean }
  | { type: "claim_expired"; id: number; token: number }
  | { type: "shutdown"; flushMs: number; reply: () => void }
  | { type: "stats"; reply: (stats: LiveFigures) => void }
  | { type: "flush_announcements" }
  | { type: "remote"; event: ClusterEvent }
  | { type: "link"; up: boolean }
  | { type: "server_lost"; server: string };

/** How the server reaches a user's session (to tell it its new name). */
type SessionAddress = Address<ClientSessionMessage>;
type ChatUser = User<SessionAddress>;

/** Options for {@linkcode ChatServer}. */
export interface ChatServerOptions {
  /** Where log lines go. */
  log: Log;
  /** Extra `* ` lines a newcomer gets after the roster. */
  welcome?: (name: string) => string[];
  /** The link to other servers (`LocalBroker` when there are none). */
  broker: Broker;
  /** Counters for the metrics endpoint, if one is served. */
  metrics?: ChatMetrics;
  /** How long a cluster-wide name claim may take (default 2 s). */
  claimTimeoutMs?: number;
}

const LINK_LOST = infoLine("link to other servers lost");
const LINK_RESTORED = infoLine("link to other servers restored");

/** The chat's single source of truth; see the module doc. */
export class ChatServer extends Actor<ChatServerMessage> {
  readonly #log: Log;
  readonly #welcome: (name: string) => string[];
  readonly #broker: Broker;
  readonly #claimTimeoutMs: number;
  readonly #registry = new Registry<SessionAddress>();
  readonly #delivery: Delivery<SessionAddress>;
  readonly #remote: RemoteUsers<SessionAddress>;
  /** Set in `started`: where claim answers and flushes are sent. */
  #self: Address<ChatServerMessage> | undefined;
  #ctx: Context<ChatServerMessage> | undefined;
  #shuttingDown = false;
  /** Whether the other servers can be reached; a linked server starts with
   * the link down and says hello when the broker reports it up. */
  #linkUp: boolean;
  #everLinkedUp = false;
  #claims = 0;

  constructor(options: ChatServerOptions) {
    super();
    this.#log = options.log;
    this.#welcome = options.welcome ?? (() => []);
    this.#broker = options.broker;
    this.#claimTimeoutMs = options.claimTimeoutMs ?? CLAIM_TIMEOUT_MS;
    this.#linkUp = !this.#broker.linked;
    this.#delivery = new Delivery({
      registry: this.#registry,
      metrics: options.metrics,
      scheduleFlush: () => {
        this.#ctx?.runLater(ANNOUNCE_BATCH_MS, { type: "flush_announcements" });
      },
    });
    this.#remote = new RemoteUsers(this.#registry, this.#delivery);
  }

  override started(ctx: Context<ChatServerMessage>): void {
    this.#ctx = ctx;
    this.#self = ctx.address;
    this.#log("[server] ChatServer started");
  }

  handle(message: ChatServerMessage): void {
    switch (message.type) {
      case "join":
        return this.#join(message);
      case "leave":
        return this.#leave(message.id, message.reason, message.cause);
      case "flush_announcements":
        return this.#delivery.flushDue();
      case "stats":
        return message.reply(this.#figures());
      case "remote":
        if (message.event.type === "sync") return this.#publishRoster();
        return this.#remote.apply(message.event);
      case "server_lost":
        return this.#serverLost(message.server);
      case "say":
      case "command":
      case "claim_answer":
      case "claim_expired":
      case "shutdown":
      case "link":
        // These may send lines at once: earlier announcements go first.
        this.#delivery.flush();
        return this.#immediate(message);
      default:
        return unreachable(message);
    }
  }

  #immediate(message: Extract<ChatServerMessage, { type: ImmediateType }>): void {
    switch (message.type) {
      case "say":
        return this.#withLocal(message.id, (user) => this.#say(user, message.text));
      case "command":
        return this.#withLocal(message.id, (user) => this.#command(user, message.command));
      case "claim_answer":
        return this.#withLocal(message.id, (user) => this.#claimAnswered(user, message));
      case "claim_expired":
        return this.#withLocal(message.id, (user) => this.#claimExpired(user, message.token));
      case "shutdown":
        return this.#shutdown(message.flushMs, message.reply);
      case "link":
        return this.#link(message.up);
      default:
        return unreachable(message);
    }
  }

  #withLocal(id: number, fn: (user: ChatUser) => void): void {
    const user = this.#registry.user(id);
    if (user?.local !== undefined) fn(user);
  }

  // --- arriving and leaving ---------------------------------------------

  #join(message: Extract<ChatServerMessage, { type: "join" }>): void {
    const { id, name, sink, session } = message;
    if (this.#shuttingDown) {
      void sink.close();
      return;
    }
    const lines = [joinedChat(name), ...this.#roster(), ...this.#welcome(name)];
    const local = { sink, assigned: name, session };
    const user = this.#registry.add({ id, name, server: this.#broker.serverId, local });
    if (user === undefined) return; // A number handed out twice: a bug upstream.
    this.#delivery.send(user, encodeLines(...lines));
    this.#delivery.announce(encodeLines(lines[0] as string), user);
    this.#publish({ type: "join", server: "", user: this.#asRemote(user) });
    this.#log(`[server] ${name} joined`, { event: "join", user: name });
  }

  /** The roster lines a newcomer gets after its own join line. */
  #roster(): string[] {
    const lines: string[] = [];
    for (const name of this.#registry.names()) {
      if (lines.length === ROSTER_LIMIT) break;
      lines.push(joinedChat(name));
    }
    const online = this.#registry.size;
    if (online > ROSTER_LIMIT) {
      lines.push(infoLine(`and ${online - ROSTER_LIMIT} more (/who lists everyone)`));
    }
    return lines;
  }

  #leave(id: number, reason: string | undefined, cause: string | undefined): void {
    const user = this.#registry.user(id);
    if (user?.local === undefined) return;
    const name = user.name;
    this.#registry.remove(user);
    this.#broker.releaseName(name.toLowerCase());
    if (!this.#shuttingDown) {
      this.#delivery.announce(encodeLines(leftChat(name, reason)));
      this.#publish({ type: "leave", server: "", id, ...(reason ? { reason } : {}) });
    }
    const why = cause ?? (this.#shuttingDown ? "server shutting down" : "unknown");
    this.#log(`[server] ${name} left`, { event: "leave", user: name, reason: why });
  }

  #shutdown(flushMs: number, reply: () => void): void {
    this.#shuttingDown = true;
    this.#delivery.broadcast(encodeLines(SHUTTING_DOWN));
    const closing = [...this.#registry.locals()].map((u) => u.local?.sink.close({ flushMs }));
    // Not awaited: sessions keep sending their leaves while outboxes drain.
    Promise.all(closing).then(reply);
  }

  // --- what users do ----------------------------------------------------

  #say(user: ChatUser, text: string): void {
    this.#delivery.toRoom(user.room, encodeLines(chatLine(user.name, text)), user);
    // Checked here, not only in #publish, so a lone server builds no event per line.
    if (this.#broker.linked) this.#publish({ type: "say", server: "", id: user.id, text });
  }

  #command(user: ChatUser, command: ServerCommand): void {
    switch (command.name) {
      case "nick":
        return this.#nick(user, command.nick);
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
      case "help":
        return this.#delivery.reply(user, ...helpLines().map(infoLine));
      default:
        return unreachable(command);
    }
  }

  #action(user: ChatUser, action: string): void {
    this.#delivery.toRoom(user.room, encodeLines(actionLine(user.name, action)), user);
    this.#publish({ type: "me", server: "", id: user.id, action });
  }

  #privateMessage(user: ChatUser, to: string, text: string): void {
    const target = this.#registry.named(to);
    if (target === undefined) return this.#delivery.reply(user, errorLine(`no such user: ${to}`));
    if (target.local) {
      return this.#delivery.send(target, encodeLines(privateLine(user.name, target.name, text)));
    }
    if (!this.#linkUp) {
      const reason = `cannot reach ${target.name}: the link to other servers is down`;
      return this.#delivery.reply(user, errorLine(reason));
    }
    this.#publish({ type: "msg", server: "", from: user.name, to: target.name, text });
  }

  #who(user: ChatUser): void {
    const room = user.room;
    const names = [...room.users].filter((u) => u.local).map((u) => u.name);
    for (const other of room.users) if (!other.local) names.push(other.name);
    const lines = wrap(`in ${room.name}: `, names);
    const online = this.#registry.size;
    lines.push(infoLine(`${names.length} in ${room.name}, ${online} online in all`));
    this.#delivery.reply(user, ...lines);
  }

  #listRooms(user: ChatUser): void {
    const rooms = this.#registry.rooms().map((r) => `${r.name} (${r.users.size})`);
    this.#delivery.reply(user, ...wrap("rooms: ", rooms));
  }

  #moveTo(user: ChatUser, roomName: string): void {
    if (user.room.name.toLowerCase() === roomName.toLowerCase()) {
      return this.#delivery.reply(user, errorLine(`you are already in ${user.room.name}`));
    }
    const from = this.#registry.move(user, roomName);
    this.#delivery.toRoom(from, encodeLines(infoLine(`${user.name} left the room`)));
    this.#delivery.toRoom(user.room, encodeLines(infoLine(`${user.name} joined the room`)), user);
    const size = plural(user.room.users.size, "user");
    this.#delivery.reply(user, infoLine(`you are in ${user.room.name} (${size})`));
    this.#publish({ type: "move", server: "", id: user.id, room: user.room.name });
  }

  // --- renaming -----------------------------------------------------------

  #nick(user: ChatUser, nick: string): void {
    const refusal = this.#registry.refuseName(user, nick);
    if (refusal !== undefined) return this.#delivery.reply(user, errorLine(refusal));
    const local = user.local as NonNullable<ChatUser["local"]>;
    if (local.claim) {
      return this.#delivery.reply(user, errorLine("a name change is already under way"));
    }
    // userN names are unique by construction and a case change keeps the
    // name; only a new chosen name needs the other servers' consent.
    const needsClaim = this.#broker.linked && !isAssignedName(nick) &&
      nick.toLowerCase() !== user.name.toLowerCase();
    if (!needsClaim) return this.#rename(user, nick);
    if (!this.#linkUp) return this.#delivery.reply(user, errorLine(NAMES_NEED_LINK));
    this.#startClaim(user, nick);
  }

  /** Asks the other servers for `nick`; the answer comes back as a message. */
  #startClaim(user: ChatUser, nick: string): void {
    const token = ++this.#claims;
    const local = user.local as NonNullable<ChatUser["local"]>;
    local.claim = { token, name: nick };
    const self = this.#self as Address<ChatServerMessage>;
    const answer = (granted: boolean): void => {
      self.send({ type: "claim_answer", id: user.id, token, name: nick, granted }).catch(() => {
        if (granted) this.#broker.releaseName(nick.toLowerCase()); // we are stopping
      });
    };
    this.#broker.claimName(nick.toLowerCase()).then(answer, () => answer(false));
    this.#ctx?.runLater(this.#claimTimeoutMs, { type: "claim_expired", id: user.id, token });
  }

  #claimAnswered(user: ChatUser, answer: { token: number; name: string; granted: boolean }): void {
    const local = user.local as NonNullable<ChatUser["local"]>;
    const claim = local.claim;
    if (claim === undefined || claim.token !== answer.token) {
      // Too late: the claim expired. Give back a name we were granted,
      // unless it is in use or being claimed again meanwhile.
      const key = answer.name.toLowerCase();
      const inUse = user.name.toLowerCase() === key || claim?.name.toLowerCase() === key;
      if (answer.granted && !inUse) this.#broker.releaseName(key);
      return;
    }
    local.claim = undefined;
    const key = claim.name.toLowerCase();
    if (!answer.granted) {
      const reason = this.#linkUp ? `name taken: ${claim.name}` : NAMES_NEED_LINK;
      return this.#delivery.reply(user, errorLine(reason));
    }
    // Checked again: the name may have been taken here while we waited.
    const refusal = this.#registry.refuseName(user, claim.name);
    if (refusal !== undefined) {
      this.#broker.releaseName(key);
      return this.#delivery.reply(user, errorLine(refusal));
    }
    this.#rename(user, claim.name);
  }

  #claimExpired(user: ChatUser, token: number): void {
    const local = user.local as NonNullable<ChatUser["local"]>;
    if (local.claim?.token !== token) return;
    local.claim = undefined;
    this.#delivery.reply(user, errorLine(CLAIM_TIMED_OUT));
  }

  #rename(user: ChatUser, nick: string): void {
    const old = user.name;
    if (old.toLowerCase() !== nick.toLowerCase() && !isAssignedName(old)) {
      this.#broker.releaseName(old.toLowerCase());
    }
    this.#registry.rename(user, nick);
    user.local?.session.send({ type: "renamed", name: nick }).catch(() => {});
    this.#delivery.toRoom(user.room, encodeLines(renamed(old, nick)));
    this.#publish({ type: "nick", server: "", id: user.id, name: nick });
    this.#log(`[server] ${old} is now known as ${nick}`, {
      event: "rename",
      user: nick,
      from: old,
    });
  }

  // --- the cluster --------------------------------------------------------

  #publish(event: ClusterEvent): void {
    if (!this.#broker.linked) return;
    event.server = this.#broker.serverId;
    this.#broker.publish(event);
  }

  #asRemote(user: ChatUser): RemoteUser {
    return { server: user.server, id: user.id, name: user.name, room: user.room.name };
  }

  #publishRoster(): void {
    const users = [...this.#registry.locals()].map((u) => this.#asRemote(u));
    this.#publish({ type: "roster", server: "", users });
  }

  #link(up: boolean): void {
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    if (this.#everLinkedUp) this.#delivery.broadcast(encodeLines(up ? LINK_RESTORED : LINK_LOST));
    if (!up) return;
    this.#everLinkedUp = true;
    // Others may have written us off meanwhile, and we them: swap rosters;
    // the differences are announced.
    this.#publishRoster();
    this.#publish({ type: "sync", server: "" });
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
}

type ImmediateType = "say" | "command" | "claim_answer" | "claim_expired" | "shutdown" | "link";

const NAMES_NEED_LINK = "cannot change names while the link to other servers is down";
const CLAIM_TIMED_OUT =
  "cannot change your name now: the other servers did not answer in time (try again)";

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
