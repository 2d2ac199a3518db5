/**
 * The IRC face's lines for what one user is told: `WHOIS` replies, ban
 * lists, history replayed, and refusals as the numerics IRC clients know
 * (`401`, `433`, `442`, `482`...), or a server `NOTICE` where IRC has none.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import { because, lasting, noticeText, type Person, type Refusal, refusalText } from "./events.ts";
import type { HistoryLine } from "./ports.ts";
import {
  banMask,
  banText,
  channel,
  IRC_SERVER,
  type IrcContext,
  mask,
  numeric,
  type Of,
  roomNotice,
  serverNotice,
} from "./render_irc.ts";
import { whoisText } from "./render_text.ts";

/** What only one user is told. */
export function toOne(
  event: Of<
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
    | "pong"
  >,
  c: IrcContext,
): string[] {
  switch (event.type) {
    case "whois":
      return whoisLines(event, c);
    case "whois_told":
      return [serverNotice(c, event.text)];
    case "away":
      return [numeric(c, "301", event.name, event.text)];
    case "people":
      if (event.as === "ison") {
        return [numeric(c, "303", event.people.map((p) => p.name).join(" "))];
      }
      if (event.as === "userhost") {
        const hosts = event.people.map((p) =>
          `${p.name}${p.oper ? "*" : ""}=${p.away ? "-" : "+"}${p.user ?? p.name}@${IRC_SERVER}`
        );
        return [numeric(c, "302", hosts.join(" "))];
      }
      return [
        ...event.people.map((p) => whoLine(p, event.room, c)),
        numeric(c, "315", event.mask, "End of /WHO list"),
      ];
    case "bans":
      return [
        ...event.entries.filter((e) => e.what === "banned").map((e) =>
          numeric(c, "367", channel(event.room), banMask(e.whom), e.by, "0")
        ),
        numeric(c, "368", channel(event.room), "End of channel ban list"),
        ...event.entries.filter((e) => e.what === "muted").map((e) =>
          serverNotice(c, `${e.whom} is muted in ${event.room} by ${e.by}${because(e.reason)}`)
        ),
      ];
    case "history":
      if (c.batch) return historyBatch(event.room, event.lines, c);
      return event.lines.map((line) => historyLine(event.room, line, c));
    case "you_are_banned":
      if (event.place === "this server") {
        return [`ERROR :${banText({ ...event, name: "you", room: "" }, c.now)}`];
      }
      return [
        numeric(
          c,
          "474",
          channel(event.place),
          `Cannot join channel (+b): ${sanctioned(event, c)}`,
        ),
      ];
    case "you_are_muted":
      return [
        numeric(
          c,
          "404",
          channel(event.room),
          `Cannot send to channel: you are muted ${sanctioned(event, c)}`,
        ),
      ];
    case "you_were_kicked":
      return [
        `:${mask(event.by)} KICK ${channel(event.room)} ${c.me} :${event.reason || event.by}`,
      ];
    case "notice":
      // Only SASL logs an IRC client in.
      if (event.notice.notice === "logged_in") return loggedInLines(event.notice.name, c);
      // A page past the oldest line: an empty batch says so.
      if (event.notice.notice === "no_earlier_lines" && c.batch) {
        return historyBatch(event.notice.room, [], c);
      }
      if (event.notice.notice === "oper") {
        return [numeric(c, "381", "You are now an IRC operator"), `:${c.me} MODE ${c.me} :+o`];
      }
      return [serverNotice(c, noticeText(event.notice))];
    case "refusal":
      return [refusalLine(event.refusal, c)];
    case "shutdown":
      return ["ERROR :server shutting down"];
    case "pong":
      return [`:${c.server} PONG ${c.server} :${event.token}`];
    default:
      return unreachable(event);
  }
}

/** The numeric for a refusal where IRC has one, else a server notice. */
function refusalLine(refusal: Refusal, c: IrcContext): string {
  const text = refusalText(refusal);
  switch (refusal.refusal) {
    case "no_such_user":
      if (!refusal.whois) return numeric(c, "401", refusal.name, "No such nick/channel");
      return `${numeric(c, "401", refusal.name, "No such nick/channel")}\r\n${
        numeric(c, "318", refusal.name, "End of /WHOIS list")
      }`;
    case "name_taken":
    case "name_registered":
    case "name_like_registered":
      return numeric(c, "433", refusal.name, text);
    case "name_reserved":
    case "name_banned":
      return numeric(c, "432", refusal.name, text);
    case "not_on_channel":
      return numeric(c, "442", channel(refusal.room), "You're not on that channel");
    case "too_many_rooms":
      return numeric(c, "405", channel(refusal.room), "You have joined too many channels");
    case "cannot_send":
      return numeric(c, "404", channel(refusal.room), "Cannot send to channel");
    case "no_such_channel":
      return numeric(c, "403", channel(refusal.room), "No such channel");
    case "not_in_room":
      return numeric(c, "441", refusal.name, channel(refusal.room), "They aren't on that channel");
    case "rank_needed":
      return refusal.who === "server operators"
        ? numeric(c, "481", `Permission Denied- ${text}`)
        : numeric(c, "482", channel(c.room ?? ""), `You're not channel operator: ${text}`);
    case "wrong_credentials":
      if (!refusal.oper) return numeric(c, "904", `SASL authentication failed: ${text}`);
      return numeric(c, "464", text);
    case "account_in_use":
    case "too_many_failures":
      return numeric(c, "904", `SASL authentication failed: ${text}`);
    case "wrong_password":
      return numeric(c, "464", text);
    case "line_too_long":
      return numeric(c, "417", "Input line was too long");
    case "flooding":
    case "idle":
    case "not_reading":
    case "busy":
    case "killed":
    case "kicked_off":
    case "banned_off":
      return `ERROR :${text}`;
    default:
      return serverNotice(c, text);
  }
}

