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
 * @module
 */

import { Actor, type Context } from "../actors/mod.ts";
import type { Outbox } from "../net/outbox.ts";
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
  | { type: "leave"; id: number; reason?: string }
  | { type: "shutdown"; flushMs: number; reply: () => void }
  | { type: "stats"; reply: (stats: ChatStats) => void }
  | { type: "flush_announcements" };

/** A snapshot for tests and metrics. */
export interface ChatStats {
  /** Users online. */
  users: number;
  /** Rooms that exist, lobby included. */
  rooms: number;
}

/** Options for {@linkcode ChatServer}. */
export interface ChatServerOptions {
  /** Where log lines go. */
  log: (line: string) => void;
  /** Extra `* ` lines a newcomer gets after the roster. */
  welcome?: (name: string) => string[];
}

/** A user's current name, owned (written) by the ChatServer and read by the
 * user's session for its log lines. */
export interface Identity {
  name: string;
}

interface Room {
  name: string;
  members: Set<Member>;
}

interface Member {
  id: number;
  identity: Identity;
  /** The `userN` name assigned at connect, which only its owner may take back. */
  assigned: string;
  outbox: Outbox;
  room: Room;
}

/** The chat's single source of truth; see the module doc. */
export class ChatServer extends Actor<ChatServerMessage> {
  readonly #log: (line: string) => void;
  readonly #welcome: (name: string) => string[];
  /** Everyone online, in join order (a Map keeps insertion order). */
  readonly #members = new Map<number, Member>();
  /** Lower-cased name → member, for case-insensitive uniqueness and lookup. */
  readonly #byName = new Map<string, Member>();
  /** Lower-cased room name → room. */
  readonly #rooms = new Map<string, Room>();
  #shuttingDown = false;
  /** Join/leave lines waiting for the batch; `newcomer` is the member whose
   * join it announces (it already has this line, and everything before). */
  #announcements: { line: Uint8Array; newcomer?: Member }[] = [];
  #announceScheduled = false;

  constructor(options: ChatServerOptions) {
    super();
    this.#log = options.log;
    this.#welcome = options.welcome ?? (() => []);
    this.#rooms.set(LOBBY, { name: LOBBY, members: new Set() });
  }

  override started(_ctx: Context<ChatServerMessage>): void {
    this.#log("[server] ChatServer started");
  }

  handle(message: ChatServerMessage, ctx: Context<ChatServerMessage>): void | Promise<void> {
    switch (message.type) {
      case "join":
        return this.#join(message.id, message.identity, message.outbox, ctx);
      case "leave":
        return this.#leave(message.id, message.reason, ctx);
      case "flush_announcements":
        this.#announceScheduled = false;
        return this.#flushAnnouncements();
      case "stats":
        return message.reply({ users: this.#members.size, rooms: this.#rooms.size });
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
    let listed = 0;
    for (const other of this.#members.values()) {
      if (listed === ROSTER_LIMIT) break;
      lines.push(joinedChat(other.identity.name));
      listed++;
    }
    if (this.#members.size > ROSTER_LIMIT) {
      lines.push(infoLine(`and ${this.#members.size - ROSTER_LIMIT} more (/who lists everyone)`));
    }
    lines.push(...this.#welcome(name));
    this.#members.set(id, member);
    this.#byName.set(name.toLowerCase(), member);
    lobby.members.add(member);
    outbox.push(encodeLines(...lines));
    this.#announce(encodeLines(announcement), ctx, member);
    this.#log(`[server] ${name} joined`);
  }

  #say(id: number, text: string): void {
    const member = this.#members.get(id);
    if (member === undefined) return;
    this.#toRoom(member.room, encodeLines(chatLine(member.identity.name, text)), member);
  }

  #leave(id: number, reason: string | undefined, ctx: Context<ChatServerMessage>): void {
    const member = this.#members.get(id);
    if (member === undefined) return;
    this.#members.delete(id);
    this.#byName.delete(member.identity.name.toLowerCase());
    this.#removeFromRoom(member);
    if (!this.#shuttingDown) {
      this.#announce(encodeLines(leftChat(member.identity.name, reason)), ctx);
    }
    this.#log(`[server] ${member.identity.name} left`);
  }

  #command(id: number, command: Command): void {
    const member = this.#members.get(id);
    if (member === undefined) return;
    switch (command.name) {
      case "nick":
        return this.#nick(member, command.nick);
      case "who":
        return this.#who(member);
      case "me":
        return this.#toRoom(
          member.room,
          encodeLines(actionLine(member.identity.name, command.action)),
          member,
        );
      case "msg": {
        const target = this.#byName.get(command.to.toLowerCase());
        if (target === undefined) {
          return this.#reply(member, errorLine(`no such user: ${command.to}`));
        }
        target.outbox.push(
          encodeLines(privateLine(member.identity.name, target.identity.name, command.text)),
        );
        return;
      }
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

  #nick(member: Member, nick: string): void {
    const key = nick.toLowerCase();
    if (nick === member.identity.name) {
      return this.#reply(member, errorLine(`you are already ${nick}`));
    }
    if (key === "server") return this.#reply(member, errorLine(`name reserved: ${nick}`));
    if (/^user\d+$/.test(key) && key !== member.assigned.toLowerCase()) {
      return this.#reply(member, errorLine(`name reserved: ${nick} (userN names are assigned)`));
    }
    const holder = this.#byName.get(key);
    if (holder !== undefined && holder !== member) {
      return this.#reply(member, errorLine(`name taken: ${nick}`));
    }
    const old = member.identity.name;
    this.#byName.delete(old.toLowerCase());
    member.identity.name = nick;
    this.#byName.set(key, member);
    this.#toRoom(member.room, encodeLines(renamed(old, nick)));
    this.#log(`[server] ${old} is now known as ${nick}`);
  }

  #who(member: Member): void {
    const names = [...member.room.members].map((m) => m.identity.name);
    const lines = wrap(`in ${member.room.name}: `, names);
    lines.push(
      infoLine(`${names.length} in ${member.room.name}, ${this.#members.size} online in all`),
    );
    this.#reply(member, ...lines);
  }

