/**
 * The `ChatServer` actor: the registry of who is online, their names and
 * rooms, and the fan-out of every line to the people who should see it.
 *
 * All chat state lives here and only here, touched one message at a time, so
 * there are no locks and no races between a rename and a message. Fan-out is
 * the hot path: each outgoing line is encoded once and the same bytes are
 * appended to every recipient's `Outbox`; there is no mailbox hop, promise or
 * allocation per recipient. The server runs under the `resume` policy: a bug
 * in one command drops that command, not the chat.
 *
 * With a distributed `Broker` (Redis), the registry also holds the users of
 * the other linked servers: everything local users do is published, and the
 * other servers' events are applied to local users here, so `/who`, `/rooms`,
 * `/msg` and the roster span the whole cluster.
 *
 * @module
 */

import { Actor, type Context } from "../actors/mod.ts";
import type { Outbox } from "../net/outbox.ts";
import {
  type Broker,
  type ClusterEvent,
  HEARTBEAT_MS,
  LocalBroker,
  PRESENCE_TIMEOUT_MS,
  type RemoteUser,
} from "./broker.ts";
import { type Command, helpLines } from "./commands.ts";
import {
  actionLine,
  chatLine,
  encodeLines,
  errorLine,
  infoLine,
  joinedChat,
  leftChat,
  LOBBY,
  privateLine,
  renamed,
  ROSTER_LIMIT,
  SHUTTING_DOWN,
} from "./protocol.ts";
import type { Log } from "./log.ts";
import type { LiveFigures, Metrics } from "./metrics.ts";

/** How long "joined/left the chat" lines may wait to leave together. In a
 * join storm every join goes to everyone: 10,000 joins are 50 million
 * deliveries, and sent one by one they are 50 million writes. Batched over
 * this window they share one buffer and one write per recipient. Any other
 * line flushes the batch first, so order is never changed, and people do
 * not notice 50 ms on a join. */
export const ANNOUNCE_BATCH_MS = 50;

/** How many names one `/who` or `/rooms` line holds before wrapping. */
const NAMES_PER_LINE = 20;

/** Messages the chat server understands. */
export type ChatServerMessage =
  | { type: "join"; id: number; identity: Identity; outbox: Outbox }
  | { type: "say"; id: number; text: string }
  | { type: "command"; id: number; command: Command }
  | { type: "leave"; id: number; reason?: string; cause?: string }
  | { type: "shutdown"; flushMs: number; reply: () => void }
  | { type: "stats"; reply: (stats: LiveFigures) => void }
  | { type: "flush_announcements" }
  | { type: "remote"; event: ClusterEvent }
  | { type: "link"; up: boolean }
  | { type: "presence_check" };

/** Options for {@linkcode ChatServer}. */
export interface ChatServerOptions {
  /** Where log lines go. */
  log: Log;
  /** Extra `* ` lines a newcomer gets after the roster. */
  welcome?: (name: string) => string[];
  /** The link to other servers (default: none). */
  broker?: Broker;
  /** Counters for the metrics endpoint, if one is served. */
  metrics?: Metrics;
}

/** A user's current name, owned (written) by the ChatServer and read by the
 * user's session for its log lines. */
export interface Identity {
  name: string;
}

interface Room {
  name: string;
  /** Users on this server: the ones lines are delivered to. */
  members: Set<Member>;
  /** Users on other servers, for counts and `/who`. */
  remote: Set<Remote>;
}

interface Member {
  id: number;
  identity: Identity;
  /** The `userN` name assigned at connect, which only its owner may take back. */
  assigned: string;
  outbox: Outbox;
  room: Room;
}

interface Remote {
  id: number;
  server: string;
  name: string;
  room: Room;
}

const LINK_LOST = infoLine("link to other servers lost");
const LINK_RESTORED = infoLine("link to other servers restored");

