/**
 * Checking what arrives from other servers before the chat sees it.
 *
 * Redis is shared: anything that can publish on the channel (another
 * program, an older version of Marquee, a bug) can put bytes there. Every
 * message goes through `parseEvent`, which checks every field's type and
 * shape (names and rooms follow the name rule, text holds no control
 * characters that could forge a line) and returns either a well-formed
 * `ClusterEvent` or the kind of fault, which the broker counts and logs
 * (`DroppedEvents`) with no effect on users.
 *
 * @module
 */

import { type FieldChecks, validateAct } from "../chat/acts.ts";
import type { Act, Sanction } from "../chat/community.ts";
import type { ClusterEvent, Log, RemoteUser } from "../chat/ports.ts";
import { isClientTags, type LineTags, type Notify } from "../chat/events.ts";
import { NAME_PATTERN } from "../chat/protocol.ts";

/** Largest event accepted, in bytes of JSON: a roster of 10,000 users is
 * about 700 KB; nothing legitimate comes near 4 MiB. */
export const MAX_EVENT_BYTES = 4 * 1024 * 1024;

/** Longest text field (chat, action, quit reason): a line is at most
 * `--max-line-bytes` (4 KiB by default) on any server; 64 KiB leaves room
 * for a server run with a larger cap. */
const MAX_TEXT_CHARS = 64 * 1024;

/** Longest server id (ours are 8 hex digits). */
const MAX_SERVER_ID_CHARS = 64;

/** Why an event was dropped. */
export type EventFault = "oversized" | "not_json" | "unknown_type" | "bad_field";

/** The result of {@linkcode parseEvent}. */
export type ParsedEvent = { ok: true; event: ClusterEvent } | { ok: false; fault: EventFault };

/** Thrown inside the checks; caught in parseEvent. */
class BadField extends Error {}

/**
 * Parses and checks one message from the cluster channel.
 *
 * @example
 * ```ts
 * import { parseEvent } from "./events.ts";
 * parseEvent('{"type":"sync","server":"a1"}'); // { ok: true, event: { type: "sync", server: "a1" } }
 * parseEvent('{"type":"say","server":"x","id":1}'); // { ok: false, fault: "bad_field" }
 * ```
 */
export function parseEvent(message: string): ParsedEvent {
  const read = readJson(message);
  return read.ok ? checkEvent(read.value) : read;
}

/** Most events in one batch (the broker sends far fewer: see
 * `redis_channels.ts`). */
export const MAX_BATCH_EVENTS = 10_000;

/**
 * Parses one message from a channel: a single event, or a batch of one
 * server's events (`{"server":ID,"events":[...]}`), each checked as
 * `parseEvent` checks one, and each of that server.
 *
 * @example
 * ```ts
 * import { parseMessage } from "./events.ts";
 * parseMessage('{"server":"a1","events":[{"type":"sync","server":"a1"}]}');
 * // [{ ok: true, event: { type: "sync", server: "a1" } }]
 * ```
 */
export function parseMessage(message: string): ParsedEvent[] {
  if (!message.startsWith('{"server":')) return [parseEvent(message)];
  const read = readJson(message);
  if (!read.ok) return [read];
  const events = isObject(read.value) ? read.value.events : undefined;
  const server = isObject(read.value) ? read.value.server : undefined;
  if (!isServerId(server) || !Array.isArray(events) || events.length > MAX_BATCH_EVENTS) {
    return [{ ok: false, fault: "bad_field" }];
  }
  return events.map((event) =>
    isObject(event) && event.server === server
      ? checkEvent(event)
      : { ok: false, fault: "bad_field" }
  );
}

/** A message's JSON, or why it has none (too large, not JSON). */
function readJson(
  message: string,
): { ok: true; value: unknown } | { ok: false; fault: EventFault } {
  if (message.length > MAX_EVENT_BYTES) return { ok: false, fault: "oversized" };
  try {
    return { ok: true, value: JSON.parse(message) };
  } catch {
    return { ok: false, fault: "not_json" };
  }
}

/** Checks one parsed event. */
function checkEvent(value: unknown): ParsedEvent {
  if (!isObject(value) || typeof value.type !== "string" || !Object.hasOwn(CHECKS, value.type)) {
    return { ok: false, fault: "unknown_type" };
  }
  try {
    const check = CHECKS[value.type as ClusterEvent["type"]];
    return { ok: true, event: check(value, serverId(value.server)) };
  } catch (error) {
    if (error instanceof BadField) return { ok: false, fault: "bad_field" };
    throw error;
  }
}

type Fields = Record<string, unknown>;

/** One check per event type: builds the event from checked fields only, so
 * no unexpected property travels on. */
