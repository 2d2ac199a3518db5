/**
 * Everything a user can type, parsed in one place into a typed union.
 *
 * Adding a command is adding an entry to `COMMANDS`: its parser, its usage
 * and its one-line summary. `/help` is generated from the same table, so it
 * cannot drift from what the parser accepts. The parser checks only the
 * shape of a command; whether a name is free or a user exists is the chat
 * server's business, since only it knows.
 *
 * @module
 */

import {
  login,
  MAX_QUIT_REASON_CHARS,
  NAME_RULE,
  nameAndRest,
  oneName,
  password,
  ROOM_RULE,
  sanction,
  target,
  words,
} from "./command_args.ts";
import type { Rank } from "./community.ts";
import { NAME_PATTERN } from "./protocol.ts";

export { MAX_QUIT_REASON_CHARS, PASSWORD_CHARS } from "./command_args.ts";

/** A parsed command. */
export type Command =
  | { name: "nick"; nick: string }
  | { name: "who" }
  | { name: "me"; action: string }
  /** `tags`: an IRC client's own tags (IRCv3 `message-tags`), as sent. */
  | { name: "msg"; to: string; text: string; tags?: string }
  | { name: "join"; room: string }
  | { name: "rooms" }
  | { name: "help" }
  | { name: "history"; limit?: number; before?: string; more?: boolean }
  | { name: "quit"; reason: string }
  | { name: "register"; password: string }
  | { name: "login"; account: string; password: string }
  | { name: "logout" }
  | { name: "password"; old: string; password: string }
  | { name: "unregister"; password: string }
  | { name: "oper"; account: string; password: string }
  | { name: "whois"; target: string }
  | { name: "topic"; text: string }
  | { name: "kick"; target: string; reason: string }
  | { name: "ban"; target: string; ms: number; reason: string }
  | { name: "unban"; target: string }
  | { name: "mute"; target: string; ms: number; reason: string }
  | { name: "unmute"; target: string }
  | { name: "bans" }
  | { name: "op"; target: string }
  | { name: "deop"; target: string }
  | { name: "kill"; target: string; reason: string }
  | { name: "gban"; target: string; ms: number; reason: string }
  | { name: "ungban"; target: string }
  | { name: "announce"; text: string };

/** What only an IRC client sends: its user is in any number of rooms, and
 * the room a command is about travels beside it (nobody types these). */
export type RoomCommand =
  /** `JOIN #room`: in `room` too. */
  | { name: "enter"; room: string }
  /** `PART`: out of the command's room. */
  | { name: "part"; reason: string }
  /** `JOIN 0`: out of every room. */
  | { name: "part_all" }
  /** `NAMES` (or `WHO`, `detail`) of the command's room. */
  | { name: "names"; detail: boolean }
  /** `WHO MASK`: the users whose names match (`*` any characters). */
  | { name: "who_mask"; mask: string }
  /** `USERHOST` or `ISON`: which of `names` are online, and how. */
  | { name: "lookup"; names: string[]; as: "userhost" | "ison" }
  /** `NOTICE nick :text`: a private message nobody answers. */
  | { name: "notice"; to: string; text: string; tags?: string }
  /** IRCv3 `TAGMSG`: client tags alone, to the command's room or `to`. */
  | { name: "tagmsg"; tags: string; to?: string }
  /** `AWAY [:text]`: away with `text`, or back ("") (nothing comes back:
   * the session answers). */
  | { name: "away"; text: string }
  /** `CHATHISTORY`: up to `limit` kept lines of the command's room, before
   * `before` (ms) or the latest. */
  | { name: "chathistory"; limit: number; before?: number }
  /** `PING` once registered: answered in order with what the chat sends. */
  | { name: "ping"; token: string };

/** The commands the chat server handles (`/quit` ends at the session). */
export type ServerCommand = Exclude<Command, { name: "quit" }> | RoomCommand;

/** A line from a user, classified. */
export type Input =
  | { type: "say"; text: string }
  | { type: "command"; command: Command }
  | { type: "invalid"; reason: string };

interface CommandSpec {
  usage: string;
  /** Who may use it (and sees it in `/help`): everyone, a room's ops and
   * owner, its owner, or server operators. */
  who: Rank;
  summary: string;
  /** Returns the command, or the reason the arguments are refused. */
  parse(args: string): Command | string;
}