/** The chat's single source of truth; see the module doc. */
export class ChatServer extends Actor<ChatServerMessage> {
  readonly #log: Log;
  readonly #welcome: (name: string) => string[];
  readonly #broker: Broker;
  /** Whether there are other servers to tell (false for the local broker). */
  readonly #linked: boolean;
  readonly #metrics: Metrics | undefined;
  /** Everyone online here, in join order (a Map keeps insertion order). */
  readonly #members = new Map<number, Member>();
  /** Lower-cased name → member, for case-insensitive uniqueness and lookup. */
  readonly #byName = new Map<string, Member>();
  /** Users of other servers by number (numbers are cluster-wide). */
  readonly #remote = new Map<number, Remote>();
  readonly #remoteByName = new Map<string, Remote>();
  /** When each other server was last heard from. */
  readonly #lastSeen = new Map<string, number>();
  /** Lower-cased room name → room. */
  readonly #rooms = new Map<string, Room>();
  #shuttingDown = false;
  /** Whether the other servers can be reached; a distributed server starts
   * unlinked and says hello when the broker reports the link up. */
  #linkUp: boolean;
  #everLinked = false;
  /** Join/leave lines waiting for the batch; `newcomer` is the member whose
   * join it announces (it already has this line, and everything before). */
  #announcements: { line: Uint8Array; newcomer?: Member }[] = [];
  #announceScheduled = false;

  constructor(options: ChatServerOptions) {
    super();
    this.#log = options.log;
    this.#welcome = options.welcome ?? (() => []);
    this.#broker = options.broker ?? new LocalBroker();
    this.#linked = this.#broker.distributed;
    this.#metrics = options.metrics;
    this.#linkUp = !this.#broker.distributed;
    this.#rooms.set(LOBBY, { name: LOBBY, members: new Set(), remote: new Set() });
  }