const CHECKS: { [K in ClusterEvent["type"]]: (v: Fields, server: string) => ClusterEvent } = {
  join: (v, server) => ({ type: "join", server, user: remoteUser(v.user, server) }),
  leave: (v, server) => ({
    type: "leave",
    server,
    id: userId(v.id),
    ...(v.reason === undefined ? {} : { reason: text(v.reason) }),
  }),
  say: (v, server) => ({
    type: "say",
    server,
    id: userId(v.id),
    text: text(v.text),
    ...(v.room === undefined ? {} : { room: name(v.room) }),
    ...(v.notice === true ? { notice: true } : {}),
    ...lineTags(v),
  }),
  me: (v, server) => ({
    type: "me",
    server,
    id: userId(v.id),
    action: text(v.action),
    ...(v.room === undefined ? {} : { room: name(v.room) }),
    ...lineTags(v),
  }),
  tagmsg: (v, server) => ({
    type: "tagmsg",
    server,
    id: userId(v.id),
    ...(v.room === undefined ? { to: name(v.to) } : { room: name(v.room) }),
    tags: clientTags(v.tags),
    msgid: msgid(v.msgid),
    ...(v.account === undefined ? {} : { account: account(v.account) }),
  }),
  nick: (v, server) => ({ type: "nick", server, id: userId(v.id), name: name(v.name) }),
  move: (v, server) => ({ type: "move", server, ...entry(v) }),
  enter: (v, server) => ({ type: "enter", server, ...entry(v) }),
  part: (v, server) => ({
    type: "part",
    server,
    id: userId(v.id),
    room: name(v.room),
    reason: text(v.reason ?? ""),
  }),
  msg: (v, server) => ({
    type: "msg",
    server,
    from: name(v.from),
    to: name(v.to),
    text: text(v.text),
    ...lineTags(v),
  }),
  news: (v, server) => ({
    type: "news",
    server,
    id: userId(v.id),
    wants: notify(v.wants),
    ...(v.value === undefined ? {} : { value: text(v.value) }),
    ...(v.room === undefined ? {} : { room: name(v.room) }),
  }),
  roster: (v, server) => {
    if (!Array.isArray(v.users)) throw new BadField();
    return { type: "roster", server, users: v.users.map((u) => remoteUser(u, server)) };
  },
  sync: (_, server) => ({ type: "sync", server }),
  heartbeat: (_, server) => ({ type: "heartbeat", server }),
  bye: (_, server) => ({ type: "bye", server }),
  conflict: (v, server) => ({ type: "conflict", server, name: name(v.name) }),
  act: (v, server) => ({ type: "act", server, act: act(v.act) }),
  whois: (v, server) => ({
    type: "whois",
    server,
    asker: userId(v.asker),
    target: userId(v.target),
    oper: bool(v.oper),
  }),
  whois_reply: (v, server) => ({
    type: "whois_reply",
    server,
    to: serverId(v.to),
    asker: userId(v.asker),
    target: userId(v.target),
    facts: text(v.facts),
  }),
};

/** One act, rebuilt from checked fields by its kind's own `validate`
 * (`chat/acts.ts`). */
function act(value: unknown): Act {
  if (!isObject(value)) throw new BadField();
  const checked = validateAct(value, FIELD_CHECKS);
  if (checked === undefined) throw new BadField();
  return checked;
}

function sanction(value: unknown): Sanction {
  if (!isObject(value)) throw new BadField();
  const until = value.until;
  if (typeof until !== "number" || !Number.isSafeInteger(until) || until < 0) throw new BadField();
  return {
    target: target(value.target),
    by: name(value.by),
    reason: text(value.reason),
    until,
    ...(value.label === undefined ? {} : { label: account(value.label) }),
  };
}

/** A line's IRCv3 tags, those it has. */
function lineTags(v: Fields): LineTags {
  const line: LineTags = {};
  if (v.msgid !== undefined) line.msgid = msgid(v.msgid);
  if (v.account !== undefined) line.account = account(v.account);
  if (v.tags !== undefined) line.tags = clientTags(v.tags);
  return line;
}

/** A line's id, as a server makes them (see `lineTags` in talk.ts). */
function msgid(value: unknown): string {
  if (typeof value !== "string" || !/^[a-z0-9-]{1,64}$/.test(value)) throw new BadField();
  return value;
}

/** Client-only tags as a line carries them. */
function clientTags(value: unknown): string {
  if (typeof value !== "string" || !isClientTags(value)) throw new BadField();
  return value;
}

/** A lower-cased name (an account). */
function account(value: unknown): string {
  const checked = name(value);
  if (checked !== checked.toLowerCase()) throw new BadField();
  return checked;
}

