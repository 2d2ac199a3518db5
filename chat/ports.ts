/**
 * The ports of the chat domain: what it needs from the outside world, stated
 * as interfaces the domain owns. Adapters implement them elsewhere: the log
 * and the metrics in `app/`, the link to other servers in `cluster/`. The
 * domain imports none of those, so it is tested in memory with fakes.
 *
 * The wire between servers (`ClusterEvent`) is defined here because the
 * chat server speaks it; `cluster/events.ts` checks every field of each
 * event that arrives before it reaches the domain.
 *
 * @module
 */

import type { Act, Snapshot, StoredAct } from "./community.ts";
import type { LineTags, Notify } from "./events.ts";

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** How log lines are written: as text, or one JSON object a line. */
export type LogFormat = "text" | "json";

/** Structured fields attached to a log line. */
export interface LogFields {
  level?: LogLevel;
  /** What happened: connect, join, leave, kick, refuse, rename, link, error. */
  event?: string;
  [key: string]: string | number | boolean | undefined;
}

/** The logging function every module takes. */
export type Log = (message: string, fields?: LogFields) => void;

/** Counters the chat bumps on paths that already run. */
export interface ChatMetrics {
  /** `bytes` (one or more lines) were queued to `recipients` clients. */
  sent(bytes: Uint8Array, recipients: number): void;
  /** A line arrived from a client (after hygiene, before flood control). */
  lineIn(): void;
  /** The server disconnected a client for `reason`. */
  kicked(reason: string): void;
  /** A client left; its send queue was at most `bytes` deep. */
  queueHighWater(bytes: number): void;
}

/** A user as other servers see it. */
export interface RemoteUser {
  /** The server's id, then the user's number (numbers are cluster-wide). */
  server: string;
  id: number;
  name: string;
  /** Display names of the user's rooms: one, or any number for an IRC
   * user. */
  rooms: string[];
  /** Those of its rooms, nobody's own, where it is an op (see `Room.ops`). */
  ops?: string[];
}

/** What servers tell each other. `server` is always the sender. */
export type ClusterEvent =
  | { type: "join"; server: string; user: RemoteUser }
  | { type: "leave"; server: string; id: number; reason?: string }
  /** `room`: which of the user's rooms (an IRC user's); else its one. */
  | {
    type: "say";
    server: string;
    id: number;
    text: string;
    room?: string;
    notice?: boolean;
  } & LineTags
  | { type: "me"; server: string; id: number; action: string; room?: string } & LineTags
  | { type: "nick"; server: string; id: number; name: string }
  /** `op`: the user opened `room`, nobody's own, and is its op. */
  | { type: "move"; server: string; id: number; room: string; op?: boolean }
  /** An IRC user is in `room` too now, or no longer. */
  | { type: "enter"; server: string; id: number; room: string; op?: boolean }
  | { type: "part"; server: string; id: number; room: string; reason: string }
  | { type: "msg"; server: string; from: string; to: string; text: string } & LineTags
  /** IRCv3 `TAGMSG` of user `id`, to `room` or to the user called `to`. */
  | {
    type: "tagmsg";
    server: string;
    id: number;
    room?: string;
    to?: string;
    tags: string;
    msgid: string;
    account?: string;
  }
  /** A user's away message (`value`; none: back) or account (none: logged
   * out) changed: news for IRC clients that asked (`wants`); with `room`,
   * only that room's (someone away came in). */
  | { type: "news"; server: string; id: number; wants: Notify; value?: string; room?: string }
  | { type: "roster"; server: string; users: RemoteUser[] }
  | { type: "sync"; server: string }
  | { type: "heartbeat"; server: string }
  | { type: "bye"; server: string }
  /** `server` gave up its user's claim on `name` to a user of ours: tell
   * ours (the rule for a name granted twice while Redis had lost it). */
  | { type: "conflict"; server: string; name: string }
  /** Something a person did that every server applies: a ban, a topic, a
   * kick, a registration (see `chat/community.ts`). */
  | { type: "act"; server: string; act: Act }
  /** A user here asked `/whois` about `target`, a user of another server:
   * that server answers (with the address too when `oper`). */
  | { type: "whois"; server: string; asker: number; target: number; oper: boolean }
  /** The answer to `asker`, a user of the server `to`, about `target`: the
   * facts, as its own server would list them. */
  | {
    type: "whois_reply";
    server: string;
    to: string;
    asker: number;
    target: number;
    facts: string;
  };

