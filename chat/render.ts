/**
 * The faces: events turned into the bytes each kind of client reads.
 *
 * - **text** (nc, telnet, TLS, a WebSocket without the JSON subprotocol):
 *   the lines described in `docs/protocol.md`, each ending in LF. Every
 *   line the server writes starts with `* `, `! ` or `[`, and only the
 *   renderer writes those prefixes.
 * - **json** (the browser page): each event as one or more JSON objects
 *   with `time`, each followed by a comma; the WebSocket writer wraps a
 *   write's objects in `[` `]` (see `jsonFrame`), so coalesced writes stay
 *   one JSON array per frame.
 *
 * An `Outgoing` renders its events at most once per face, however many
 * recipients get them: fan-out stays one encoding per event.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import {
  because,
  type ChatEvent,
  type Face,
  formatLeft,
  lasting,
  noticeText,
  refusalText,
  type WhoisFacts,
} from "./events.ts";
import type { HistoryLine } from "./ports.ts";

const encoder = new TextEncoder();
const EMPTY = new Uint8Array();

/** How many names one `/who` or `/rooms` line holds before wrapping. */
const NAMES_PER_LINE = 20;

/**
 * Events rendered lazily, once per face.
 *
 * @example
 * ```ts
 * import { Outgoing } from "./render.ts";
 * const out = new Outgoing([{ type: "say", from: "alice", text: "hi" }], 0);
 * new TextDecoder().decode(out.bytes("text")); // "[alice]: hi\n"
 * ```
 */
export class Outgoing {
  readonly events: readonly ChatEvent[];
  readonly now: number;
  #text: Uint8Array | undefined;
  #json: Uint8Array | undefined;

  constructor(events: readonly ChatEvent[], now: number) {
    this.events = events;
    this.now = now;
  }

  /** The bytes for `face`. */
  bytes(face: Face): Uint8Array {
    switch (face) {
      case "text":
        return this.#text ??= encodeText(this.events, this.now);
      case "json":
        return this.#json ??= encodeJson(this.events, this.now);
      default:
        return unreachable(face);
    }
  }
}

/** The bytes of `events` for `face`, at `now`. */
export function render(face: Face, events: readonly ChatEvent[], now: number): Uint8Array {
  return new Outgoing(events, now).bytes(face);
}

/** The text lines of `events`, LF-ended. */
export function encodeText(events: readonly ChatEvent[], now: number): Uint8Array {
  const lines: string[] = [];
  for (const event of events) textLines(event, now, lines);
  // Events with nothing to say (an empty roster) make no line, not a blank one.
  return lines.length === 0 ? EMPTY : encoder.encode(lines.join("\n") + "\n");
}

/** Each JSON object of `events`, followed by a comma. */
export function encodeJson(events: readonly ChatEvent[], now: number): Uint8Array {
  let out = "";
  for (const event of events) {
    for (const object of jsonObjects(event, now)) {
      out += JSON.stringify({ ...object, time: now }) + ",";
    }
  }
  return encoder.encode(out);
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]

/** One WebSocket message from a write's JSON objects (`a,b,`): `[a,b]`. */
export function jsonFrame(payload: Uint8Array): Uint8Array {
  if (payload.length === 0) return new Uint8Array([OPEN, CLOSE]);
  const message = new Uint8Array(payload.length + 1);
  message[0] = OPEN;
  message.set(payload.subarray(0, payload.length - 1), 1);
  message[payload.length] = CLOSE;
  return message;
}

/** The text lines (without LF) one event stands for, appended to `out`. */
export function textLines(event: ChatEvent, now: number, out: string[] = []): string[] {
  switch (event.type) {
    case "say":
      return push(out, `[${event.from}]: ${event.text}`);
    case "action":
      return push(out, `* ${event.from} ${event.text}`);
    case "private":
      return push(out, `[${event.from} -> ${event.to}]: ${event.text}`);
    case "join":
      return push(out, `* ${event.name} joined the chat`);
    case "leave":
      return push(out, `* ${event.name} left the chat${event.reason ? ` (${event.reason})` : ""}`);
    case "enter":
      return push(out, `* ${event.name} joined the room`);
    case "exit":
      return push(out, `* ${event.name} left the room`);
    case "rename":
      return push(out, `* ${event.from} is now known as ${event.to}`);
    case "roster":
      for (const name of event.names) out.push(`* ${name} joined the chat`);
      if (event.more > 0) out.push(`* ${noticeText({ notice: "and_more", count: event.more })}`);
      return out;
    case "welcome":
      return push(out, `* welcome, ${event.name}! type /help for commands`);
    case "room":
      return push(out, `* you are in ${event.room} (${plural(event.users, "user")})`);
    case "who":
      wrap(out, `in ${event.room}: `, event.names);
      return push(
        out,
        `* ${event.names.length} in ${event.room}, ${event.online} online in all${
          event.stale ? " (link to other servers down)" : ""
        }`,
      );
    case "rooms":
      return wrap(out, "rooms: ", event.rooms.map((r) => `${r.name} (${r.users})`));
    case "help":
      for (const line of event.lines) out.push(`* ${line}`);
      return out;
    default:
      return moderationLines(event, now, out);
  }
}