/** `352`: one user, as `WHO` shows it (`H`ere or `G`one, `*` an
 * operator, `@` an op of the room). */
function whoLine(p: Person, room: string | undefined, c: IrcContext): string {
  const flags = `${p.away ? "G" : "H"}${p.oper ? "*" : ""}${p.op ? "@" : ""}`;
  const where = room === undefined ? "*" : channel(room);
  const { name } = p;
  return numeric(
    c,
    "352",
    where,
    p.user ?? name,
    IRC_SERVER,
    c.server,
    name,
    flags,
    `0 ${p.realname ?? name}`,
  );
}

/** `900` and `903`: a SASL login went through. */
function loggedInLines(account: string, c: IrcContext): string[] {
  return [
    numeric(c, "900", mask(c.me), account, `You are now logged in as ${account}`),
    numeric(c, "903", "SASL authentication successful"),
  ];
}

function whoisLines(event: Of<"whois">, c: IrcContext): string[] {
  const f = event.facts;
  const lines = [
    numeric(c, "311", f.name, f.user ?? f.name, IRC_SERVER, "*", f.realname ?? f.name),
    numeric(c, "312", f.name, c.server, "Marquee"),
  ];
  const rooms = f.rooms ?? (f.room === "" ? [] : [f.room]);
  const ops = new Set(f.opIn);
  const shown = rooms.map((r) => (ops.has(r) ? "@" : "") + channel(r));
  if (rooms.length > 0) lines.push(numeric(c, "319", f.name, shown.join(" ")));
  if (f.away !== undefined) lines.push(numeric(c, "301", f.name, f.away));
  if (f.oper) lines.push(numeric(c, "313", f.name, "is a server operator"));
  if (f.account !== undefined) lines.push(numeric(c, "330", f.name, f.account, "is logged in as"));
  if (f.idleMs !== undefined) {
    const idle = String(Math.floor(f.idleMs / 1000));
    lines.push(
      f.since === undefined ? numeric(c, "317", f.name, idle, "seconds idle") : numeric(
        c,
        "317",
        f.name,
        idle,
        String(Math.floor(f.since / 1000)),
        "seconds idle, signon time",
      ),
    );
  }
  if (f.unanswered) lines.push(serverNotice(c, whoisText(f)));
  lines.push(numeric(c, "318", f.name, "End of /WHOIS list"));
  return lines;
}

/** Kept lines as one IRCv3 `chathistory` batch, each with its own time. */
function historyBatch(room: string, lines: HistoryLine[], c: IrcContext): string[] {
  const id = `h${c.now.toString(36)}`;
  const at = `@time=${new Date(c.now).toISOString()} `;
  return [
    `${at}:${c.server} BATCH +${id} chathistory ${channel(room)}`,
    ...lines.map((line) => {
      const text = line.action ? `\x01ACTION ${line.text}\x01` : line.text;
      const when = new Date(line.at).toISOString();
      return `@batch=${id};time=${when} :${mask(line.from)} PRIVMSG ${channel(room)} :${text}`;
    }),
    `${at}:${c.server} BATCH -${id}`,
  ];
}

/** A kept line replayed: as said then, with its time when the client reads
 * `server-time`, else as a notice that says when. */
function historyLine(room: string, line: HistoryLine, c: IrcContext): string {
  const text = line.action ? `\x01ACTION ${line.text}\x01` : line.text;
  if (c.tags) {
    // Its own time, not now's.
    return `@time=${new Date(line.at).toISOString()} :${mask(line.from)} PRIVMSG ${
      channel(room)
    } :${text}`;
  }
  const when = new Date(line.at).toISOString().slice(0, 16).replace("T", " ");
  return roomNotice(
    c,
    room,
    `[${when}] <${line.from}> ${line.action ? `* ${line.text}` : line.text}`,
  );
}

function sanctioned(
  event: { by: string; until: number; reason: string },
  c: IrcContext,
): string {
  return `by ${event.by} ${lasting(event.until, c.now)}${because(event.reason)}`;
}
