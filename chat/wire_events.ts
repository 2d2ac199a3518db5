/**
 * The browser client's events: the lines of `protocol.ts` as structured
 * data, so the page renders from fields (who, what, which room) and never
 * guesses from text.
 *
 * They are derived from the lines here, once per line sent (fan-out hands
 * every WebSocket the same bytes; see `net/websocket_conn.ts`), so the chat
 * keeps one wire and encodes each event once. Reading them back is exact,
 * not a guess, because of the rule that makes server lines unforgeable
 * (docs/protocol.md): a `* ` line is the server's when its first word is a
 * reserved name or what follows the name is one of the server's phrases
 * (`SERVER_EVENT`), and no user's action may take either form. Chat lines
 * are `[NAME]: ` and names hold no `]`, spaces or colons. A test checks
 * every line builder against this reader.
 *
 * @module
 */

import { NAME_PATTERN, SERVER_EVENT } from "./protocol.ts";
import { isReservedName } from "./registry.ts";

/** One event as the page receives it (see docs/protocol.md, "The browser
 * client's events"). `time` is when the server sent it, ms since the epoch;
 * `at` is the `HH:MM` (UTC) of a line replayed from history. */
export type WireEvent =
  | { type: "hello"; maxLineBytes: number }
  | { type: "say"; from: string; text: string; at?: string }
  | { type: "action"; from: string; text: string; at?: string }
  | { type: "private"; from: string; to: string; text: string }
  | { type: "join"; name: string }
  | { type: "leave"; name: string; reason?: string }
  | { type: "enter"; name: string }
  | { type: "exit"; name: string }
  | { type: "rename"; from: string; to: string }
  | { type: "welcome"; name: string; text: string }
  | { type: "room"; room: string; users: number }
  | { type: "who"; room: string; names: string[] }
  | { type: "rooms"; rooms: { name: string; users: number }[] }
  | { type: "more"; items: string[] }
  | { type: "topic"; text: string; by: string }
  | { type: "history_start"; room: string; kind: "recent" | "page" }
  | { type: "history_end" }
  | { type: "info"; text: string }
  | { type: "error"; text: string };

const NAME = "[A-Za-z0-9_-]{1,24}";
const PRIVATE = new RegExp(`^\\[(${NAME}) -> (${NAME})\\]: (.*)$`, "s");
const SAY = new RegExp(`^\\[(${NAME})\\]: (.*)$`, "s");
/** When a replayed line was said: `14:02`, `14:02:09` in pages, with the
 * date before it when not today. */
const WHEN = "(?:\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d(?::\\d\\d)?";
const PAST_SAY = new RegExp(`^(${WHEN}) \\[(${NAME})\\]: (.*)$`, "s");
const PAST_ACTION = new RegExp(`^(${WHEN}) (${NAME}) (.*)$`, "s");
const YOU_ARE_IN = new RegExp(`^you are in (${NAME}) \\((\\d+) users?\\)$`);
const WHO = new RegExp(`^in (${NAME}): (.*)$`);
const HISTORY_START = new RegExp(`^(recent in|history of) (${NAME}):$`);
const TOPIC_OF = new RegExp(`^topic of ${NAME}: (.*) \\(set by (${NAME})\\)$`, "s");
const TOPIC_SET = new RegExp(`^(${NAME}) set the topic: (.*)$`, "s");
const LEFT_CHAT = new RegExp(`^(${NAME}) left the chat(?: \\((.*)\\))?$`, "s");
const WELCOME = new RegExp(`^welcome, (${NAME})!`);

/**
 * Reads lines the server sent one client into events. Keeps what the
 * previous line was, so a wrapped `/who` or `/rooms` list's further lines
 * (`* a, b, c`) come out as `more`.
 *
 * @example
 * ```ts
 * import { WireReader } from "./wire_events.ts";
 * new WireReader().read("[alice]: hi"); // { type: "say", from: "alice", text: "hi" }
 * ```
 */
export class WireReader {
  #inList = false;

  /** The event one line (without its LF) stands for. */
  read(line: string): WireEvent {
    const event = this.#classify(line);
    this.#inList = event.type === "who" || event.type === "rooms" ||
      (this.#inList && event.type === "more");
    return event;
  }

  #classify(line: string): WireEvent {
    if (line.startsWith("! ")) return { type: "error", text: line.slice(2) };
    if (line.startsWith("[")) return chat(line);
    if (!line.startsWith("* ")) return { type: "info", text: line };
    return this.#starred(line.slice(2));
  }

