/**
 * What the chat says, as values: every outcome of a command, a cluster
 * event, a timer or a store's answer is one `ChatEvent`. The core never
 * writes text; renderers at the edge turn events into bytes for each face
 * (`render.ts`: the text lines of nc, telnet and TLS; the browser's JSON).
 *
 * A user's own words only ever travel in the `text` of a `say`, `action`
 * or `private` event, and the renderer owns every prefix around them: no
 * sentence of the server is something a user can type.
 *
 * Notices (`* ...` to one user) and refusals (`! ...` to one user) are
 * tables keyed by kind, each with the sentence it renders to: a face that
 * speaks another language (IRC numerics) switches on the kind, and a new
 * kind is a compile error until each face handles it.
 *
 * @module
 */

import type { HistoryLine } from "./ports.ts";

/** Where an event's bytes go: a text line client, the browser's JSON, or
 * an IRC client (`irc_tags`: one that asked for IRCv3 `server-time`;
 * `irc_v3`: also `batch`, so history comes as `chathistory` batches;
 * `irc_mt` and `irc_mt_batch`: `message-tags` too, so lines carry their
 * `msgid`, `account` and the sender's own tags, and `TAGMSG` reaches them). */
export type Face = "text" | "json" | "irc" | "irc_tags" | "irc_v3" | "irc_mt" | "irc_mt_batch";

/** What a line carries for IRCv3 `message-tags` clients: its id, the
 * sender's account, and the sender's own (client-only, `+`) tags, as sent. */
export interface LineTags {
  msgid?: string;
  account?: string;
  tags?: string;
}

/** One client-only tag as sent, value escaped (so no space or `;`). */
export const CLIENT_TAG = /^\+[A-Za-z0-9/.-]{1,64}(?:=[^\s\0;]*)?$/;

/** The most bytes of client tags a line may carry (IRCv3: 4094). */
export const MAX_CLIENT_TAGS_BYTES = 4094;

/** Whether `value` is client-only tags as a line carries them (`;`-joined). */
export function isClientTags(value: string): boolean {
  return value.length <= MAX_CLIENT_TAGS_BYTES && value.split(";").every((t) => CLIENT_TAG.test(t));
}

/** News an IRC client may ask for (IRCv3 `away-notify`, `account-notify`). */
export type Notify = "away-notify" | "account-notify";

/** Whether `face` is an IRC client's: in any number of rooms at once. */
export function isIrc(face: Face): boolean {
  return face !== "text" && face !== "json";
}

/** One entry of `/bans`. */
export interface SanctionEntry {
  /** The name or address, as shown to the asker. */
  whom: string;
  what: "banned" | "muted";
  by: string;
  /** When it ends, ms; 0: never. */
  until: number;
  reason: string;
}

/** What `/whois` tells of a user. */
export interface WhoisFacts {
  name: string;
  registered: boolean;
  /** The account the user is logged in to, if any. */
  account?: string;
  oper: boolean;
  room: string;
  /** Every room of a user in several (IRC). */
  rooms?: string[];
  /** Those of its rooms where it is an op or the owner (IRC's `@#room`). */
  opIn?: string[];
  /** An IRC client's user and real names (`USER`), and its `AWAY`. */
  user?: string;
  realname?: string;
  away?: string;
  /** Ms since the user last spoke; undefined for another server's user. */
  idleMs?: number;
  /** When it connected, ms since the epoch (this server's users). */
  since?: number;
  /** Shown to server operators only. */
  address?: string;
  /** The user's server was asked and did not answer in time. */
  unanswered?: boolean;
}

/** A room in the room list. */
export interface RoomSize {
  name: string;
  users: number;
  topic?: string;
}

/** One user as IRC's `WHO` shows it. */
export interface Person {
  name: string;
  /** `USER`'s names, for an IRC client of this server. */
  user?: string;
  realname?: string;
  away: boolean;
  oper: boolean;
  /** An op (or owner) of the room asked about. */
  op: boolean;
}

