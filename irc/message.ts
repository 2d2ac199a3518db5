/**
 * IRC's line format, read: `@tags :source COMMAND param param :trailing`
 * (RFC 1459 section 2.3, with IRCv3 message tags in front). Only the
 * shape is checked here; what a command means is the session's business.
 *
 * @module
 */

import { CLIENT_TAG } from "../chat/events.ts";

/** One line from a client. */
export interface IrcMessage {
  /** Upper-cased: `PRIVMSG`. */
  command: string;
  params: string[];
  /** Bytes of the line without its tags: IRC allows 512 with CRLF. */
  bodyBytes: number;
  /** Bytes of its tags, `@` and the space after them included. */
  tagBytes?: number;
  /** Its client-only tags (`+typing=active`), as sent, `;`-joined. */
  clientTags?: string;
}

/** The longest line without tags, CRLF included (RFC 1459). */
export const MAX_BODY_BYTES = 512;
/** The longest tag section a client may send, `@` and space included
 * (IRCv3 message-tags: 4096). */
export const MAX_TAG_BYTES = 4096;

const encoder = new TextEncoder();

/**
 * Reads one line (without its line ending); undefined for a line with no
 * command (empty, or only tags and a source).
 *
 * @example
 * ```ts
 * import { parseIrc } from "./message.ts";
 * parseIrc("@time=x :me PRIVMSG #games :hello there")?.params; // ["#games", "hello there"]
 * ```
 */
export function parseIrc(line: string): IrcMessage | undefined {
  let rest = line;
  let tagBytes = 0;
  let clientTags: string | undefined;
  if (rest.startsWith("@")) {
    const space = rest.indexOf(" ");
    if (space === -1) return undefined;
    tagBytes = encoder.encode(rest.slice(0, space + 1)).length;
    clientTags = onlyClientTags(rest.slice(1, space));
    rest = rest.slice(space + 1);
  }
  rest = rest.replace(/^ +/, "");
  const bodyBytes = encoder.encode(rest).length + 2;
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    if (space === -1) return undefined;
    rest = rest.slice(space + 1);
  }
  const params: string[] = [];
  let command: string | undefined;
  while (rest.length > 0) {
    rest = rest.replace(/^ +/, "");
    if (rest === "") break;
    if (command !== undefined && rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space === -1 ? rest : rest.slice(0, space);
    rest = space === -1 ? "" : rest.slice(space + 1);
    if (command === undefined) command = word.toUpperCase();
    else params.push(word);
  }
  if (command === undefined || command === "") return undefined;
  if (tagBytes === 0) return { command, params, bodyBytes };
  return { command, params, bodyBytes, tagBytes, ...(clientTags ? { clientTags } : {}) };
}

/** The client-only tags of a tag section (`+name[=value]`), as sent; the
 * others are the server's to set, and a malformed one is dropped. */
function onlyClientTags(section: string): string | undefined {
  const tags = section.split(";").filter((tag) => CLIENT_TAG.test(tag));
  return tags.length === 0 ? undefined : tags.join(";");
}

/** The room a channel name stands for (`#games` → `games`), or undefined
 * if it is not a channel or not a valid room name. */
export function roomOfChannel(target: string): string | undefined {
  if (!target.startsWith("#")) return undefined;
  const room = target.slice(1);
  return /^[A-Za-z0-9_-]{1,24}$/.test(room) ? room : undefined;
}

/** `\x01ACTION waves\x01` → `waves`; undefined for any other text. Other
 * CTCP requests are `ctcp`. */
export function ctcp(text: string): { verb: string; args: string } | undefined {
  if (!text.startsWith("\x01")) return undefined;
  const body = text.endsWith("\x01") ? text.slice(1, -1) : text.slice(1);
  const space = body.indexOf(" ");
  return space === -1
    ? { verb: body.toUpperCase(), args: "" }
    : { verb: body.slice(0, space).toUpperCase(), args: body.slice(space + 1) };
}