  #starred(text: string): WireEvent {
    if (this.#inList && /^[^\s:]+, |^[^\s:,]+ \(\d+\)/.test(text) && !text.endsWith(":")) {
      return { type: "more", items: text.split(", ") };
    }
    return past(text) ?? frame(text) ?? listing(text) ?? aboutSomeone(text) ??
      { type: "info", text };
  }
}

/** `[a -> b]: text` or `[a]: text`. */
function chat(line: string): WireEvent {
  const dm = PRIVATE.exec(line);
  if (dm) return { type: "private", from: dm[1]!, to: dm[2]!, text: dm[3]! };
  const say = SAY.exec(line);
  if (say) return { type: "say", from: say[1]!, text: say[2]! };
  return { type: "info", text: line };
}

/** A line replayed from history: `HH:MM [a]: text` or `HH:MM a action`. */
function past(text: string): WireEvent | undefined {
  const say = PAST_SAY.exec(text);
  if (say) return { type: "say", at: say[1]!, from: say[2]!, text: say[3]! };
  const action = PAST_ACTION.exec(text);
  if (action) return { type: "action", at: action[1]!, from: action[2]!, text: action[3]! };
  return undefined;
}

/** History's frames. */
function frame(text: string): WireEvent | undefined {
  const start = HISTORY_START.exec(text);
  if (start) {
    return {
      type: "history_start",
      room: start[2]!,
      kind: start[1] === "recent in" ? "recent" : "page",
    };
  }
  if (text === "end of recent" || text === "end of history") return { type: "history_end" };
  return undefined;
}

/** `/who`, `/rooms`, the room you moved to, the welcome, the topic. */
function listing(text: string): WireEvent | undefined {
  const inRoom = YOU_ARE_IN.exec(text);
  if (inRoom) return { type: "room", room: inRoom[1]!, users: Number(inRoom[2]) };
  const who = WHO.exec(text);
  if (who) return { type: "who", room: who[1]!, names: who[2]!.split(", ") };
  if (text.startsWith("rooms: ")) {
    const rooms = text.slice(7).split(", ").map(roomCount);
    return { type: "rooms", rooms };
  }
  const welcome = WELCOME.exec(text);
  if (welcome) return { type: "welcome", name: welcome[1]!, text };
  const topicOf = TOPIC_OF.exec(text);
  if (topicOf) return { type: "topic", text: topicOf[1]!, by: topicOf[2]! };
  const topicSet = TOPIC_SET.exec(text);
  if (topicSet) return { type: "topic", text: topicSet[2]!, by: topicSet[1]! };
  return undefined;
}

function roomCount(item: string): { name: string; users: number } {
  const match = /^(\S+) \((\d+)\)$/.exec(item);
  return { name: match?.[1] ?? item, users: Number(match?.[2] ?? 0) };
}

/** `* NAME ...`: the server's news about someone, or their action. */
function aboutSomeone(text: string): WireEvent | undefined {
  const space = text.indexOf(" ");
  const name = space === -1 ? text : text.slice(0, space);
  if (!NAME_PATTERN.test(name) || isReservedName(name)) {
    return undefined;
  }
  const rest = text.slice(space + 1);
  if (!SERVER_EVENT.test(rest)) return { type: "action", from: name, text: rest };
  if (rest === "joined the chat") return { type: "join", name };
  if (rest === "joined the room") return { type: "enter", name };
  if (rest === "left the room") return { type: "exit", name };
  const left = LEFT_CHAT.exec(text);
  if (left) {
    return left[2] === undefined
      ? { type: "leave", name }
      : { type: "leave", name, reason: left[2] };
  }
  const renamed = /^is now known as (\S+)$/.exec(rest);
  if (renamed) return { type: "rename", from: name, to: renamed[1]! };
  return { type: "info", text };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Turns what the server writes to a browser (one or more lines, LF-ended)
 * into one WebSocket message: a JSON array of events, each with `time`.
 * Depends on the payload only (a wrapped list is always written whole), so
 * the same message serves every recipient of the same bytes.
 */
export function jsonMessage(payload: Uint8Array, now: number = Date.now()): Uint8Array {
  const reader = new WireReader();
  const events = decoder.decode(payload).split("\n").filter((l) => l !== "").map((line) => ({
    ...reader.read(line),
    time: now,
  }));
  return encoder.encode(JSON.stringify(events));
}