/** Everything the chat tells people. */
export type ChatEvent =
  /** `notice`: an IRC `NOTICE`, which clients and bots never answer. */
  | { type: "say"; from: string; text: string; notice?: boolean } & LineTags
  | { type: "action"; from: string; text: string } & LineTags
  | { type: "private"; from: string; to: string; text: string; notice?: boolean } & LineTags
  /** A leave as IRC clients read it (`QUIT`): only to those who shared a
   * channel with the leaver (the `leave` announced to all is not theirs). */
  | { type: "quit"; name: string; reason?: string }
  /** IRCv3 `TAGMSG`: only tags, to a room (`to` absent) or one user. */
  | { type: "tagmsg"; from: string; to?: string; tags: string; msgid: string; account?: string }
  | { type: "join"; name: string }
  | { type: "leave"; name: string; reason?: string }
  | { type: "enter"; name: string; room: string }
  | { type: "exit"; name: string; room: string; reason?: string }
  | { type: "rename"; from: string; to: string }
  /** The newcomer's roster: names online (after its own join) and how many
   * more there are than were listed. */
  | { type: "roster"; names: string[]; more: number }
  | { type: "welcome"; name: string }
  | { type: "room"; room: string; users: number }
  /** `ops`: the room's ops and owner among `names` (for IRC's `@`). */
  | {
    type: "who";
    room: string;
    names: string[];
    online: number;
    stale: boolean;
    ops?: string[];
  }
  /** `update`: sent unasked (to pages) because someone came or went. */
  | { type: "rooms"; rooms: RoomSize[]; update?: true }
  | { type: "help"; lines: string[] }
  | { type: "topic"; room: string; text: string; by: string }
  | { type: "topic_set"; room: string; by: string; text: string }
  | { type: "kicked"; room: string; name: string; by: string; reason: string }
  /** `room` "": the server. */
  | { type: "banned"; room: string; name: string; by: string; until: number; reason: string }
  | { type: "unbanned"; room: string; name: string; by: string }
  | { type: "muted"; room: string; name: string; by: string; until: number; reason: string }
  | { type: "unmuted"; room: string; name: string; by: string }
  | { type: "opped"; room: string; name: string; by: string; on: boolean }
  | { type: "owned"; room: string; owner: string }
  | { type: "released"; room: string }
  | { type: "announcement"; by: string; text: string }
  | { type: "whois"; facts: WhoisFacts }
  /** IRC's `WHO`: the users of a room (`room`), or those whose names
   * match `mask`, with what `WHO` tells of each. */
  | {
    type: "people";
    mask: string;
    room?: string;
    people: Person[];
    /** Asked as IRC's `USERHOST` or `ISON` (some names), not `WHO`. */
    as?: "userhost" | "ison";
  }
  /** The user a private message went to is away (an IRC client's `AWAY`). */
  | { type: "away"; name: string; text: string }
  /** `name` went away (`text`) or came back (none), or logged in to
   * `account` or out (none): only for IRC clients that asked for
   * `away-notify` or `account-notify` (see `Effect` `notify`). */
  | { type: "away_changed"; name: string; text?: string }
  | { type: "account_changed"; name: string; account?: string }
  /** A `/whois` answer from another server, as it told it. */
  | { type: "whois_told"; text: string }
  | { type: "bans"; room: string; entries: SanctionEntry[] }
  /** Kept lines of a room: the replay on joining it, or a `/history` page. */
  | { type: "history"; room: string; kind: "recent" | "page"; lines: HistoryLine[] }
  /** You may not: sent to the one user concerned. */
  | { type: "you_are_banned"; place: string; by: string; until: number; reason: string }
  | { type: "you_are_muted"; room: string; by: string; until: number; reason: string }
  | { type: "you_were_kicked"; room: string; by: string; reason: string }
  | { type: "notice"; notice: Notice }
  | { type: "refusal"; refusal: Refusal }
  | { type: "shutdown" }
  /** The answer to an IRC client's `PING`, after all the chat had for it. */
  | { type: "pong"; token: string };

/** `for 10m` or `for good`, after a ban or a mute. */
export function lasting(until: number, now: number): string {
  return until === 0 ? "for good" : `for ${formatLeft(until - now)}`;
}

/** ` (reason)`, or nothing. */
export function because(reason: string): string {
  return reason === "" ? "" : ` (${reason})`;
}

/** `10m`, `2h`, `3d`, `30s`: the time left, rounded up to its largest unit. */
export function formatLeft(ms: number): string {
  // To the second first: a ban of 1h read a few ms later still says 1h.
  ms = Math.ceil(ms / 1000) * 1000;
  const units: [string, number][] = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000]];
  for (const [unit, size] of units) if (ms >= size) return `${Math.ceil(ms / size)}${unit}`;
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

