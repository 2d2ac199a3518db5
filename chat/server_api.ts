/**
 * What the chat server takes and understands: its options, its messages,
 * and the limits and timeouts it keeps by default.
 *
 * @module
 */

import type { Writes } from "../net/mod.ts";
import type { ServerCommand } from "./commands.ts";
import type { ClaimAnswer } from "./commands/nick.ts";
import type { Snapshot } from "./community.ts";
import type { ChatEvent, Face, Notify } from "./events.ts";
import type { RoomHistory } from "./history.ts";
import type { Broker, ChatMetrics, ClusterEvent, CommunityStore, Log, Passwords } from "./ports.ts";
import type { Sink } from "./registry.ts";
import type { ClientSessionMessage } from "./session.ts";
import type { TaskDone } from "./tasks.ts";

/** What the server tells a user's session: its new name. */
export type SessionMessage = Extract<ClientSessionMessage, { type: "renamed" }>;

/** How the server reaches a user's session, of any face: an actor's
 * address that takes at least `SessionMessage`. */
export interface SessionAddress {
  send(message: SessionMessage): Promise<void>;
}

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
    /** Whether it wants its own chat lines back (IRCv3 `echo-message`). */
    echo?: boolean;
    /** An IRC client's `USER` names, for `WHOIS`. */
    ident?: { user: string; realname: string };
    session: SessionAddress;
    /** Where the connection comes from (no port), and whether it is TLS. */
    address: string;
    secure: boolean;
  }
  /** `room`: which of an IRC user's rooms (else the user's one room);
   * `notice`: an IRC `NOTICE`. */
  /** `tags`: an IRC client's own tags (IRCv3 `message-tags`), as sent. */
  | { type: "say"; id: number; text: string; room?: string; notice?: boolean; tags?: string }
  /** `room`: the room an IRC user's command is about. */
  | { type: "command"; id: number; command: ServerCommand; room?: string }
  | { type: "leave"; id: number; reason?: string; cause?: string }
  /** An IRC client's capabilities changed after it registered. */
  | { type: "face"; id: number; face: Face; echo: boolean; wants?: Notify[] }
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
  /** The room list changed a while ago: send it to the pages. */
  | { type: "push_rooms" }
  | { type: "remote"; event: ClusterEvent }
  | { type: "link"; up: boolean }
  | { type: "server_lost"; server: string }
  | { type: "name_lost"; key: string }
  /** Events for one user that a networked history store has answered. */
  | { type: "deliver"; id: number; events: ChatEvent[] }
  /** Accounts, rooms and bans as the store has them (at start, and after
   * the link comes back). */
  | { type: "community_loaded"; snapshot: Snapshot; reply?: () => void };

/** How long a rename waits for the other servers to confirm a name: long
 * enough for a slow Redis, short enough that the user is not left guessing. */
export const CLAIM_TIMEOUT_MS = 2_000;

/** How long `/whois` waits for another server's answer: as long as a
 * name claim may take. */
export const WHOIS_TIMEOUT_MS = 2_000;

/** Failed logins one account may take from one address in a burst, and
 * how fast the allowance comes back: a person who mistypes is never
 * stopped, a script gets five guesses a minute per address. */
export const ACCOUNT_FAILURES = { burst: 5, refillMs: 12_000 } as const;
/** Registrations one address may make in a burst, and how fast the
 * allowance comes back: three an hour. */
export const REGISTRATIONS = { burst: 3, refillMs: 20 * 60_000 } as const;
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
  /** Whether failed logins from loopback addresses are left out of the
   * per-address limit (default true; `--limit-loopback` counts them). */
  exemptLoopback?: boolean;
  /** The chat's writes (the same object its sessions' outboxes are given),
   * so a fan-out that backlogs a reader lets the writes go out first. */
  writes?: Writes;
  /** The server's name to IRC clients (`--irc-name`). */
  ircName?: string;
}

/** Where accounts and rooms are kept, and who the server operators are. */
export interface PeopleOptions {
  /** Undefined with `--accounts off`. */
  store?: CommunityStore;
  passwords: Passwords;
  /** Lower-cased name → password hash (`--operators`). */
  operators?: ReadonlyMap<string, string>;
}