/** The command table, in the order `/help` lists it. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  nick: {
    who: "user",
    usage: "/nick NAME",
    summary: "change your name",
    parse: (args) => {
      if (args === "") return "usage: /nick NAME";
      return NAME_PATTERN.test(args) ? { name: "nick", nick: args } : `invalid name: ${NAME_RULE}`;
    },
  },
  who: {
    who: "user",
    usage: "/who",
    summary: "list the users in your room and count everyone online",
    parse: () => ({ name: "who" }),
  },
  me: {
    who: "user",
    usage: "/me ACTION",
    summary: "describe an action: /me waves shows * NAME waves",
    parse: (args) => args === "" ? "usage: /me ACTION" : { name: "me", action: args },
  },
  msg: {
    who: "user",
    usage: "/msg NAME TEXT",
    summary: "send a private message to one user",
    parse: (args) => {
      const space = args.search(/\s/);
      const text = space === -1 ? "" : args.slice(space).trimStart();
      if (text === "") return "usage: /msg NAME TEXT";
      return { name: "msg", to: args.slice(0, space), text };
    },
  },
  join: {
    who: "user",
    usage: "/join ROOM",
    summary: "move to another room (created if it does not exist)",
    parse: (args) => {
      if (args === "") return "usage: /join ROOM";
      return NAME_PATTERN.test(args) ? { name: "join", room: args } : `invalid room: ${ROOM_RULE}`;
    },
  },
  rooms: {
    who: "user",
    usage: "/rooms",
    summary: "list the rooms and how many are in each",
    parse: () => ({ name: "rooms" }),
  },
  help: {
    who: "user",
    usage: "/help",
    summary: "show this list",
    parse: () => ({ name: "help" }),
  },
  history: {
    who: "user",
    usage: "/history [N] [before HH:MM|more]",
    summary: "show up to N (max 200) earlier lines of your room; more: the page before",
    parse: (args) => {
      const usage = "usage: /history [N] [before HH:MM|more]";
      const more = /^(?:(\d{1,6})\s+)?more$/i.exec(args);
      if (more) {
        if (more[1] !== undefined && Number(more[1]) === 0) return usage;
        return { name: "history", limit: more[1] ? Number(more[1]) : undefined, more: true };
      }
      const match = /^(?:(\d{1,6}))?\s*(?:before\s+(\S+))?$/i.exec(args);
      // 0 lines in any spelling (00) is no request: a store may read it as "all".
      if (match === null || (match[1] !== undefined && Number(match[1]) === 0)) return usage;
      const limit = match[1] === undefined ? undefined : Number(match[1]);
      return { name: "history", limit, before: match[2] };
    },
  },
  quit: {
    who: "user",
    usage: "/quit [REASON]",
    summary: "leave the chat, optionally saying why",
    parse: (args) => ({ name: "quit", reason: quitReason(args) }),
  },
  register: {
    who: "user",
    usage: "/register PASSWORD",
    summary: "register your current name, so only you can use it",
    parse: (args) =>
      password(args, "/register PASSWORD", (pw) => ({ name: "register", password: pw })),
  },
  login: {
    who: "user",
    usage: "/login NAME PASSWORD",
    summary: "log in to your registered name (also /identify)",
    parse: (args) => login(args, "login"),
  },
  identify: {
    who: "user",
    usage: "/identify NAME PASSWORD",
    summary: "the same as /login",
    parse: (args) => login(args, "login"),
  },
  logout: {
    who: "user",
    usage: "/logout",
    summary: "log out (you get your userN name back)",
    parse: () => ({ name: "logout" }),
  },
  password: {
    who: "user",
    usage: "/password OLD NEW",
    summary: "change your password",
    parse: (args) => {
      const [old, next, extra] = words(args);
      if (old === undefined || next === undefined || extra !== undefined) {
        return "usage: /password OLD NEW";
      }
      return password(next, "/password OLD NEW", (pw) => ({ name: "password", old, password: pw }));
    },
  },
  unregister: {
    who: "user",
    usage: "/unregister PASSWORD",
    summary: "delete your account (rooms you own are released)",
    parse: (args) =>
      args === "" || /\s/.test(args)
        ? "usage: /unregister PASSWORD"
        : { name: "unregister", password: args },
  },
  whois: {
    who: "user",
    usage: "/whois NAME",
    summary: "who NAME is: registered or not, room, idle time",
    parse: (args) => oneName(args, "/whois NAME", (target) => ({ name: "whois", target })),
  },
  topic: {
    who: "user",
    usage: "/topic [TEXT]",
    summary: "show your room's topic; ops: set it",
    parse: (args) => ({ name: "topic", text: args }),
  },
  kick: {
    who: "op",
    usage: "/kick NAME [REASON]",
    summary: "send NAME out of your room (to the lobby)",
    parse: (args) => {
      const [target, reason] = nameAndRest(args);
      if (target === "") return "usage: /kick NAME [REASON]";
      return NAME_PATTERN.test(target)
        ? { name: "kick", target, reason }
        : `invalid name: ${NAME_RULE}`;
    },
  },
  ban: {
    who: "op",
    usage: "/ban NAME|ADDRESS [DURATION] [REASON]",
    summary: "keep NAME out of your room (10m, 2h, 7d; no duration: for good)",
    parse: (args) => sanction(args, "ban", "/ban NAME|ADDRESS [DURATION] [REASON]", true),
  },
  unban: {
    who: "op",
    usage: "/unban NAME|ADDRESS",
    summary: "lift a ban in your room",
    parse: (args) =>
      target(args, "/unban NAME|ADDRESS", true, (t) => ({ name: "unban", target: t })),
  },
  mute: {
    who: "op",
    usage: "/mute NAME [DURATION] [REASON]",
    summary: "NAME may read but not speak in your room",
    parse: (args) => sanction(args, "mute", "/mute NAME [DURATION] [REASON]", false),
  },
  unmute: {
    who: "op",
    usage: "/unmute NAME",
    summary: "let NAME speak again",
    parse: (args) => target(args, "/unmute NAME", false, (t) => ({ name: "unmute", target: t })),
  },
  bans: {
    who: "op",
    usage: "/bans",
    summary: "list the bans and mutes of your room",
    parse: () => ({ name: "bans" }),
  },
  op: {
    who: "owner",
    usage: "/op NAME",
    summary: "make an op of your room (a registered user, if it is owned)",
    parse: (args) => oneName(args, "/op NAME", (t) => ({ name: "op", target: t })),
  },
  deop: {
    who: "owner",
    usage: "/deop NAME",
    summary: "take op away",
    parse: (args) => oneName(args, "/deop NAME", (t) => ({ name: "deop", target: t })),
  },
  oper: {
    who: "user",
    usage: "/oper NAME PASSWORD",
    summary: "become a server operator (names and passwords set by the server's admin)",
    parse: (args) => {
      const [account, pw, extra] = words(args);
      if (account === undefined || pw === undefined || extra !== undefined) {
        return "usage: /oper NAME PASSWORD";
      }
      return { name: "oper", account, password: pw };
    },
  },
  kill: {
    who: "operator",
    usage: "/kill NAME REASON",
    summary: "disconnect NAME, on any server",
    parse: (args) => {
      const [target, reason] = nameAndRest(args);
      if (target === "" || reason === "") return "usage: /kill NAME REASON";
      return NAME_PATTERN.test(target)
        ? { name: "kill", target, reason }
        : `invalid name: ${NAME_RULE}`;
    },
  },
  gban: {
    who: "operator",
    usage: "/gban NAME|ADDRESS [DURATION] [REASON]",
    summary: "ban from the whole server: refused at connect",
    parse: (args) => sanction(args, "gban", "/gban NAME|ADDRESS [DURATION] [REASON]", true),
  },
  ungban: {
    who: "operator",
    usage: "/ungban NAME|ADDRESS",
    summary: "lift a server ban",
    parse: (args) =>
      target(args, "/ungban NAME|ADDRESS", true, (t) => ({ name: "ungban", target: t })),
  },
  announce: {
    who: "operator",
    usage: "/announce TEXT",
    summary: "tell everyone, in every room",
    parse: (args) => args === "" ? "usage: /announce TEXT" : { name: "announce", text: args },
  },
};

/** Help text for someone of rank `rank`, one entry per line, generated from
 * {@linkcode COMMANDS}: only what they may use. */