/** Information for one user, keyed by kind, with its sentence. */
export const NOTICES = {
  and_more: (p: { count: number }) => `and ${p.count} more (/who lists everyone)`,
  link_lost: () => "link to other servers lost",
  link_restored: () => "link to other servers restored",
  link_down: () =>
    "link to other servers is down: users on other servers may not see you, nor you them",
  name_kept: (p: { name: string }) =>
    `a user on another server also had the name ${p.name} (Redis had lost track of names); it stays yours`,
  name_lost: (p: { name: string; back: string }) =>
    `your name ${p.name} is held by a user on another server (Redis had lost track of names); you are ${p.back} again`,
  no_earlier_lines: (p: { room: string }) => `no earlier lines in ${p.room}`,
  registered_offline: (p: { name: string }) => `${p.name} is registered, and not online`,
  nobody_banned: (p: { room: string }) => `nobody is banned or muted in ${p.room}`,
  server_unbanned: (p: { target: string }) => `${p.target} is no longer banned from the server`,
  plaintext: () =>
    "this connection is not encrypted: connect to the server's TLS port, if it has one, to keep your password private",
  registered_elsewhere: (p: { name: string }) =>
    `you registered ${p.name}: /login ${p.name} PASSWORD to use it`,
  registered: (p: { name: string }) => `you registered ${p.name} and are logged in`,
  logged_in: (p: { name: string }) => `you are logged in as ${p.name}`,
  logged_out: (p: { assigned?: string }) =>
    p.assigned === undefined
      ? "you are logged out"
      : `you are logged out; you are ${p.assigned} again`,
  password_changed: () => "password changed",
  unregistered: (p: { name: string }) => `${p.name} is no longer registered`,
  oper: () => "you are a server operator now (/help lists what you may do)",
  account_deleted: (p: { name: string }) => `the account ${p.name} was deleted: you are logged out`,
  password_changed_elsewhere: (p: { name: string }) =>
    `the password of ${p.name} was changed on another connection: you are logged out`,
} as const;

