/**
 * The IRC face: events as IRC lines (RFC 1459/2812 as modern clients read
 * them), with IRCv3 `server-time` tags for clients that asked for them.
 *
 * A room `games` is the channel `#games`; a user `alice` is
 * `alice!alice@marquee` (no address is shown: bans work on the server's
 * side, and a host would only tell people where someone lives). Events to
 * a room are rendered once for all its IRC readers, so they never name the
 * reader; what one user is told (a reply) is rendered for that user, and
 * numerics name it (`:marquee 401 alice bob :No such nick`).
 *
 * Refusals become the numeric IRC clients know for them where there is
 * one (`401`, `433`, `442`, `482`...), else a server `NOTICE`.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import { because, type ChatEvent, lasting } from "./events.ts";
import { toOne } from "./render_irc_one.ts";

/** The server's name in every numeric and server notice, unless it is
 * given another (`--irc-name`); also every user's host (a cloak). */
export const IRC_SERVER = "marquee";

/** What a rendering depends on besides the event. */
export interface IrcContext {
  /** The reader, for numerics ("*" in what many readers share). */
  me: string;
  /** The room a room event happened in, if it is one. */
  room?: string;
  /** Whether lines carry IRCv3 tags (`server-time`). */
  tags: boolean;
  /** Whether the client asked for `message-tags`: lines carry their
   * `msgid`, `account` and the sender's own tags, and `TAGMSG` is shown. */
  all?: boolean;
  /** Whether the client reads IRCv3 batches (history comes in one). */
  batch?: boolean;
  now: number;
  /** The server's name. */
  server: string;
}

/** `#games` for the room `games`. */
export function channel(room: string): string {
  return `#${room}`;
}

/** `alice!alice@marquee`: how a user is shown as a line's source. */
export function mask(name: string): string {
  return `${name}!${name}@${IRC_SERVER}`;
}

/** The IRC lines (without CRLF) of one event, appended to `out`. */
export function ircLines(event: ChatEvent, c: IrcContext, out: string[] = []): string[] {
  const lines = linesOf(event, c);
  if (lines.length === 0) return out;
  const at = c.tags ? tagsOf(event, c) : "";
  // A replayed line carries its own time.
  for (const line of lines) out.push(line.startsWith("@") ? line : at + line);
  return out;
}

/** `@time=...` and, for `message-tags` clients, a line's own tags. */
function tagsOf(event: ChatEvent, c: IrcContext): string {
  let tags = `@time=${new Date(c.now).toISOString()}`;
  if (c.all && (isLine(event) || event.type === "tagmsg")) {
    if (event.msgid !== undefined) tags += `;msgid=${event.msgid}`;
    if (event.account !== undefined) tags += `;account=${event.account}`;
    if (event.tags !== undefined) tags += `;${event.tags}`;
  }
  return tags + " ";
}

function isLine(event: ChatEvent): event is Of<"say" | "action" | "private"> {
  return event.type === "say" || event.type === "action" || event.type === "private";
}

function linesOf(event: ChatEvent, c: IrcContext): string[] {
  switch (event.type) {
    case "tagmsg":
      if (!c.all) return [];
      return [`:${mask(event.from)} TAGMSG ${event.to ?? channel(c.room ?? "")}`];
    case "say":
    case "action":
    case "private":
    case "join":
    case "leave":
    case "quit":
    case "enter":
    case "exit":
    case "rename":
    case "roster":
    case "welcome":
    case "room":
    case "who":
    case "rooms":
    case "help":
      return talk(event, c);
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
      return roomNews(event, c);
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
      return toOne(event, c);
    case "away_changed":
      return [`:${mask(event.name)} AWAY${event.text === undefined ? "" : ` :${event.text}`}`];
    case "account_changed":
      return [`:${mask(event.name)} ACCOUNT ${event.account ?? "*"}`];
    default:
      return unreachable(event);
  }
}

export type Of<T extends ChatEvent["type"]> = Extract<ChatEvent, { type: T }>;

