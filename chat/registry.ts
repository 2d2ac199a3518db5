/**
 * Who is online, under which name, in which room: the chat's state, pure.
 *
 * One model for everyone. A `User` is on this server (it has a `local` part:
 * the sink its lines go to) or on another linked server (it has none); both
 * share the number space, the name index and the rooms, so `/who`, `/rooms`,
 * `/msg` and the roster treat them alike. Every change to names and rooms
 * goes through one method each (`add`, `remove`, `rename`, `move`, `enter`,
 * `part`), so the indexes cannot drift apart.
 *
 * Rooms: a user of the line protocol or the page is in exactly one room and
 * `move`s between rooms. An IRC user is in any number of channels (`enter`,
 * `part`), none at first; its `room` is the one its current command is
 * about (the chat server sets it from the command's channel), or `nowhere`,
 * a room nobody is in, so nothing said "in its room" reaches anyone by
 * mistake. Nothing here does I/O or knows the time; the chat server actor
 * owns the one instance and is the only caller.
 *
 * @module
 */

import type { ServerCommand } from "./commands.ts";
import { type Face, isIrc, type Notify, type Refusal } from "./events.ts";
import { isReservedName, looksAssigned } from "./names.ts";
import { LOBBY } from "./protocol.ts";

/** Where a local user's lines go: the connection's Outbox. */
export interface Sink {
  /** Queues bytes; false if the sink is closed or just overflowed. */
  push(bytes: Uint8Array): boolean;
  /** Flushes (up to `flushMs`) and closes. */
  close(options?: { flushMs?: number }): Promise<void>;
  /** The deepest the queue has been, in bytes. */
  readonly highWater: number;
}

/** A line or command held while an account command runs (as the chat
 * server's message for it). */
export type Held =
  | { type: "say"; id: number; text: string; room?: string; notice?: boolean; tags?: string }
  | { type: "command"; id: number; command: ServerCommand; room?: string };

/** The parts only a user of this server has. */
export interface Local<S = unknown> {
  sink: Sink;
  /** How the user's client reads events: text lines or the page's JSON. */
  face: Face;
  /** The `userN` name given at connect, which only its owner may take back. */
  assigned: string;
  /** Whatever the server needs to reach the user's session. */
  session: S;
  /** A cluster-wide name claim in flight, if any. */
  claim?: { token: number; name: string };
  /** The address the connection came from (no port): what bans match. */
  address: string;
  /** Whether the connection is encrypted (TLS). */
  secure: boolean;
  /** When the user last sent a line, ms (for `/whois`). */
  activeAt: number;
  /** When the user connected, ms (for `WHOIS`'s signon time). */
  since?: number;
  /** The ids of its lines (`msgid`): a prefix unique to the connection,
   * and a count. */
  lineIds?: { prefix: string; next: number };
  /** The account the user is logged in to (lower-cased), if any. */
  account?: string;
  /** Names this connection had before (made at its first rename). */
  pastNames?: string[];
  /** Whether the user has become a server operator (`/oper`). */
  oper?: boolean;
  /** An account command (hashing a password) is under way. */
  busy?: boolean;
  /** Lines and commands sent meanwhile, handled once it is done. */
  held?: Held[];
  /** Whether the client wants its own lines back (IRCv3 `echo-message`). */
  echo?: boolean;
  /** An IRC client's `AWAY` message, while it is away; the notices it
   * asked for (`away-notify`, `account-notify`). */
  away?: string;
  wants?: ReadonlySet<Notify>;
  /** An IRC client's `USER` names, for `WHOIS`. */
  ident?: { user: string; realname: string };
  warnedPlain?: boolean; // told that plain TCP shows their password
}

/** Someone online, here or on a linked server. */
export interface User<S = unknown> {
  readonly id: number;
  name: string;
  /** The server the user is connected to. */
  readonly server: string;
  /** The room its words and room commands go to (see the module doc). */
  room: Room<S>;
  /** Every room the user is in: `room` alone for a one-room user. */
  readonly rooms: Set<Room<S>>;
  /** Present for users of this server only. */
  readonly local: Local<S> | undefined;
  /** Another server's user's AWAY message, from its news (ours: `local`). */
  away?: string;
}

/** A room and everyone in it, local and remote. */
export interface Room<S = unknown> {
  /** Display name (the case its creator used). */
  readonly name: string;
  readonly users: Set<User<S>>;
  /** The number of the user who created it, by `/join`ing it empty: they
   * may claim it by registering while still in it. */
  creator?: number;
  /** Its ops while nobody owns it: whoever opened it, and whom they opped.
   * Held while in it (a rename keeps it); ignored once the room is owned. */
  readonly ops: Set<User<S>>;
  /** How many of its users are on this server. */
  locals: number;
}