/** A refusal's sentence, keyed by kind; `! ` comes before it on the wire. */
export const REFUSALS = {
  /** A command line the parser could not read (its own sentence). */
  bad_command: (p: { text: string }) => p.text,
  /** `whois`: in answer to `/whois` (IRC ends the answer with `318`). */
  no_such_user: (p: { name: string; whois?: boolean }) => `no such user: ${p.name}`,
  no_such_user_any_more: () => "no such user any more",
  already_named: (p: { name: string }) => `you are already ${p.name}`,
  name_reserved: (p: { name: string; assigned: boolean }) =>
    `name reserved: ${p.name}${p.assigned ? " (userN names are assigned)" : ""}`,
  name_taken: (p: { name: string }) => `name taken: ${p.name}`,
  name_registered: (p: { name: string }) =>
    `${p.name} is registered: /login ${p.name} PASSWORD if it is yours`,
  name_banned: (p: { name: string }) => `${p.name} is banned from this server`,
  name_like_registered: (p: { name: string; registered: string }) =>
    `${p.name} looks too much like ${p.registered}, a registered name`,
  rename_under_way: () => "a name change is already under way",
  names_need_link: () => "cannot change names while the link to other servers is down",
  claim_timed_out: () =>
    "cannot change your name now: the other servers did not answer in time (try again)",
  unreachable_user: (p: { name: string }) =>
    `cannot reach ${p.name}: the link to other servers is down`,
  action_like_server: () => "that action would read like a server line",
  already_in_room: (p: { room: string }) => `you are already in ${p.room}`,
  not_on_channel: (p: { room: string }) => `you are not in ${p.room}`,
  too_many_rooms: (p: { room: string; max: number }) =>
    `cannot join ${p.room}: you are in ${p.max} rooms, the most there may be`,
  cannot_send: (p: { room: string }) => `you are not in ${p.room}: join it to speak there`,
  no_such_channel: (p: { room: string }) => `no such room: ${p.room}`,
  history_off: () => "history is off on this server",
  history_usage: () => "usage: /history [N] [before HH:MM or YYYY-MM-DDTHH:MM, UTC|more]",
  history_unavailable: () => "history is unavailable right now",
  no_store: () => "this server keeps no accounts or rooms (it runs with --accounts off)",
  no_accounts: () => "this server keeps no accounts (it runs with --accounts off)",
  store_failed: () => "cannot do that now: the store is unavailable (try again later)",
  room_owned: (p: { room: string }) => `${p.room} is owned already`,
  not_in_room: (p: { name: string; room: string }) => `${p.name} is not in ${p.room}`,
  lobby_ban: () => "nobody can be banned from the lobby (operators: /gban)",
  not_sanctioned: (p: { target: string; what: "banned" | "muted"; room: string }) =>
    `${p.target} is not ${p.what} in ${p.room}`,
  not_registered_for_op: (p: { name: string }) =>
    `${p.name} is not registered: only registered users can be ops`,
  op_already: (p: { name: string; room: string; on: boolean }) =>
    `${p.name} is ${p.on ? "already" : "not"} an op of ${p.room}`,
  not_server_banned: (p: { target: string }) => `${p.target} is not banned from the server`,
  rank_needed: (p: { who: string; what: string }) => `only ${p.who} may ${p.what}`,
  outranked: (p: { target: string; rank: "operator" | "owner" | "op"; room: string }) =>
    p.rank === "operator"
      ? `${p.target} is a server operator: you cannot do that`
      : `${p.target} is ${
        p.rank === "owner" ? "the owner" : "an op"
      } of ${p.room}: you cannot do that`,
  ban_covers_operator: () =>
    "a server ban may not cover your own address, loopback, or a server operator's address",
  account_busy: () => "one moment: your last account command is still running",
  logged_in_already: (p: { name: string }) => `you are logged in as ${p.name} already`,
  choose_name_first: () => "choose a name first (/nick NAME): userN names cannot be registered",
  registered_already: (p: { name: string }) => `${p.name} is registered already`,
  account_in_use: (p: { name: string }) =>
    `${p.name} is in use on another connection; it stays theirs until they leave`,
  not_logged_in: () => "you are not logged in",
  log_in_first: () => "log in first (/login NAME PASSWORD)",
  too_many_registrations: (p: { waitMs: number }) =>
    `too many registrations from your address: try again in ${formatLeft(p.waitMs)}`,
  too_many_failures: (p: { waitMs: number }) =>
    `too many failed attempts: try again in ${formatLeft(p.waitMs)}`,
  /** `oper`: it was `/oper`'s (IRC answers it `464`, a login `904`). */
  wrong_credentials: (_: { oper?: boolean }) => "wrong name or password",
  wrong_password: () => "wrong password",
  line_too_long: (p: { max: number }) => `line too long (max ${p.max} bytes)`,
  slow_down: () => "slow down",
  flooding: () => "disconnected: flooding",
  idle: () => "disconnected: idle too long",
  not_reading: () => "disconnected: not reading fast enough",
  busy: () => "server busy: try again in a moment",
  killed: (p: { by: string; reason: string }) =>
    `you were disconnected by ${p.by}${because(p.reason)}`,
  kicked_off: (p: { by: string; reason: string }) =>
    `you were kicked by ${p.by}${because(p.reason)}`,
  banned_off: (p: { place: string; by: string; until: number; now: number; reason: string }) =>
    `you are banned from ${p.place} by ${p.by} ${lasting(p.until, p.now)}${because(p.reason)}`,
} as const;

/** Each table's entries as tagged values: `{ notice: "logged_in", name }`. */
type Tagged<T extends Record<string, (p: never) => string>, Tag extends string> = {
  [K in keyof T]: { [_ in Tag]: K } & (Parameters<T[K]> extends [infer P] ? P : unknown);
}[keyof T];

/** A notice to one user. */
export type Notice = Tagged<typeof NOTICES, "notice">;
/** Why a user's command or line was refused. */
export type Refusal = Tagged<typeof REFUSALS, "refusal">;

/** A notice's sentence. */
export function noticeText(notice: Notice): string {
  return (NOTICES[notice.notice] as (p: Notice) => string)(notice);
}

/** A refusal's sentence. */
export function refusalText(refusal: Refusal): string {
  return (REFUSALS[refusal.refusal] as (p: Refusal) => string)(refusal);
}

/** `{ type: "refusal", ... }` for `refusal`. */
export function refused(refusal: Refusal): ChatEvent {
  return { type: "refusal", refusal };
}

/** `{ type: "notice", ... }` for `notice`. */
export function noticed(notice: Notice): ChatEvent {
  return { type: "notice", notice };
}