function talk(
  event: Of<
    | "say"
    | "action"
    | "private"
    | "join"
    | "leave"
    | "quit"
    | "enter"
    | "exit"
    | "rename"
    | "roster"
    | "welcome"
    | "room"
    | "who"
    | "rooms"
    | "help"
  >,
  c: IrcContext,
): string[] {
  const here = channel(c.room ?? "");
  switch (event.type) {
    case "say":
      return [`:${mask(event.from)} ${event.notice ? "NOTICE" : "PRIVMSG"} ${here} :${event.text}`];
    case "action":
      return [`:${mask(event.from)} PRIVMSG ${here} :\x01ACTION ${event.text}\x01`];
    case "private":
      return [
        `:${mask(event.from)} ${event.notice ? "NOTICE" : "PRIVMSG"} ${event.to} :${event.text}`,
      ];
    case "join":
    case "roster":
    case "welcome":
      // Arriving on the server is not news on IRC: joining a channel is.
      return [];
    case "leave":
      // Announced to everyone; IRC clients read the `quit` of those they
      // shared a channel with instead.
      return [];
    case "quit":
      return [`:${mask(event.name)} QUIT :${event.reason ? `Quit: ${event.reason}` : "Quit"}`];
    case "enter":
      return [`:${mask(event.name)} JOIN ${channel(event.room)}`];
    case "exit":
      return [`:${mask(event.name)} PART ${channel(event.room)}${reasonParam(event.reason)}`];
    case "rename":
      return [`:${mask(event.from)} NICK ${event.to}`];
    case "room":
      return [`:${mask(c.me)} JOIN ${channel(event.room)}`];
    case "who":
      return namesLines(event, c);
    case "rooms":
      return [
        numeric(c, "321", "Channel", "Users Name"),
        // The lobby is listed only when someone is in it, as a channel is.
        ...event.rooms.filter((r) => r.users > 0).map((r) =>
          numeric(c, "322", channel(r.name), String(r.users), r.topic ?? "")
        ),
        numeric(c, "323", "End of /LIST"),
      ];
    case "help":
      return event.lines.map((line) => serverNotice(c, line));
    default:
      return unreachable(event);
  }
}

/** `353`s and `366`: who is in a channel, ops marked `@`. */
function namesLines(event: Of<"who">, c: IrcContext): string[] {
  const ops = new Set(event.ops ?? []);
  const shown = event.names.map((name) => (ops.has(name) ? "@" : "") + name);
  const lines: string[] = [];
  // Twenty names a line keeps each line well under 512 bytes.
  for (let i = 0; i < shown.length; i += 20) {
    lines.push(numeric(c, "353", "=", channel(event.room), shown.slice(i, i + 20).join(" ")));
  }
  lines.push(numeric(c, "366", channel(event.room), "End of /NAMES list"));
  return lines;
}

function roomNews(
  event: Of<
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
    | "announcement"
  >,
  c: IrcContext,
): string[] {
  switch (event.type) {
    case "topic":
      return event.text === "" ? [numeric(c, "331", channel(event.room), "No topic is set")] : [
        numeric(c, "332", channel(event.room), event.text),
        numeric(c, "333", channel(event.room), event.by, String(Math.floor(c.now / 1000))),
      ];
    case "topic_set":
      return [`:${mask(event.by)} TOPIC ${channel(event.room)} :${event.text}`];
    case "kicked":
      return [
        `:${mask(event.by)} KICK ${channel(event.room)} ${event.name} :${event.reason || event.by}`,
      ];
    case "banned":
      if (event.room === "") return [roomNotice(c, "", banText(event, c.now))];
      return [`:${mask(event.by)} MODE ${channel(event.room)} +b ${banMask(event.name)}`];
    case "unbanned":
      return [`:${mask(event.by)} MODE ${channel(event.room)} -b ${banMask(event.name)}`];
    case "muted":
      return [
        roomNotice(
          c,
          event.room,
          `${event.name} was muted ${lasting(event.until, c.now)} by ${event.by}${
            because(event.reason)
          }`,
        ),
      ];
    case "unmuted":
      return [roomNotice(c, event.room, `${event.name} was unmuted by ${event.by}`)];
    case "opped":
      return [
        `:${mask(event.by)} MODE ${channel(event.room)} ${event.on ? "+o" : "-o"} ${event.name}`,
      ];
    case "owned":
      return [roomNotice(c, event.room, `${event.room} is now owned by ${event.owner}`)];
    case "released":
      return [roomNotice(c, event.room, `${event.room} is no longer registered`)];
    case "announcement":
      return [serverNotice(c, `announcement from ${event.by}: ${event.text}`)];
    default:
      return unreachable(event);
  }
}

/** `:marquee NNN me args... :last`. */
export function numeric(
  c: { me: string; server: string },
  code: string,
  ...args: string[]
): string {
  const last = args.pop() ?? "";
  return `:${c.server} ${code} ${[c.me, ...args].join(" ")} :${last}`;
}

export function serverNotice(c: IrcContext, text: string): string {
  return `:${c.server} NOTICE ${c.me} :${text}`;
}

export function roomNotice(c: IrcContext, room: string, text: string): string {
  return `:${c.server} NOTICE ${room === "" ? c.me : channel(room)} :${text}`;
}

function reasonParam(reason: string | undefined): string {
  return reason ? ` :${reason}` : "";
}

/** A name's ban as a mask (`bob!*@*`); an address's as `*!*@address`. */
export function banMask(whom: string): string {
  return /^[\d.:a-f]+$/i.test(whom) && /[.:]/.test(whom) ? `*!*@${whom}` : `${whom}!*@*`;
}

export function banText(
  event: { name: string; room: string; by: string; until: number; reason: string },
  now: number,
): string {
  const place = event.room === "" ? "the server" : event.room;
  return `${event.name} banned from ${place} by ${event.by} ${lasting(event.until, now)}${
    because(event.reason)
  }`;
}