/**
 * The registry; see the module doc.
 *
 * @example
 * ```ts
 * import { Registry } from "./registry.ts";
 * const registry = new Registry();
 * registry.add({ id: 1, name: "user1", server: "a", local: undefined });
 * registry.named("USER1")?.id; // 1
 * ```
 */
export class Registry<S = unknown> {
  /** Everyone by number, in join order (a Map keeps insertion order). */
  readonly #users = new Map<number, User<S>>();
  /** Lower-cased name → user, for case-insensitive uniqueness and lookup. */
  readonly #names = new Map<string, User<S>>();
  /** Lower-cased room name → room. */
  readonly #rooms = new Map<string, Room<S>>();
  /** This server's users, in join order: the recipients of every
   * broadcast, kept apart so fan-out never walks other servers' users. */
  readonly #locals = new Set<User<S>>();
  /** Users of other servers, in the order they became known here: kept
   * apart so a roster reads the first few of each without a scan. */
  readonly #remotes = new Set<User<S>>();
  /** This server's IRC users: who reads a QUIT (see `sharers`). */
  readonly #ircLocals = new Set<User<S>>();
  /** Bumped whenever someone enters or leaves a room (see rooms_watch). */
  changes = 0;
  /** The room of a user in no room: nobody is ever in it. */
  readonly nowhere: Room<S> = newRoom("");
  /** Told when `room` gets its first user of this server (`here`), and
   * when its last one leaves: a linked server hears only such rooms' lines. */
  onLocalRoom: (room: string, here: boolean) => void = () => {};
  /** Told when `room` empties and goes: what was kept for it while it had
   * people and no owner goes too. */
  onRoomGone: (room: string) => void = () => {};

  constructor() {
    this.#rooms.set(LOBBY, newRoom(LOBBY));
  }

  /** The room everyone starts in; it never vanishes. */
  get lobby(): Room<S> {
    return this.#rooms.get(LOBBY) as Room<S>;
  }

  /** Everyone online, here and elsewhere. */
  get size(): number {
    return this.#users.size;
  }

  /** Users of this server. */
  get localCount(): number {
    return this.#locals.size;
  }

  /** Users of other servers. */
  get remoteCount(): number {
    return this.#users.size - this.#locals.size;
  }

  /** How many rooms exist, lobby included. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** The user with number `id`. */
  user(id: number): User<S> | undefined {
    return this.#users.get(id);
  }

  /** The user called `name`, in any case. */
  named(name: string): User<S> | undefined {
    return this.#names.get(name.toLowerCase());
  }

  /** Users of this server, in join order. */
  locals(): ReadonlySet<User<S>> {
    return this.#locals;
  }