/** Where a broker delivers what it hears. */
export interface BrokerListener {
  /** A valid event from another server (own echoes already filtered out). */
  event(event: ClusterEvent): void;
  /** The link to the other servers went down (false) or came back (true). */
  link(up: boolean): void;
  /** `server` fell silent past the presence timeout: take it for dead. */
  serverLost(server: string): void;
  /** A name this server had claimed (lower-cased) turned out to be held by
   * another server (Redis lost our claim and granted it there): the local
   * user gives it up. */
  nameLost(key: string): void;
}

/** Carrying events between servers. */
export interface ClusterLink {
  /** This server's id in the cluster. */
  readonly serverId: string;
  /** Whether other servers may exist (false for the in-process default). */
  readonly linked: boolean;
  /** Starts listening; resolves once linked (the local broker at once). */
  start(listener: BrokerListener): Promise<void>;
  /** Tells the other servers; dropped, not queued, while the link is down.
   * A `say` or `me` with its `room` reaches only the servers with users in
   * that room; with `to`, only the server `to`. */
  publish(event: ClusterEvent, to?: string): void;
  /** This server has users in `room` now (`here`), or no longer: it hears
   * that room's lines only while it has (see `publish`). */
  listen(room: string, here: boolean): void;
  /** Says goodbye and disconnects. Safe to call twice. */
  close(): Promise<void>;
}

/** Handing out `userN` numbers. */
export interface UserNumbers {
  /** The next number; cluster-wide when linked. Rejects when none can be
   * had (Redis down and the local reserve used up). */
  nextUserNumber(): Promise<number>;
}

/** Where a lone server keeps how far its `userN` numbers have gone, so a
 * number is never handed out twice, restarts included. */
export interface NumberStore {
  /** The highest number reserved so far (0 for none). */
  load(): number;
  /** Reserves every number up to `upTo`; throws if it cannot be kept. */
  reserve(upTo: number): void;
}

/** Chosen names, unique across the cluster. */
export interface NameClaims {
  /** Claims a lower-cased name; false if another server has it or the link
   * is down. May never settle when the other end hangs: callers time it. */
  claimName(key: string): Promise<boolean>;
  /** Gives a claimed name back. */
  releaseName(key: string): void;
}

/** Everything the chat needs from the other servers, in one object. */
export interface Broker extends ClusterLink, UserNumbers, NameClaims {}

/** One kept room line: a chat line or an action (private messages are
 * never kept). */
export interface HistoryLine {
  /** When it was said, ms since the epoch. */
  at: number;
  room: string;
  from: string;
  text: string;
  /** A `/me` action rather than a chat line. */
  action: boolean;
}

/** Where room lines are kept (`store/`); see docs/protocol.md, "History". */
export interface HistoryStore {
  /** Whether every linked server reads and writes this one store: then
   * only the server whose user said a line keeps it. */
  readonly shared: boolean;
  /** Keeps a line. Must not block: a store buffers and writes later, and
   * one that cannot keep up drops lines (and counts them), never chat. */
  record(line: HistoryLine): void;
  /** Up to `limit` lines of `room` said before `before` (ms), oldest first:
   * at once (an embedded store) or later (a networked one). Throws or
   * rejects if the store cannot be read. */
  recent(room: string, limit: number, before: number): HistoryLine[] | Promise<HistoryLine[]>;
}

/** A registered account as the store keeps it. */
export interface Account {
  /** The name as its owner wrote it. */
  name: string;
  /** The password's hash, in the form `Passwords` writes. */
  hash: string;
  /** When it was registered, ms since the epoch. */
  created: number;
}

/**
 * Where accounts, rooms, ops, topics and bans are kept (`store/` for SQLite,
 * `cluster/` for Redis); see `chat/community.ts` for what each act means.
 * Every method may reject (a full disk, Redis down): the chat then refuses
 * the command that needed it and goes on.
 */
export interface CommunityStore {
  /** Everything the chat server keeps in memory; sanctions that have ended
   * by `now` are left out (and may be deleted). */
  load(now: number): Promise<Snapshot>;
  /** The account called `name` (any case). */
  account(name: string): Promise<Account | undefined>;
  /** Registers `account`; false if the name is taken already. */
  createAccount(account: Account): Promise<boolean>;
  setPassword(name: string, hash: string): Promise<void>;
  /** Forgets the account (its rooms and op seats are released by acts). */
  deleteAccount(name: string): Promise<void>;
  /** Keeps what `act` changes; false only for a claim on a room that is
   * owned already (another server's user was first). */
  write(act: StoredAct): Promise<boolean>;
}

/** Password hashing, off the chat's thread. */
export interface Passwords {
  /** A new salted hash of `password`. */
  hash(password: string): Promise<string>;
  /** Whether `password` matches `hash` (compared in constant time). */
  verify(password: string, hash: string): Promise<boolean>;
}