/** The text of moderation's, history's and one user's events. */
function moderationLines(
  event: Exclude<
    ChatEvent,
    {
      type:
        | "say"
        | "action"
        | "private"
        | "join"
        | "leave"
        | "enter"
        | "exit"
        | "rename"
        | "roster"
        | "welcome"
        | "room"
        | "who"
        | "rooms"
        | "help";
    }
  >,
  now: number,
  out: string[],
): string[] {
  switch (event.type) {
    case "topic":
      return push(
        out,
        event.text === ""
          ? `* ${event.room} has no topic`
          : `* topic of ${event.room}: ${event.text} (set by ${event.by})`,
      );
    case "topic_set":
      return push(
        out,
        event.text === ""
          ? `* ${event.by} cleared the topic`
          : `* ${event.by} set the topic: ${event.text}`,
      );
    case "kicked":
      return push(out, `* ${event.name} was kicked by ${event.by}${because(event.reason)}`);
    case "banned": {
      const place = event.room === "" ? "the server" : event.room;
      const how = `${lasting(event.until, now)}${because(event.reason)}`;
      return push(out, `* ${event.name} was banned from ${place} by ${event.by} ${how}`);
    }
    case "unbanned":
      return push(out, `* ${event.name} was unbanned from ${event.room} by ${event.by}`);
    case "muted": {
      const how = `${lasting(event.until, now)} by ${event.by}${because(event.reason)}`;
      return push(out, `* ${event.name} was muted ${how}`);
    }
    case "unmuted":
      return push(out, `* ${event.name} was unmuted by ${event.by}`);
    case "opped":
      return push(
        out,
        event.on
          ? `* ${event.by} made ${event.name} an op of ${event.room}`
          : `* ${event.by} took op from ${event.name} in ${event.room}`,
      );
    case "owned":
      return push(out, `* ${event.room} is now owned by ${event.owner}`);
    case "released":
      return push(out, `* ${event.room} is no longer registered`);
    case "announcement":
      return push(out, `* announcement from ${event.by}: ${event.text}`);
    case "whois":
      return push(out, `* ${whoisText(event.facts)}`);
    case "whois_told":
      return push(out, `* ${event.text}`);
    case "bans":
      out.push(`* bans and mutes in ${event.room}:`);
      for (const entry of event.entries) {
        const left = entry.until === 0 ? "for good" : `${formatLeft(entry.until - now)} left`;
        out.push(`*   ${entry.whom} ${entry.what} by ${entry.by}, ${left}${because(entry.reason)}`);
      }
      return out;
    case "history":
      return historyLines(event, now, out);
    case "you_are_banned": {
      const how = `${lasting(event.until, now)}${because(event.reason)}`;
      return push(out, `! you are banned from ${event.place} by ${event.by} ${how}`);
    }
    case "you_are_muted": {
      const how = `${lasting(event.until, now)} by ${event.by}${because(event.reason)}`;
      return push(out, `! you are muted in ${event.room} ${how}: you may read but not speak there`);
    }
    case "you_were_kicked":
      return push(
        out,
        `! you were kicked from ${event.room} by ${event.by}${because(event.reason)}`,
      );
    case "notice":
      return push(out, `* ${noticeText(event.notice)}`);
    case "refusal":
      return push(out, `! ${refusalText(event.refusal)}`);
    case "shutdown":
      return push(out, "* server shutting down");
    default:
      return unreachable(event);
  }
}