/** A room's name, or "" for the whole server. */
function scope(value: unknown): string {
  return value === "" ? "" : name(value);
}

/** A lower-cased name or an address. */
function target(value: unknown): string {
  if (typeof value !== "string" || value.length > 64) throw new BadField();
  if (/^(?:[a-z0-9_-]{1,24}|[0-9a-f.:]+)$/.test(value)) return value;
  throw new BadField();
}

function notify(value: unknown): Notify {
  if (value !== "away-notify" && value !== "account-notify") throw new BadField();
  return value;
}

function bool(value: unknown): boolean {
  if (typeof value !== "boolean") throw new BadField();
  return value;
}

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function serverId(value: unknown): string {
  if (!isServerId(value)) throw new BadField();
  return value;
}

function isServerId(value: unknown): value is string {
  return typeof value === "string" && value !== "" && value.length <= MAX_SERVER_ID_CHARS;
}

function userId(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw new BadField();
  return value;
}

function name(value: unknown): string {
  if (typeof value !== "string" || !NAME_PATTERN.test(value)) throw new BadField();
  return value;
}

/** Text shown to users: no controls (a LF would let it forge a line). */
function text(value: unknown): string {
  // deno-lint-ignore no-control-regex
  if (typeof value !== "string" || value.length > MAX_TEXT_CHARS || /[\x00-\x1f\x7f]/.test(value)) {
    throw new BadField();
  }
  return value;
}

/** The checks acts are rebuilt with. */
const FIELD_CHECKS: FieldChecks = {
  name,
  account,
  text,
  scope,
  target,
  bool,
  sanction,
  id: userId,
};

/** A user of `server`: a server speaks only for its own users. */
function remoteUser(value: unknown, server: string): RemoteUser {
  if (!isObject(value) || value.server !== server) throw new BadField();
  // One room (`room`), or an IRC user's any number (`rooms`).
  const rooms = Array.isArray(value.rooms) && value.rooms.length <= MAX_ROOMS
    ? value.rooms.map(name)
    : [name(value.room)];
  const ops = Array.isArray(value.ops) && value.ops.length <= MAX_ROOMS
    ? { ops: value.ops.map(name) }
    : {};
  return { server, id: userId(value.id), name: name(value.name), rooms, ...ops };
}

/** Who came into which room, and whether as the op of a room it opened. */
function entry(v: Record<string, unknown>): { id: number; room: string; op?: boolean } {
  return { id: userId(v.id), room: name(v.room), ...(v.op === true ? { op: true } : {}) };
}

/** The most rooms one user is told to be in: IRC's `CHANLIMIT`. */
const MAX_ROOMS = 50;

/** How often each kind of dropped event may be logged: one line a minute
 * says it is happening without letting a flood of junk flood the log. */
export const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * Counts dropped events by fault and decides when to log them.
 *
 * @example
 * ```ts
 * import { DroppedEvents } from "./events.ts";
 * const dropped = new DroppedEvents();
 * dropped.record("not_json", 0); // true: log this one
 * dropped.record("not_json", 1); // false: logged less than a minute ago
 * dropped.count("not_json"); // 2
 * ```
 */
export class DroppedEvents {
  readonly #counts = new Map<EventFault, number>();
  readonly #loggedAt = new Map<EventFault, number>();
  readonly #log: Log;
  readonly #onDropped: (fault: EventFault) => void;

  /** `log` gets the lines `drop` logs; `onDropped` is told of each drop. */
  constructor(log: Log = () => {}, onDropped: (fault: EventFault) => void = () => {}) {
    this.#log = log;
    this.#onDropped = onDropped;
  }

  /** Counts one malformed event dropped at `now`; logs it at most once a
   * minute per fault. */
  drop(fault: EventFault, now: number): void {
    this.#onDropped(fault);
    if (!this.record(fault, now)) return;
    this.#log(`[server] dropped a malformed event from Redis (${fault})`, {
      level: "warn",
      event: "cluster_event_dropped",
      reason: fault,
      dropped: this.count(fault),
    });
  }

  /** Counts one drop at `now` (ms); true when it should be logged. */
  record(fault: EventFault, now: number): boolean {
    this.#counts.set(fault, this.count(fault) + 1);
    const last = this.#loggedAt.get(fault);
    if (last !== undefined && now - last < DROP_LOG_INTERVAL_MS) return false;
    this.#loggedAt.set(fault, now);
    return true;
  }

  /** Drops of `fault` so far. */
  count(fault: EventFault): number {
    return this.#counts.get(fault) ?? 0;
  }
}
