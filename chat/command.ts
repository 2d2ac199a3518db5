/**
 * What a command is made of, in one place: the `Scene` it reads (the chat's
 * in-memory state and the time, passed as a parameter, never a closure),
 * and the `Effect`s it returns for the chat server's shell to carry out
 * (deliveries, publishes, store writes, timers, password work).
 *
 * A command handler is `(scene, user, command) => Effect[]`: parse has
 * happened (`commands.ts`), the handler authorizes and applies, changing
 * only the in-memory registry and community, and everything that touches
 * the outside world is a value in what it returns. So a rank rule is
 * tested by building a scene in memory and reading the effects, with no
 * actor, socket or store (`chat/commands/*_test.ts`).
 *
 * @module
 */

import type { Act } from "./community.ts";
import type { Community } from "./community.ts";
import {
  type ChatEvent,
  type Face,
  type Notice,
  noticed,
  type Notify,
  type Refusal,
  refused,
} from "./events.ts";
import type { ClusterEvent, LogFields } from "./ports.ts";
import type { PageRequest } from "./history.ts";
import type { Registry, Room, Sink, User } from "./registry.ts";
import type { Task } from "./tasks.ts";
import type { FailureLimit } from "./community.ts";

/** The time, as a port: the real clock, or a test's fake one. */
export interface Clock {
  now(): number;
}

/** What a command may read of the link to other servers. */
export interface LinkState {
  /** Whether other servers may exist. */
  readonly linked: boolean;
  /** Whether they can be reached now. */
  readonly up: boolean;
}

/** Failed password attempts: per account and address (a guesser locks
 * only its own address out of an account, never the owner elsewhere), and
 * per address (over every account; not for loopback addresses, behind a
 * proxy everyone's, unless `--limit-loopback`). */
export interface LoginLimits {
  byAccount: FailureLimit;
  byAddress: FailureLimit;
  /** Registrations per address (three an hour), under the same loopback
   * rule. */
  registrations: FailureLimit;
  exemptLoopback: boolean;
}

/** `/whois` questions asked of other servers and not answered yet. */
export interface WhoisBook {
  /** `asker:target` → the token of the latest question. */
  asked: Map<string, number>;
  lastToken: number;
}

/** Everything a command reads, and the state it may change in memory. */
export interface Scene<S = unknown> {
  readonly registry: Registry<S>;
  readonly community: Community;
  readonly link: LinkState;
  readonly clock: Clock;
  /** Whether room history is kept (`/history` is refused without). */
  readonly history: boolean;
  /** Whether accounts and rooms are kept (a store; `--accounts off`: no). */
  readonly accounts: boolean;
  /** Lower-cased operator name → password hash (`--operators`). */
  readonly operators: ReadonlyMap<string, string>;
  readonly logins: LoginLimits;
  readonly whois: WhoisBook;
  /** The last name claim's token: an answer for an older one is stale. */
  readonly claims: { lastToken: number };
}

/** What a handler asks the shell to do, in order. */
export type Effect<S = unknown> =
  /** Events to one local user. */
  | { type: "reply"; to: User<S>; events: ChatEvent[] }
  /** An event to the local users of a room, but `except`. */
  | { type: "room"; room: Room<S>; event: ChatEvent; except?: User<S> }
  /** An event to the local users of every room `user` is in, and to
   * `user` (a rename, which an IRC user sees in each channel). */
  | { type: "rooms"; user: User<S>; event: ChatEvent }
  /** An event to every local user. */
  | { type: "everyone"; event: ChatEvent }
  /** An event about `user` to the local users of its rooms (of `room`
   * only, if given) whose clients asked for `wants`, but `user`. */
  | { type: "notify"; user: User<S>; event: ChatEvent; wants: Notify; room?: Room<S> }
  /** A join or leave, batched (see `Announcer`). */
  | { type: "announce"; event: ChatEvent; newcomer?: User<S> }
  /** `user` left: its leave is announced, unless its join is still waiting
   * in the batch (then both are withdrawn: nobody saw it come). */
  /** `user` left: announced to all, and on IRC a QUIT to those who shared
   * one of `rooms` (its rooms before it left). */
  | { type: "farewell"; user: User<S>; event: ChatEvent; rooms: Room<S>[] }
  /** A connection refused before it joined: `event` to it, then closed. */
  | { type: "turn_away"; sink: Sink; face: Face; event: ChatEvent }
  /** Tell the other servers. */
  /** To the other servers, or with `to` only that server. */
  | { type: "publish"; event: ClusterEvent; to?: string }
  /** Keep a room line in history (`remote`: said on another server, kept
   * here only when the store is not shared). */
  | { type: "keep"; room: string; from: string; text: string; action: boolean; remote?: boolean }
  /** The replay on entering `room`, or a `/history` page, to `to`. */
  | { type: "history"; to: User<S>; room: string; page?: PageRequest }
  /** Carry out an act: written first when it is kept, then enacted here
   * and on every server; `then` goes to `by` once it has taken effect. */
  | { type: "act"; act: Act; by?: User<S>; then?: ChatEvent }
  /** Disconnect a local user: `notice` to them, `reason` in their leave. */
  | { type: "disconnect"; user: User<S>; notice: Refusal; reason: string }
  /** Tell a local user's session its new name. */
  | { type: "renamed"; user: User<S>; name: string }
  /** Claim a chosen name cluster-wide for `user` (answer: `claim_answer`). */
  | { type: "claim"; user: User<S>; name: string; token: number }
  /** Give a claimed name back. */
  | { type: "release"; key: string }
  /** Slow work (a password's hash, a store's answer): its result comes back
   * as a `task_done` message with the task's kind. */
  | { type: "task"; user?: User<S>; task: Task }
  /** A `/whois` asked of another server runs out after a while. */
  | { type: "whois_timer"; asker: number; target: number; token: number }
  /** A line for the server's log. */
  | { type: "log"; line: string; fields: LogFields };

/** A command's handler. */
export type Handler<C, S = unknown> = (scene: Scene<S>, user: User<S>, command: C) => Effect<S>[];

/** `[{ reply: refusal }]`: the one effect of a refused command. */
export function refuse<S>(user: User<S>, refusal: Refusal): Effect<S>[] {
  return [{ type: "reply", to: user, events: [refused(refusal)] }];
}

/** `[{ reply: notice }]`. */
export function tell<S>(user: User<S>, notice: Notice): Effect<S>[] {
  return [{ type: "reply", to: user, events: [noticed(notice)] }];
}

/** `[{ reply: events }]`. */
export function reply<S>(user: User<S>, ...events: ChatEvent[]): Effect<S>[] {
  return [{ type: "reply", to: user, events }];
}

/** The local part of a user a command came from (commands come only from
 * this server's users). */
export function localOf<S>(user: User<S>): NonNullable<User<S>["local"]> {
  if (user.local === undefined) throw new Error(`${user.name} is not a user of this server`);
  return user.local;
}
