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
 * - **irc**, **irc_tags**, **irc_v3**, **irc_mt**, **irc_mt_batch** (IRC
 *   clients, by the IRCv3 capabilities they asked for: see `Face`): the
 *   lines of `render_irc.ts`, each ending in CRLF.
 *
 * An `Outgoing` renders its events at most once per face, however many
 * recipients get them: fan-out stays one encoding per event. Its `room`
 * says where a room's events happened (IRC names the channel in every
 * line; the other faces know it from the reader's own room), and its
 * `reader` names the one user a reply goes to (IRC numerics name it).
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import type { ChatEvent, Face } from "./events.ts";
import { IRC_SERVER, ircLines } from "./render_irc.ts";
import { jsonObjects } from "./render_json.ts";
import { textLines } from "./render_text.ts";

export { jsonObjects } from "./render_json.ts";
export { shownAt, textLines, whoisText } from "./render_text.ts";

const encoder = new TextEncoder();
const EMPTY = new Uint8Array();

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
  readonly room: string | undefined;
  readonly reader: string;
  readonly server: string;
  #text: Uint8Array | undefined;
  #json: Uint8Array | undefined;
  #irc: Uint8Array | undefined;
  #ircTags: Uint8Array | undefined;
  #ircV3: Uint8Array | undefined;
  #ircMt: Uint8Array | undefined;
  #ircMtBatch: Uint8Array | undefined;

  constructor(
    events: readonly ChatEvent[],
    now: number,
    room?: string,
    reader = "*",
    server = IRC_SERVER,
  ) {
    this.events = events;
    this.now = now;
    this.room = room;
    this.reader = reader;
    this.server = server;
  }

  /** The bytes for `face`. */
  bytes(face: Face): Uint8Array {
    switch (face) {
      case "text":
        return this.#text ??= encodeText(this.events, this.now);
      case "json":
        return this.#json ??= encodeJson(this.events, this.now, this.room);
      case "irc":
        return this.#irc ??= this.#encodeIrc(false, false);
      case "irc_tags":
        return this.#ircTags ??= this.#encodeIrc(true, false);
      case "irc_v3":
        return this.#ircV3 ??= this.#encodeIrc(true, true);
      case "irc_mt":
        return this.#ircMt ??= this.#encodeIrc(true, false, true);
      case "irc_mt_batch":
        return this.#ircMtBatch ??= this.#encodeIrc(true, true, true);
      default:
        return unreachable(face);
    }
  }

  #encodeIrc(tags: boolean, batch: boolean, all = false): Uint8Array {
    const { reader: me, room, now, server } = this;
    const context = { me, room, tags, batch, all, now, server };
    const lines: string[] = [];
    for (const event of this.events) ircLines(event, context, lines);
    return lines.length === 0 ? EMPTY : encoder.encode(lines.join("\r\n") + "\r\n");
  }
}

/** The bytes of `events` for `face`, at `now` (`reader`: the one user they
 * go to, if one). */
export function render(
  face: Face,
  events: readonly ChatEvent[],
  now: number,
  reader?: string,
): Uint8Array {
  return new Outgoing(events, now, undefined, reader).bytes(face);
}

/** The text lines of `events`, LF-ended. */
export function encodeText(events: readonly ChatEvent[], now: number): Uint8Array {
  const lines: string[] = [];
  for (const event of events) textLines(event, now, lines);
  // Events with nothing to say (an empty roster) make no line, not a blank one.
  return lines.length === 0 ? EMPTY : encoder.encode(lines.join("\n") + "\n");
}

/** Each JSON object of `events`, followed by a comma. */
export function encodeJson(events: readonly ChatEvent[], now: number, room?: string): Uint8Array {
  let out = "";
  for (const event of events) {
    for (const object of jsonObjects(event, now, room)) {
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