  /** Users of `server`. */
  usersOf(server: string): User<S>[] {
    return [...this.#users.values()].filter((user) => user.server === server);
  }

  /** Names of everyone in join order (by user number), this server's and
   * the others' merged as read, so a roster that stops at 50 reads about 50
   * users. (A join that overtook an earlier one on the way comes late.) */
  *names(): Iterable<string> {
    const locals = this.#locals.values();
    const remotes = this.#remotes.values();
    let local = locals.next();
    let remote = remotes.next();
    while (true) {
      if (!local.done && (remote.done || local.value.id < remote.value.id)) {
        yield local.value.name;
        local = locals.next();
      } else if (!remote.done) {
        yield remote.value.name;
        remote = remotes.next();
      } else {
        return;
      }
    }
  }

  /** The room called `name` (any case), if it exists. */
  room(name: string): Room<S> | undefined {
    return this.#rooms.get(name.toLowerCase());
  }

  /** Every room, lobby first, then by name. */
  rooms(): Room<S>[] {
    return [...this.#rooms.values()].sort((a, b) =>
      a.name === LOBBY ? -1 : b.name === LOBBY ? 1 : a.name.localeCompare(b.name)
    );
  }

  /** Adds a user in the rooms `roomNames` (made if needed); a number known
   * is refused (undefined). A name held stays its first holder's. */
  add(
    init: Omit<User<S>, "room" | "rooms">,
    roomNames: string | readonly string[] = LOBBY,
  ): User<S> | undefined {
    if (this.#users.has(init.id)) return undefined;
    const user: User<S> = { ...init, room: this.nowhere, rooms: new Set() };
    this.#users.set(user.id, user);
    const key = user.name.toLowerCase();
    if (!this.#names.has(key)) this.#names.set(key, user);
    for (const name of typeof roomNames === "string" ? [roomNames] : roomNames) {
      this.enter(user, name);
    }
    if (user.local) this.#locals.add(user);
    else this.#remotes.add(user);
    if (user.local && isIrc(user.local.face)) this.#ircLocals.add(user);
    return user;
  }

  /** This server's IRC users who share one of `rooms` (a leaver's, taken
   * before it left): on IRC only they hear of a QUIT. */
  ircSharers(rooms: readonly Room<S>[]): User<S>[] {
    if (rooms.length === 0) return [];
    return [...this.#ircLocals].filter((u) => rooms.some((room) => u.rooms.has(room)));
  }

  /** Removes `user` everywhere; its room goes too if it empties. */
  remove(user: User<S>): void {
    if (this.#users.get(user.id) !== user) return;
    this.#users.delete(user.id);
    this.#forgetName(user);
    this.#leaveRooms(user);
    this.#locals.delete(user);
    this.#remotes.delete(user);
    this.#ircLocals.delete(user);
  }

  /** Why `user` may not take `name`, or undefined if it may (locally: a
   * linked server also claims chosen names cluster-wide). */
  refuseName(user: User<S>, name: string): Refusal | undefined {
    if (name === user.name) return { refusal: "already_named", name };
    const key = name.toLowerCase();
    if (isReservedName(key)) return { refusal: "name_reserved", name, assigned: false };
    if (looksAssigned(name) && key !== user.local?.assigned.toLowerCase()) {
      return { refusal: "name_reserved", name, assigned: true };
    }
    const holder = this.#names.get(key);
    if (holder !== undefined && holder !== user) return { refusal: "name_taken", name };
    return undefined;
  }

  /** Renames `user` (the caller checked {@linkcode refuseName}). */
  rename(user: User<S>, name: string): void {
    this.#forgetName(user);
    user.name = name;
    const key = name.toLowerCase();
    if (!this.#names.has(key)) this.#names.set(key, user);
  }

  /** Moves `user` to the room called `name`, created if needed, out of
   * every other; a room left goes if it empties. Returns the room left. */
  move(user: User<S>, name: string): Room<S> {
    const from = user.room;
    this.#leaveRooms(user);
    this.enter(user, name);
    return from;
  }

  /** Puts `user` in the room called `name` too (created if needed), and
   * makes it the user's `room`. Returns it. */
  enter(user: User<S>, name: string): Room<S> {
    const room = this.#roomNamed(name);
    if (room.users.size === 0 && room.name !== LOBBY) room.creator = user.id;
    if (!room.users.has(user) && user.local && room.locals++ === 0) {
      this.onLocalRoom(room.name, true);
    }
    room.users.add(user);
    user.rooms.add(room);
    user.room = room;
    this.changes++;
    return room;
  }

  /** Takes `user` out of `room`, which goes if it empties; its `room` is
   * then its latest other room, or `nowhere`. */
  part(user: User<S>, room: Room<S>): void {
    if (!user.rooms.delete(room)) return;
    this.#emptied(room, user);
    if (user.room !== room) return;
    let last = this.nowhere;
    for (const other of user.rooms) last = other;
    user.room = last;
  }

  /** `user` (in `room`) is one of its ops, or no longer. */
  setOp(room: Room<S>, user: User<S>, on: boolean): void {
    if (!room.users.has(user)) return;
    if (on) room.ops.add(user);
    else room.ops.delete(user);
  }

  /** The room called `name` if `user` is in it. */
  roomOf(user: User<S>, name: string): Room<S> | undefined {
    const room = this.room(name);
    return room !== undefined && user.rooms.has(room) ? room : undefined;
  }

  #roomNamed(name: string): Room<S> {
    const key = name.toLowerCase();
    let room = this.#rooms.get(key);
    if (room === undefined) {
      room = newRoom(name);
      this.#rooms.set(key, room);
    }
    return room;
  }

  #forgetName(user: User<S>): void {
    const key = user.name.toLowerCase();
    if (this.#names.get(key) === user) this.#names.delete(key);
  }

  #leaveRooms(user: User<S>): void {
    for (const room of user.rooms) this.#emptied(room, user);
    user.rooms.clear();
    user.room = this.nowhere;
  }

  /** `user` is out of `room`: the room goes if nobody is left in it. */
  #emptied(room: Room<S>, user: User<S>): void {
    if (!room.users.delete(user)) return;
    room.ops.delete(user);
    this.changes++;
    if (user.local && --room.locals === 0) this.onLocalRoom(room.name, false);
    if (room.users.size > 0 || room.name === LOBBY) return;
    this.#rooms.delete(room.name.toLowerCase());
    this.onRoomGone(room.name);
  }

  /** For the metrics: users here and elsewhere, rooms, deepest queue. */
  figures(): { users: number; remoteUsers: number; rooms: number; queueHighWaterBytes: number } {
    let deepest = 0;
    for (const user of this.locals()) {
      deepest = Math.max(deepest, user.local?.sink.highWater ?? 0);
    }
    return {
      users: this.localCount,
      remoteUsers: this.remoteCount,
      rooms: this.roomCount,
      queueHighWaterBytes: deepest,
    };
  }
}

function newRoom<S>(name: string): Room<S> {
  return { name, users: new Set(), ops: new Set(), locals: 0 };
}
