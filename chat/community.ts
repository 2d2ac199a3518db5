/**
 * The people side of the chat, pure: which names are registered, which rooms
 * are owned and by whom, their ops, topics, bans and mutes, and the server's
 * own bans. The store (`CommunityStore`) keeps all of it; this is the chat
 * server's copy in memory, loaded once at start and changed by `Act`s, so
 * that every check on the hot path (may this user speak here, join there,
 * connect at all) is a map lookup and never waits for a disk or Redis.
 *
 * An `Act` is one thing a person did (a ban, a topic, a kick). The same act
 * is applied here, written to the store when it is state, and sent to the
 * other linked servers, which apply it to their copies: one vocabulary for
 * all three. Nothing here does I/O or reads a clock: times are parameters.
 *
 * @module
 */

import { LOBBY } from "./protocol.ts";

/** A ban or a mute: whom, until when, by whom and why. */
export interface Sanction {
  /** A lower-cased name, or an address (`127.0.0.5`, `::1`). */
  target: string;
  /** The name of who did it, as shown. */
  by: string;
  reason: string;
  /** When it ends, in ms since the epoch; 0 for never. */
  until: number;
  /** For an address recorded with a name's ban: that name, shown instead
   * of the address to everyone but server operators. */
  label?: string;
}

/** A registered room as the store keeps it. */
export interface RoomRecord {
  /** The room's name as its owner wrote it. */
  name: string;
  /** The owner's account (lower-cased name); "" for the lobby, which only
   * server operators moderate. */
  owner: string;
  topic: string;
  topicBy: string;
  /** Accounts (lower-cased) that are ops here. */
  ops: string[];
  bans: Sanction[];
  mutes: Sanction[];
}

/** Everything the chat server keeps in memory, as loaded from the store. */
export interface Snapshot {
  /** Registered names, lower-cased. */
  accounts: string[];
  rooms: RoomRecord[];
  /** Server-wide bans (`/gban`). */
  serverBans: Sanction[];
}

/** One thing a person did. `room` is a room's name; for `ban` and
 * `unban`, "" means the whole server. */
export type Act =
  | { kind: "claim"; room: string; owner: string; by: string }
  | { kind: "release"; room: string }
  | { kind: "topic"; room: string; text: string; by: string }
  | { kind: "op"; room: string; account: string; on: boolean; by: string }
  /** `name` is an op of a room nobody owns, or no longer (see `Room.ops`). */
  | { kind: "chanop"; room: string; name: string; on: boolean; by: string }
  | { kind: "ban"; room: string; sanction: Sanction }
  | { kind: "unban"; room: string; target: string; by: string }
  | { kind: "mute"; room: string; sanction: Sanction }
  | { kind: "unmute"; room: string; target: string; by: string }
  | { kind: "account"; name: string; registered: boolean }
  /** Every session logged in to `account` but user `except` is logged out
   * (its password was changed there). */
  | { kind: "logout"; account: string; except: number }
  | { kind: "kick"; room: string; target: string; by: string; reason: string }
  | { kind: "kill"; target: string; by: string; reason: string }
  | { kind: "announce"; by: string; text: string };

/** The acts that change what the store keeps (the others are events). */
export type StoredAct = Extract<
  Act,
  { kind: "claim" | "release" | "topic" | "op" | "ban" | "unban" | "mute" | "unmute" }
>;

/** How much a user may do in a room, least first. */
export type Rank = "user" | "op" | "owner" | "operator";

const RANK_ORDER: Readonly<Record<Rank, number>> = { user: 0, op: 1, owner: 2, operator: 3 };

/** Whether `a` is at least `b`. */
export function atLeast(a: Rank, b: Rank): boolean {
  return RANK_ORDER[a] >= RANK_ORDER[b];
}

/** A registered room in memory. */
export interface RoomState {
  name: string;
  owner: string;
  topic: string;
  topicBy: string;
  ops: Set<string>;
  bans: Map<string, Sanction>;
  mutes: Map<string, Sanction>;
}

/**
 * The in-memory copy; see the module doc.
 *
 * @example
 * ```ts
 * import { Community } from "./community.ts";
 * const community = new Community();
 * community.load({ accounts: ["alice"], rooms: [], serverBans: [] });
 * community.registered("Alice"); // true
 * ```
 */
