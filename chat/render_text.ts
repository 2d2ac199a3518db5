/**
 * The text face: the lines of `docs/protocol.md`, one event at a time.
 * Every line starts with `* ` (news and information), `! ` (a refusal, to
 * its user only) or `[` (chat), and only this module writes those
 * prefixes: a user's words appear only after them, never as them.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import {
  because,
  type ChatEvent,
  formatLeft,
  lasting,
  noticeText,
  refusalText,
  type WhoisFacts,
} from "./events.ts";
import type { HistoryLine } from "./ports.ts";

/** How many names one `/who` or `/rooms` line holds before wrapping. */
const NAMES_PER_LINE = 20;

/** Chat, comings and goings, and the lists. */
type Talk = Extract<
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
>;

/** What a room is told of its moderation. */
type RoomNews = Extract<
  ChatEvent,
  {
    type:
      | "topic"
      | "topic_set"
      | "kicked"
      | "banned"
      | "unbanned"
      | "muted"
      | "unmuted"
      | "opped"
      | "owned"
      | "released"
      | "announcement";
  }
>;

/** What only one user is told. */
type ToOne = Extract<
  ChatEvent,
  {
    type:
      | "whois"
      | "whois_told"
      | "people"
      | "away"
      | "bans"
      | "history"
      | "you_are_banned"
      | "you_are_muted"
      | "you_were_kicked"
      | "notice"
      | "refusal"
      | "shutdown"
      | "pong";
  }
>;

/** The text lines (without LF) one event stands for, appended to `out`. */
export function textLines(event: ChatEvent, now: number, out: string[] = []): string[] {
  switch (event.type) {
    case "say":
    case "action":
    case "private":
    case "join":
    case "leave":
    case "enter":
    case "exit":
    case "rename":
    case "roster":
    case "welcome":
    case "room":
    case "who":
    case "rooms":
    case "help":
      return talk(event, out);
    case "topic":
    case "topic_set":
    case "kicked":
    case "banned":
    case "unbanned":
    case "muted":
    case "unmuted":
    case "opped":
    case "owned":
    case "released":
    case "announcement":
      return roomNews(event, now, out);
    case "whois":
    case "whois_told":
    case "people":
    case "away":
    case "bans":
    case "history":
    case "you_are_banned":
    case "you_are_muted":
    case "you_were_kicked":
    case "notice":
    case "refusal":
    case "shutdown":
    case "pong":
      return toOne(event, now, out);
    case "away_changed":
    case "account_changed":
    case "tagmsg":
    case "quit":
      return out; // only IRC clients (that asked) are told
    default:
      return unreachable(event);
  }
}

/** Chat, comings and goings, and the lists. */
function talk(event: Talk, out: string[]): string[] {
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
      return unreachable(event);
  }
}

/** A room's moderation news. */
function roomNews(event: RoomNews, now: number, out: string[]): string[] {
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
    default:
      return unreachable(event);
  }
}

/** What only one user is told. */
function toOne(event: ToOne, now: number, out: string[]): string[] {
  switch (event.type) {
    case "whois":
      return push(out, `* ${whoisText(event.facts)}`);
    case "whois_told":
      return push(out, `* ${event.text}`);
    case "away":
      return push(out, `* ${event.name} is away: ${event.text}`);
    case "people":
      return wrap(out, `matching ${event.mask}: `, event.people.map((p) => p.name));
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
    case "pong":
      return out; // only IRC clients ping
    default:
      return unreachable(event);
  }
}

/** What `/whois` says: `alice: registered, logged in, in lobby, idle 3m`. */
export function whoisText(facts: WhoisFacts): string {
  const parts = [facts.registered ? "registered" : "not registered"];
  if (facts.account === facts.name.toLowerCase()) parts.push("logged in");
  else if (facts.account !== undefined) parts.push(`logged in as ${facts.account}`);
  if (facts.oper) parts.push("server operator");
  // An IRC user may be in several rooms, or in none yet.
  const rooms = facts.rooms ?? (facts.room === "" ? [] : [facts.room]);
  parts.push(rooms.length === 0 ? "in no room" : `in ${rooms.join(" and ")}`);
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