/** What `/whois` says: `alice: registered, logged in, in lobby, idle 3m`. */
export function whoisText(facts: WhoisFacts): string {
  const parts = [facts.registered ? "registered" : "not registered"];
  if (facts.loggedIn) parts.push("logged in");
  if (facts.oper) parts.push("server operator");
  parts.push(`in ${facts.room}`);
  if (facts.idleMs === undefined) parts.push("on another server");
  else parts.push(`idle ${formatLeft(facts.idleMs)}`);
  if (facts.address !== undefined) parts.push(`from ${facts.address}`);
  const text = `${facts.name}: ${parts.join(", ")}`;
  return facts.unanswered ? `${text} (its server did not answer)` : text;
}

/** History between its frames: `* recent in ROOM:` ... `* end of recent`. */
function historyLines(
  event: Extract<ChatEvent, { type: "history" }>,
  now: number,
  out: string[],
): string[] {
  const page = event.kind === "page";
  out.push(page ? `* history of ${event.room}:` : `* recent in ${event.room}:`);
  for (const line of event.lines) {
    const when = shownAt(line, now, page);
    out.push(
      line.action
        ? `* ${when} ${line.from} ${line.text}`
        : `* ${when} [${line.from}]: ${line.text}`,
    );
  }
  out.push(page ? "* end of history" : "* end of recent");
  return out;
}

/** When a kept line was said, in UTC: `14:02` (`14:02:09` in pages), with
 * the date before it when not today. */
export function shownAt(line: HistoryLine, now: number, seconds: boolean): string {
  const at = new Date(line.at).toISOString();
  const today = at.slice(0, 10) === new Date(now).toISOString().slice(0, 10);
  const time = at.slice(11, seconds ? 19 : 16);
  return today ? time : `${at.slice(0, 10)} ${time}`;
}

/** The browser's objects for one event (see docs/protocol.md, "The browser
 * client's events"). Events it has no fields for go as `info`/`error`
 * with their text line's sentence. */
export function jsonObjects(event: ChatEvent, now: number): object[] {
  switch (event.type) {
    case "say":
    case "action":
    case "private":
    case "join":
    case "leave":
    case "rename":
    case "room":
    case "rooms":
    case "who":
      return [event];
    case "enter":
    case "exit":
      return [{ type: event.type, name: event.name }];
    case "roster": {
      const joins: object[] = event.names.map((name) => ({ type: "join", name }));
      if (event.more === 0) return joins;
      return [...joins, ...asText(event, now)];
    }
    case "welcome":
      return [{ ...event, text: `welcome, ${event.name}! type /help for commands` }];
    case "topic":
      return event.text === "" ? asText(event, now) : [event];
    case "topic_set":
      return [{ type: "topic", room: event.room, text: event.text, by: event.by }];
    case "history":
      return historyObjects(event, now);
    case "notice":
      return [{ type: "info", text: noticeText(event.notice), notice: event.notice.notice }];
    case "refusal":
      return [{ type: "error", text: refusalText(event.refusal), reason: event.refusal.refusal }];
    case "help":
    case "kicked":
    case "banned":
    case "unbanned":
    case "muted":
    case "unmuted":
    case "opped":
    case "owned":
    case "released":
    case "announcement":
    case "whois":
    case "whois_told":
    case "bans":
    case "you_are_banned":
    case "you_are_muted":
    case "you_were_kicked":
    case "shutdown":
      return asText(event, now);
    default:
      return unreachable(event);
  }
}

/** An event's text lines as `info` (`* `) and `error` (`! `) objects. */
function asText(event: ChatEvent, now: number): object[] {
  return textLines(event, now).map((line) =>
    line.startsWith("! ")
      ? { type: "error", text: line.slice(2) }
      : { type: "info", text: line.slice(2) }
  );
}

function historyObjects(event: Extract<ChatEvent, { type: "history" }>, now: number): object[] {
  const page = event.kind === "page";
  const lines = event.lines.map((line) => ({
    type: line.action ? "action" : "say",
    from: line.from,
    text: line.text,
    at: shownAt(line, now, page),
  }));
  return [
    { type: "history_start", room: event.room, kind: event.kind },
    ...lines,
    { type: "history_end" },
  ];
}

function push(out: string[], line: string): string[] {
  out.push(line);
  return out;
}

/** `* prefix a, b, c` lines of at most NAMES_PER_LINE names each. */
function wrap(out: string[], prefix: string, items: string[]): string[] {
  for (let i = 0; i < items.length; i += NAMES_PER_LINE) {
    const part = items.slice(i, i + NAMES_PER_LINE).join(", ");
    out.push(`* ${i === 0 ? prefix + part : part}`);
  }
  return out;
}

/** `1 user`, `2 users`. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