export function helpLines(rank: Rank = "user"): string[] {
  const order: Rank[] = ["user", "op", "owner", "operator"];
  const mine = order.slice(0, order.indexOf(rank) + 1);
  const entries = Object.values(COMMANDS).filter((spec) => mine.includes(spec.who)).map((
    spec,
  ) => [spec.usage, spec.summary]);
  entries.push(["//TEXT", "send a line that starts with / as chat"]);
  const width = Math.max(...entries.map(([usage]) => (usage as string).length));
  return [
    "commands:",
    ...entries.map(([usage, summary]) => `  ${usage?.padEnd(width)}  ${summary}`),
  ];
}

/**
 * Classifies a sanitised, non-empty line.
 *
 * @example
 * ```ts
 * import { parseInput } from "./commands.ts";
 * parseInput("/NICK alice"); // { type: "command", command: { name: "nick", nick: "alice" } }
 * parseInput("//shrug");    // { type: "say", text: "/shrug" }
 * parseInput("/dance");     // { type: "invalid", reason: "unknown command /dance (try /help)" }
 * ```
 */
export function parseInput(line: string): Input {
  if (!line.startsWith("/")) return { type: "say", text: line };
  if (line.startsWith("//")) return { type: "say", text: line.slice(1) };
  const match = /^\/(\S*)\s*(.*)$/s.exec(line) as RegExpExecArray;
  const word = match[1] as string;
  const spec = Object.hasOwn(COMMANDS, word.toLowerCase())
    ? COMMANDS[word.toLowerCase()]
    : undefined;
  if (spec === undefined) {
    return { type: "invalid", reason: `unknown command /${word} (try /help)` };
  }
  const parsed = spec.parse((match[2] as string).trim());
  return typeof parsed === "string"
    ? { type: "invalid", reason: parsed }
    : { type: "command", command: parsed };
}

/** A quit reason as shown, cut to its length; one that reads like the
 * reason of a kill, ban or kick (`killed by boss: spamming`) is dropped,
 * so nobody can leave looking thrown out. */
function quitReason(args: string): string {
  if (/^(?:killed|banned|kicked) by /i.test(args)) return "";
  return [...args].slice(0, MAX_QUIT_REASON_CHARS).join("");
}