export class Community {
  readonly #accounts = new Set<string>();
  /** Each registered name's look-alike skeleton (see `skeleton`). */
  readonly #skeletons = new Map<string, string>();
  readonly #rooms = new Map<string, RoomState>();
  readonly #serverBans = new Map<string, Sanction>();
  /** Mutes in force anywhere: while 0, a chat line costs no lookup. */
  #muteCount = 0;

  /** Replaces everything with `snapshot` (at start, and after the link to
   * the other servers comes back). */
  load(snapshot: Snapshot): void {
    // Rooms nobody owns are kept in memory only, while people are in them.
    const open = [...this.#rooms.values()].filter((r) => !this.keeps(r.name));
    this.#accounts.clear();
    this.#skeletons.clear();
    this.#rooms.clear();
    for (const state of open) this.#rooms.set(state.name.toLowerCase(), state);
    this.#serverBans.clear();
    this.#muteCount = 0;
    for (const account of snapshot.accounts) this.setRegistered(account, true);
    for (const record of snapshot.rooms) {
      const state = this.#ensureRoom(record.name, record.owner);
      state.topic = record.topic;
      state.topicBy = record.topicBy;
      for (const op of record.ops) state.ops.add(op);
      for (const ban of record.bans) state.bans.set(ban.target, ban);
      for (const mute of record.mutes) state.mutes.set(mute.target, mute);
      this.#muteCount += record.mutes.length;
    }
    for (const ban of snapshot.serverBans) this.#serverBans.set(ban.target, ban);
    this.#muteCount += open.reduce((n, r) => n + r.mutes.size, 0);
  }

  /** Whether anyone anywhere is muted (then chat lines are checked). */
  get anyMutes(): boolean {
    return this.#muteCount > 0;
  }

  /** How many names are registered. */
  get accountCount(): number {
    return this.#accounts.size;
  }

  /** Whether `name` (any case) is a registered account. */
  registered(name: string): boolean {
    return this.#accounts.has(name.toLowerCase());
  }

  /** The registered room called `name` (any case): the lobby counts as
   * registered once anything was kept for it. */
  room(name: string): RoomState | undefined {
    return this.#rooms.get(name.toLowerCase());
  }

  /** Whether state is kept in the store for `name`: it has an owner, or it
   * is the lobby (moderated by server operators only). A room nobody owns
   * keeps its topic, bans and mutes in memory, while people are in it. */
  keeps(name: string): boolean {
    return name.toLowerCase() === LOBBY || (this.room(name)?.owner ?? "") !== "";
  }

  /** Rooms owned by `account`. */
  ownedBy(account: string): string[] {
    const key = account.toLowerCase();
    return [...this.#rooms.values()].filter((r) => r.owner === key).map((r) => r.name);
  }

  /** Rooms where `account` is an op. */
  oppedIn(account: string): string[] {
    const key = account.toLowerCase();
    return [...this.#rooms.values()].filter((r) => r.ops.has(key)).map((r) => r.name);
  }

  /** The rank of someone logged in as `account` (if any) in `room`. */
  rank(room: string, account: string | undefined, operator: boolean): Rank {
    if (operator) return "operator";
    if (account === undefined) return "user";
    const state = this.room(room);
    if (state === undefined) return "user";
    if (state.owner === account) return "owner";
    return state.ops.has(account) ? "op" : "user";
  }

  /** The ban keeping `name` (from `address`) out of `room` at `now`. */
  roomBan(room: string, name: string, address: string, now: number): Sanction | undefined {
    const bans = this.room(room)?.bans;
    if (bans === undefined || bans.size === 0) return undefined;
    return inForce(bans.get(name.toLowerCase()), now) ?? inForce(bans.get(address), now);
  }

  /** The server-wide ban on `name` or `address` at `now`. */
  serverBan(name: string | undefined, address: string, now: number): Sanction | undefined {
    if (this.#serverBans.size === 0) return undefined;
    const byName = name === undefined ? undefined : this.#serverBans.get(name.toLowerCase());
    return inForce(byName, now) ?? inForce(this.#serverBans.get(address), now);
  }

  /** The mute on `name` in `room` at `now`: the check every chat line makes,
   * so it costs nothing while nobody anywhere is muted. */
  mute(room: string, name: string, now: number): Sanction | undefined {
    if (this.#muteCount === 0) return undefined;
    return inForce(this.room(room)?.mutes.get(name.toLowerCase()), now);
  }

  /** The bans of `room` ("" for the server's) in force at `now`. */
  bans(room: string, now: number): Sanction[] {
    const bans = room === "" ? this.#serverBans : this.room(room)?.bans;
    return [...(bans?.values() ?? [])].filter((b) => inForce(b, now) !== undefined);
  }

  /** The mutes of `room` in force at `now`. */
  mutes(room: string, now: number): Sanction[] {
    return [...(this.room(room)?.mutes.values() ?? [])].filter((m) =>
      inForce(m, now) !== undefined
    );
  }

  /** `name` (any case) is registered, or no longer. */
  setRegistered(name: string, registered: boolean): void {
    const key = name.toLowerCase();
    if (registered) {
      this.#accounts.add(key);
      this.#skeletons.set(skeleton(key), key);
    } else {
      this.#accounts.delete(key);
      if (this.#skeletons.get(skeleton(key)) === key) this.#skeletons.delete(skeleton(key));
    }
  }

  /** The registered name `name` looks like but is not (`caroI` for
   * `carol`), if any. */
  lookAlike(name: string): string | undefined {
    const key = name.toLowerCase();
    const like = this.#skeletons.get(skeleton(key));
    return like === key ? undefined : like;
  }

  /** `room` is owned by `owner` (an account). */
  claim(room: string, owner: string): void {
    this.#ensureRoom(room, owner);
  }

  /** `room` keeps nothing any more: its owner, ops, bans and mutes go. */
  release(room: string): void {
    const state = this.room(room);
    if (state === undefined) return;
    this.#muteCount -= state.mutes.size;
    this.#rooms.delete(room.toLowerCase());
  }

  /** `room` emptied: what it kept in memory only goes with it. */
  gone(room: string): void {
    if (!this.keeps(room)) this.release(room);
  }

  setTopic(room: string, text: string, by: string): void {
    const state = this.#ensureRoom(room, "");
    state.topic = text;
    state.topicBy = by;
  }

  setOp(room: string, account: string, on: boolean): void {
    const ops = this.#ensureRoom(room, "").ops;
    if (on) ops.add(account);
    else ops.delete(account);
  }

  /** Bans in `room` ("": the server). */
  addBan(room: string, sanction: Sanction): void {
    this.#bansOf(room).set(sanction.target, sanction);
  }

  /** Lifts the ban on `target` in `room` ("": the server), and the
   * addresses kept with it. */
  liftBan(room: string, target: string): void {
    unsanction(this.#bansOf(room), target);
  }

  addMute(room: string, sanction: Sanction): void {
    const mutes = this.#ensureRoom(room, "").mutes;
    if (!mutes.has(sanction.target)) this.#muteCount++;
    mutes.set(sanction.target, sanction);
  }

  liftMute(room: string, target: string): void {
    const mutes = this.room(room)?.mutes;
    if (mutes?.delete(target)) this.#muteCount--;
  }

  #ensureRoom(name: string, owner: string): RoomState {
    const key = name.toLowerCase();
    let state = this.#rooms.get(key);
    if (state === undefined) {
      state = {
        name,
        owner,
        topic: "",
        topicBy: "",
        ops: new Set(),
        bans: new Map(),
        mutes: new Map(),
      };
      this.#rooms.set(key, state);
    } else if (owner !== "") {
      state.owner = owner;
    }
    return state;
  }

  #bansOf(room: string): Map<string, Sanction> {
    return room === "" ? this.#serverBans : this.#ensureRoom(room, "").bans;
  }
}

/** What a name looks like, folding the characters that are easy to take
 * for each other: I, l, 1 and | are one, O and 0 are one. */
export function skeleton(name: string): string {
  return name.toLowerCase().replace(/[il1|]/g, "l").replace(/0/g, "o");
}

/** Removes the sanction on `target`, and the addresses recorded with it. */
function unsanction(sanctions: Map<string, Sanction>, target: string): void {
  sanctions.delete(target);
  for (const [key, sanction] of sanctions) {
    if (sanction.label === target) sanctions.delete(key);
  }
}

/** `sanction` if it has not ended by `now`. */
function inForce(sanction: Sanction | undefined, now: number): Sanction | undefined {
  if (sanction === undefined) return undefined;
  return sanction.until === 0 || sanction.until > now ? sanction : undefined;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Longest duration accepted: a year (anything longer, leave it out for
 * "permanent"). */
const MAX_DURATION_MS = 365 * 86_400_000;

/** `10m`, `2h`, `7d`, `30s` as ms; undefined if it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})([smhd])$/i.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[(match[2] as string).toLowerCase()] as number);
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined;
}

export { FailureLimit } from "./failure_limit.ts";
