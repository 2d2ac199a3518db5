/**
 * The browser's face: each event as the JSON objects the page reads (see
 * docs/protocol.md, "The browser client's events"), built from the
 * event's fields. Events the page has no fields for go as `info` or
 * `error` objects with their text line's sentence.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import { type ChatEvent, noticeText, refusalText } from "./events.ts";
import { shownAt, textLines } from "./render_text.ts";

/** The browser's objects for one event (see docs/protocol.md, "The browser
 * client's events"). Events it has no fields for go as `info`/`error`
 * with their text line's sentence. `room`: the room a room's event
 * happened in, or a reply is about. */
export function jsonObjects(event: ChatEvent, now: number, room?: string): object[] {
  switch (event.type) {
    case "say":
    case "action": {
      // The room it was said in: a page may be in several. Not its IRCv3
      // tags: the page has no use for them.
      const { msgid: _id, account: _account, tags: _tags, ...line } = event;
      return [room === undefined ? line : { ...line, room }];
    }
    case "private": {
      const { msgid: _id, account: _account, tags: _tags, ...line } = event;
      return [line];
    }
    case "tagmsg":
    case "quit":
      return []; // only IRC clients read these (and only some, TAGMSG)
    case "join":
    case "leave":
    case "rename":
    case "room":
    case "rooms":
    case "who":
      return [event];
    case "enter":
    case "exit":
      return [{ type: event.type, name: event.name, room: event.room }];
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
    case "kicked":
    case "banned":
    case "unbanned":
    case "muted":
    case "unmuted":
    case "opped":
    case "owned":
    case "released":
      // The kind too: ranks may have changed, and a page asks who is op.
      return asText(event, now).map((object) => ({ ...object, kind: event.type }));
    case "help":
    case "announcement":
    case "whois":
    case "whois_told":
    case "people":
    case "away":
    case "bans":
    case "you_are_banned":
    case "you_are_muted":
    case "you_were_kicked":
    case "shutdown":
    case "pong":
      return asText(event, now);
    case "away_changed":
    case "account_changed":
      return []; // only IRC clients that asked are told
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