  override started(ctx: Context<ChatServerMessage>): void {
    this.#log("[server] ChatServer started");
    if (this.#broker.distributed) ctx.runInterval(HEARTBEAT_MS, { type: "presence_check" });
  }

  handle(message: ChatServerMessage, ctx: Context<ChatServerMessage>): void | Promise<void> {
    switch (message.type) {
      case "join":
        return this.#join(message.id, message.identity, message.outbox, ctx);
      case "leave":
        return this.#leave(message.id, message.reason, message.cause, ctx);
      case "flush_announcements":
        this.#announceScheduled = false;
        return this.#flushAnnouncements();
      case "stats":
        return message.reply(this.#figures());
      case "presence_check":
        return this.#expireSilentServers(ctx);
    }
    // Anything else may send lines: earlier announcements go first.
    this.#flushAnnouncements();
    switch (message.type) {
      case "say":
        return this.#say(message.id, message.text);
      case "command":
        return this.#command(message.id, message.command);
      case "shutdown":
        return this.#shutdown(message.flushMs, message.reply);
      case "remote":
        return this.#remoteEvent(message.event, ctx);
      case "link":
        return this.#link(message.up);
    }
  }

  #join(id: number, identity: Identity, outbox: Outbox, ctx: Context<ChatServerMessage>): void {
    const name = identity.name;
    if (this.#shuttingDown) {
      void outbox.close();
      return;
    }
    const lobby = this.#rooms.get(LOBBY) as Room;
    const member: Member = { id, identity, assigned: name, outbox, room: lobby };
    const announcement = joinedChat(name);
    const lines = [announcement];
    const online = this.#members.size + this.#remote.size;
    let listed = 0;
    for (const other of this.#everyone()) {
      if (listed === ROSTER_LIMIT) break;
      lines.push(joinedChat(other));
      listed++;
    }
    if (online > ROSTER_LIMIT) {
      lines.push(infoLine(`and ${online - ROSTER_LIMIT} more (/who lists everyone)`));
    }
    lines.push(...this.#welcome(name));
    this.#members.set(id, member);
    this.#byName.set(name.toLowerCase(), member);
    lobby.members.add(member);
    this.#send(member, encodeLines(...lines));
    this.#announce(encodeLines(announcement), ctx, member);
    if (this.#linked) this.#publish({ type: "join", server: "", user: this.#asRemote(member) });
    this.#log(`[server] ${name} joined`, { event: "join", user: name });
  }

  /** Names of everyone online, this server's users first, in join order. */
  *#everyone(): Iterable<string> {
    for (const member of this.#members.values()) yield member.identity.name;
    for (const remote of this.#remote.values()) yield remote.name;
  }

  #say(id: number, text: string): void {
    const member = this.#members.get(id);
    if (member === undefined) return;
    this.#toRoom(member.room, encodeLines(chatLine(member.identity.name, text)), member);
    // Checked here, not only in #publish, so a lone server builds no event per line.
    if (this.#linked) this.#publish({ type: "say", server: "", id, text });
  }

  #leave(
    id: number,
    reason: string | undefined,
    cause: string | undefined,
    ctx: Context<ChatServerMessage>,
  ): void {
    const member = this.#members.get(id);
    if (member === undefined) return;
    const name = member.identity.name;
    this.#members.delete(id);
    this.#byName.delete(name.toLowerCase());
    this.#broker.releaseName(name.toLowerCase());
    this.#removeFromRoom(member);
    if (!this.#shuttingDown) {
      this.#announce(encodeLines(leftChat(name, reason)), ctx);
      this.#publish({ type: "leave", server: "", id, ...(reason ? { reason } : {}) });
    }
    this.#log(`[server] ${name} left`, {
      event: "leave",
      user: name,
      reason: cause ?? (this.#shuttingDown ? "server shutting down" : "unknown"),
    });
  }

  #command(id: number, command: Command): void | Promise<void> {
    const member = this.#members.get(id);
    if (member === undefined) return;
    switch (command.name) {
      case "nick":
        return this.#nick(member, command.nick);
      case "who":
        return this.#who(member);
      case "me":
        this.#toRoom(
          member.room,
          encodeLines(actionLine(member.identity.name, command.action)),
          member,
        );
        if (this.#linked) this.#publish({ type: "me", server: "", id, action: command.action });
        return;
      case "msg":
        return this.#privateMessage(member, command.to, command.text);
      case "join":
        return this.#moveTo(member, command.room);
      case "rooms":
        return this.#listRooms(member);
      case "help":
        return this.#reply(member, ...helpLines().map(infoLine));
      case "quit":
        // The session sends `leave` with the reason and hangs up; nothing here.
        return;
    }
  }

  async #nick(member: Member, nick: string): Promise<void> {
    const key = nick.toLowerCase();
    const old = member.identity.name;
    if (nick === old) return this.#reply(member, errorLine(`you are already ${nick}`));
    if (key === "server") return this.#reply(member, errorLine(`name reserved: ${nick}`));
    const assigned = /^user\d+$/.test(key);
    if (assigned && key !== member.assigned.toLowerCase()) {
      return this.#reply(member, errorLine(`name reserved: ${nick} (userN names are assigned)`));
    }
    const holder = this.#byName.get(key);
    if ((holder !== undefined && holder !== member) || this.#remoteByName.has(key)) {
      return this.#reply(member, errorLine(`name taken: ${nick}`));
    }
    // userN names are unique by construction; chosen ones are claimed
    // cluster-wide, since two servers may be asked for the same name at once.
    if (!assigned && this.#broker.distributed && !(await this.#broker.claimName(key))) {
      const reason = this.#linkUp
        ? `name taken: ${nick}`
        : "cannot change names while the link to other servers is down";
      return this.#reply(member, errorLine(reason));
    }
    if (old.toLowerCase() !== key) this.#broker.releaseName(old.toLowerCase());
    this.#byName.delete(old.toLowerCase());
    member.identity.name = nick;
    this.#byName.set(key, member);
    this.#toRoom(member.room, encodeLines(renamed(old, nick)));
    this.#publish({ type: "nick", server: "", id: member.id, name: nick });
    this.#log(`[server] ${old} is now known as ${nick}`, {
      event: "rename",
      user: nick,
      from: old,
    });
  }

  #privateMessage(member: Member, to: string, text: string): void {
    const key = to.toLowerCase();
    const target = this.#byName.get(key);
    if (target !== undefined) {
      this.#send(
        target,
        encodeLines(privateLine(member.identity.name, target.identity.name, text)),
      );
      return;
    }
    const remote = this.#remoteByName.get(key);
    if (remote === undefined) return this.#reply(member, errorLine(`no such user: ${to}`));
    if (!this.#linkUp) {
      return this.#reply(
        member,
        errorLine(`cannot reach ${remote.name}: the link to other servers is down`),
      );
    }
    this.#publish({ type: "msg", server: "", from: member.identity.name, to: remote.name, text });
  }

  #who(member: Member): void {
    const room = member.room;
    const names = [...room.members].map((m) => m.identity.name);
    for (const remote of room.remote) names.push(remote.name);
    const lines = wrap(`in ${room.name}: `, names);
    const online = this.#members.size + this.#remote.size;
    lines.push(infoLine(`${names.length} in ${room.name}, ${online} online in all`));
    this.#reply(member, ...lines);
  }

  #listRooms(member: Member): void {
    const rooms = [...this.#rooms.values()].sort((a, b) =>
      a.name === LOBBY ? -1 : b.name === LOBBY ? 1 : a.name.localeCompare(b.name)
    );
    this.#reply(member, ...wrap("rooms: ", rooms.map((r) => `${r.name} (${roomSize(r)})`)));
  }

  #moveTo(member: Member, roomName: string): void {
    if (member.room.name.toLowerCase() === roomName.toLowerCase()) {
      return this.#reply(member, errorLine(`you are already in ${member.room.name}`));
    }
    const name = member.identity.name;
    const from = member.room;
    this.#removeFromRoom(member);
    this.#toRoom(from, encodeLines(infoLine(`${name} left the room`)));
    const room = this.#room(roomName);
    this.#toRoom(room, encodeLines(infoLine(`${name} joined the room`)));
    room.members.add(member);
    member.room = room;
    this.#reply(member, infoLine(`you are in ${room.name} (${plural(roomSize(room), "user")})`));
    this.#publish({ type: "move", server: "", id: member.id, room: room.name });
  }

  /** The room called `name` (any case), created if it does not exist. */
  #room(name: string): Room {
    const key = name.toLowerCase();
    let room = this.#rooms.get(key);
    if (room === undefined) {
      room = { name, members: new Set(), remote: new Set() };
      this.#rooms.set(key, room);
    }
    return room;
  }

  /** Takes `member` out of its room, dropping the room if it empties. */
  #removeFromRoom(member: Member | Remote): void {
    const room = member.room;
    if ("outbox" in member) room.members.delete(member);
    else room.remote.delete(member);
    if (roomSize(room) === 0 && room.name !== LOBBY) this.#rooms.delete(room.name.toLowerCase());
  }

  async #shutdown(flushMs: number, reply: () => void): Promise<void> {
    this.#shuttingDown = true;
    this.#broadcast(encodeLines(SHUTTING_DOWN));
    const closing = [...this.#members.values()].map((m) => m.outbox.close({ flushMs }));
    await Promise.all(closing);
    reply();
  }

  // --- the cluster -------------------------------------------------------

  #publish(event: ClusterEvent): void {
    if (!this.#linked) return;
    event.server = this.#broker.serverId;
    this.#broker.publish(event);
  }

  #asRemote(member: Member): RemoteUser {
    return {
      server: this.#broker.serverId,
      id: member.id,
      name: member.identity.name,
      room: member.room.name,
    };
  }

  #publishRoster(): void {
    this.#publish({
      type: "roster",
      server: "",
      users: [...this.#members.values()].map((m) => this.#asRemote(m)),
    });
  }

  #link(up: boolean): void {
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    if (this.#everLinked) this.#broadcast(encodeLines(up ? LINK_RESTORED : LINK_LOST));
    if (up) {
      this.#everLinked = true;
      // Others may have written us off meanwhile, and we them: start their
      // clocks afresh and swap rosters; the differences are announced.
      const now = Date.now();
      for (const server of this.#lastSeen.keys()) this.#lastSeen.set(server, now);
      this.#publishRoster();
      this.#publish({ type: "sync", server: "" });
    }
  }

  #remoteEvent(event: ClusterEvent, ctx: Context<ChatServerMessage>): void {
    this.#lastSeen.set(event.server, Date.now());
    switch (event.type) {
      case "join":
        return this.#remoteJoin(event.user, ctx);
      case "leave": {
        const remote = this.#remote.get(event.id);
        if (remote) this.#remoteLeave(remote, event.reason, ctx);
        return;
      }
      case "say": {
        const remote = this.#remote.get(event.id);
        if (remote) this.#toRoom(remote.room, encodeLines(chatLine(remote.name, event.text)));
        return;
      }
      case "me": {
        const remote = this.#remote.get(event.id);
        if (remote) this.#toRoom(remote.room, encodeLines(actionLine(remote.name, event.action)));
        return;
      }
      case "nick": {
        const remote = this.#remote.get(event.id);
        if (remote === undefined) return;
        const old = remote.name;
        this.#renameRemote(remote, event.name);
        this.#toRoom(remote.room, encodeLines(renamed(old, event.name)));
        return;
      }
      case "move": {
        const remote = this.#remote.get(event.id);
        if (remote === undefined) return;
        const from = remote.room;
        this.#removeFromRoom(remote);
        this.#toRoom(from, encodeLines(infoLine(`${remote.name} left the room`)));
        remote.room = this.#room(event.room);
        this.#toRoom(remote.room, encodeLines(infoLine(`${remote.name} joined the room`)));
        remote.room.remote.add(remote);
        return;
      }
      case "msg": {
        const target = this.#byName.get(event.to.toLowerCase());
        if (target) {
          this.#send(
            target,
            encodeLines(privateLine(event.from, target.identity.name, event.text)),
          );
        }
        return;
      }
      case "roster":
        return this.#reconcile(event.server, event.users, ctx);
      case "sync":
        return this.#publishRoster();
      case "heartbeat":
        return;
      case "bye":
        this.#lastSeen.delete(event.server);
        return this.#dropServer(event.server, ctx);
    }
  }

  #remoteJoin(user: RemoteUser, ctx: Context<ChatServerMessage>, announce = true): void {
    if (this.#remote.has(user.id)) return;
    const remote: Remote = {
      id: user.id,
      server: user.server,
      name: user.name,
      room: this.#room(user.room),
    };
    this.#remote.set(user.id, remote);
    this.#remoteByName.set(user.name.toLowerCase(), remote);
    remote.room.remote.add(remote);
    if (announce) this.#announce(encodeLines(joinedChat(user.name)), ctx);
  }

  #remoteLeave(remote: Remote, reason: string | undefined, ctx: Context<ChatServerMessage>): void {
    this.#remote.delete(remote.id);
    if (this.#remoteByName.get(remote.name.toLowerCase()) === remote) {
      this.#remoteByName.delete(remote.name.toLowerCase());
    }
    this.#removeFromRoom(remote);
    this.#announce(encodeLines(leftChat(remote.name, reason)), ctx);
  }

  #renameRemote(remote: Remote, name: string): void {
    if (this.#remoteByName.get(remote.name.toLowerCase()) === remote) {
      this.#remoteByName.delete(remote.name.toLowerCase());
    }
    remote.name = name;
    this.#remoteByName.set(name.toLowerCase(), remote);
  }

  /** Makes our view of `server`'s users match its roster, announcing joins
   * and leaves we missed (after an outage, or when we are the newcomer). */
  #reconcile(server: string, users: RemoteUser[], ctx: Context<ChatServerMessage>): void {
    const listed = new Set(users.map((u) => u.id));
    for (const remote of [...this.#remote.values()]) {
      if (remote.server === server && !listed.has(remote.id)) {
        this.#remoteLeave(remote, undefined, ctx);
      }
    }
    for (const user of users) {
      const known = this.#remote.get(user.id);
      if (known === undefined) {
        this.#remoteJoin(user, ctx);
        continue;
      }
      if (known.name !== user.name) this.#renameRemote(known, user.name);
      if (known.room.name.toLowerCase() !== user.room.toLowerCase()) {
        this.#removeFromRoom(known);
        known.room = this.#room(user.room);
        known.room.remote.add(known);
      }
    }
  }

  #dropServer(server: string, ctx: Context<ChatServerMessage>): void {
    for (const remote of [...this.#remote.values()]) {
      if (remote.server === server) this.#remoteLeave(remote, undefined, ctx);
    }
  }

  /** A server silent past the presence timeout crashed or lost its link:
   * its users are shown as left. Not while our own link is down: then the
   * silence is ours. */
  #expireSilentServers(ctx: Context<ChatServerMessage>): void {
    if (!this.#linkUp) return;
    const now = Date.now();
    for (const [server, seen] of this.#lastSeen) {
      if (now - seen < PRESENCE_TIMEOUT_MS) continue;
      this.#lastSeen.delete(server);
      this.#log(`[server] server ${server} went silent; its users left`, {
        level: "warn",
        event: "server_lost",
        server,
      });
      this.#dropServer(server, ctx);
    }
  }

  // --- delivery ----------------------------------------------------------

  #announce(line: Uint8Array, ctx: Context<ChatServerMessage>, newcomer?: Member): void {
    this.#announcements.push({ line, newcomer });
    if (!this.#announceScheduled) {
      this.#announceScheduled = true;
      ctx.runLater(ANNOUNCE_BATCH_MS, { type: "flush_announcements" });
    }
  }

  /** Sends the pending join/leave lines as one buffer to everyone; members
   * who joined during the batch get only the part after their own join. */
  #flushAnnouncements(): void {
    const pending = this.#announcements;
    if (pending.length === 0) return;
    this.#announcements = [];
    let total = 0;
    for (const entry of pending) total += entry.line.length;
    const batch = new Uint8Array(total);
    const resumeAt = new Map<Member, number>();
    let offset = 0;
    for (const entry of pending) {
      batch.set(entry.line, offset);
      offset += entry.line.length;
      if (entry.newcomer) resumeAt.set(entry.newcomer, offset);
    }
    if (resumeAt.size === 0) return this.#broadcast(batch);
    let whole = 0;
    for (const member of this.#members.values()) {
      const from = resumeAt.get(member);
      if (from === undefined) {
        member.outbox.push(batch);
        whole++;
      } else if (from < batch.length) {
        this.#send(member, batch.subarray(from));
      }
    }
    this.#metrics?.sent(batch, whole);
  }

  #broadcast(bytes: Uint8Array): void {
    for (const member of this.#members.values()) member.outbox.push(bytes);
    this.#metrics?.sent(bytes, this.#members.size);
  }

  #toRoom(room: Room, bytes: Uint8Array, except?: Member): void {
    for (const member of room.members) {
      if (member !== except) member.outbox.push(bytes);
    }
    this.#metrics?.sent(bytes, room.members.size - (except && room.members.has(except) ? 1 : 0));
  }

  #reply(member: Member, ...lines: string[]): void {
    this.#send(member, encodeLines(...lines));
  }

  #send(member: Member, bytes: Uint8Array): void {
    member.outbox.push(bytes);
    this.#metrics?.sent(bytes, 1);
  }

  #figures(): LiveFigures {
    let deepest = 0;
    for (const member of this.#members.values()) {
      if (member.outbox.highWater > deepest) deepest = member.outbox.highWater;
    }
    return {
      users: this.#members.size,
      remoteUsers: this.#remote.size,
      rooms: this.#rooms.size,
      queueHighWaterBytes: deepest,
    };
  }
}

function roomSize(room: Room): number {
  return room.members.size + room.remote.size;
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