  #listRooms(member: Member): void {
    const rooms = [...this.#rooms.values()].sort((a, b) =>
      a.name === LOBBY ? -1 : b.name === LOBBY ? 1 : a.name.localeCompare(b.name)
    );
    this.#reply(member, ...wrap("rooms: ", rooms.map((r) => `${r.name} (${r.members.size})`)));
  }

  #moveTo(member: Member, roomName: string): void {
    const key = roomName.toLowerCase();
    if (member.room.name.toLowerCase() === key) {
      return this.#reply(member, errorLine(`you are already in ${member.room.name}`));
    }
    this.#removeFromRoom(member);
    this.#toRoom(member.room, encodeLines(infoLine(`${member.identity.name} left the room`)));
    let room = this.#rooms.get(key);
    if (room === undefined) {
      room = { name: roomName, members: new Set() };
      this.#rooms.set(key, room);
    }
    this.#toRoom(room, encodeLines(infoLine(`${member.identity.name} joined the room`)));
    room.members.add(member);
    member.room = room;
    this.#reply(member, infoLine(`you are in ${room.name} (${plural(room.members.size, "user")})`));
  }

  /** Takes `member` out of its room, dropping the room if it empties. */
  #removeFromRoom(member: Member): void {
    const room = member.room;
    room.members.delete(member);
    if (room.members.size === 0 && room.name !== LOBBY) this.#rooms.delete(room.name.toLowerCase());
  }

  async #shutdown(flushMs: number, reply: () => void): Promise<void> {
    this.#shuttingDown = true;
    this.#broadcast(encodeLines(SHUTTING_DOWN));
    const closing = [...this.#members.values()].map((m) => m.outbox.close({ flushMs }));
    await Promise.all(closing);
    reply();
  }

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
    for (const member of this.#members.values()) {
      const from = resumeAt.get(member);
      if (from === undefined) member.outbox.push(batch);
      else if (from < batch.length) member.outbox.push(batch.subarray(from));
    }
  }

  #broadcast(bytes: Uint8Array): void {
    for (const member of this.#members.values()) member.outbox.push(bytes);
  }

  #toRoom(room: Room, bytes: Uint8Array, except?: Member): void {
    for (const member of room.members) {
      if (member !== except) member.outbox.push(bytes);
    }
  }

  #reply(member: Member, ...lines: string[]): void {
    member.outbox.push(encodeLines(...lines));
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
