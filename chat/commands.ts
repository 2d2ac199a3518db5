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

import { NAME_PATTERN } from "./protocol.ts";

/** A parsed command. */
export type Command =
  | { name: "nick"; nick: string }
  | { name: "who" }
  | { name: "me"; action: string }
  | { name: "msg"; to: string; text: string }
  | { name: "join"; room: string }
  | { name: "rooms" }
  | { name: "help" }
  | { name: "history"; limit?: number; before?: string; more?: boolean }
  | { name: "quit"; reason: string };

/** A line from a user, classified. */
export type Input =
  | { type: "say"; text: string }
  | { type: "command"; command: Command }
  | { type: "invalid"; reason: string };

interface CommandSpec {
  usage: string;
  summary: string;
  /** Returns the command, or the reason the arguments are refused. */
  parse(args: string): Command | string;
}

const NAME_RULE = "names are one word of 1-24 ASCII letters, digits, _ or -";
const ROOM_RULE = "room names are one word of 1-24 ASCII letters, digits, _ or -";

/** Longest quit reason shown (characters): room for a goodbye, not for an
 * advert. */
export const MAX_QUIT_REASON_CHARS = 80;

/** The command table, in the order `/help` lists it. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  nick: {
    usage: "/nick NAME",
    summary: "change your name",
    parse: (args) => {
      if (args === "") return "usage: /nick NAME";
      return NAME_PATTERN.test(args) ? { name: "nick", nick: args } : `invalid name: ${NAME_RULE}`;
    },
  },
  who: {
    usage: "/who",
    summary: "list the users in your room and count everyone online",
    parse: () => ({ name: "who" }),
  },
  me: {
    usage: "/me ACTION",
    summary: "describe an action: /me waves shows * NAME waves",
    parse: (args) => args === "" ? "usage: /me ACTION" : { name: "me", action: args },
  },
  msg: {
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
    usage: "/join ROOM",
    summary: "move to another room (created if it does not exist)",
    parse: (args) => {
      if (args === "") return "usage: /join ROOM";
      return NAME_PATTERN.test(args) ? { name: "join", room: args } : `invalid room: ${ROOM_RULE}`;
    },
  },
  rooms: {
    usage: "/rooms",
    summary: "list the rooms and how many are in each",
    parse: () => ({ name: "rooms" }),
  },
  help: {
    usage: "/help",
    summary: "show this list",
    parse: () => ({ name: "help" }),
  },
  history: {
    usage: "/history [N] [before HH:MM|more]",
    summary: "show up to N (max 200) earlier lines of your room; more: the page before",
    parse: (args) => {
      const more = /^(?:(\d{1,6})\s+)?more$/i.exec(args);
      if (more) {
        return { name: "history", limit: more[1] ? Number(more[1]) : undefined, more: true };
      }
      const match = /^(?:(\d{1,6}))?\s*(?:before\s+(\S+))?$/i.exec(args);
      if (match === null || match[1] === "0") return "usage: /history [N] [before HH:MM|more]";
      const limit = match[1] === undefined ? undefined : Number(match[1]);
      return { name: "history", limit, before: match[2] };
    },
  },
  quit: {
    usage: "/quit [REASON]",
    summary: "leave the chat, optionally saying why",
    parse: (args) => ({ name: "quit", reason: [...args].slice(0, MAX_QUIT_REASON_CHARS).join("") }),
  },
};

/** Help text, one entry per line, generated from {@linkcode COMMANDS}. */
export function helpLines(): string[] {
  const entries = Object.values(COMMANDS).map((spec) => [spec.usage, spec.summary]);
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
