/**
 * Every IRC command a client may send, keyed by name: registration and
 * connection upkeep here (`CAP`, `NICK`, `USER`, `PASS`, `PING`, `QUIT`,
 * `MOTD`, `LUSERS`, `AWAY`...), the chat's commands in `chat_commands.ts`.
 * Each handler reads its parameters and either answers at once (what
 * needs no chat state) or tells the chat server; an unknown command is
 * `421`, too few parameters `461`, anything but registration before it
 * is done `451`.
 *
 * @module
 */

import type { ChatServerMessage, LiveFigures } from "../chat/server.ts";
import { NAME_PATTERN } from "../chat/protocol.ts";
import { capability, capList, type Caps } from "./caps.ts";
import { CHAT_COMMANDS } from "./chat_commands.ts";
import type { IrcMessage } from "./message.ts";
import { line, lines, reply, serverLine } from "./replies.ts";
import { lusers, motd } from "./welcome.ts";

/** What a session knows of its client. */
export interface IrcState {
  /** The `userN` name given at connect. */
  readonly assigned: string;
  /** The server's name in every line it sends (`--irc-name`). */
  readonly server: string;
  /** The nick the chat knows the user by ("*" in numerics until welcomed:
   * see `shown`). */
  nick: string;
  /** The nick asked for at registration. */
  wanted?: string;
  /** `USER`'s user name and real name, once sent. */
  user?: string;
  realname?: string;
  caps: Caps;
  /** `CAP LS` began a negotiation that `CAP END` has not ended. */
  negotiating: boolean;
  /** Joined to the chat (registration sent). */
  joined: boolean;
  /** `001` sent. */
  welcomed: boolean;
  away?: string;
  /** A SASL `PLAIN` exchange under way: its payload so far. */
  sasl?: string;
}

/** What a handler may do: the session's side of a command. */
export interface Chat {
  readonly state: IrcState;
  readonly id: number;
  /** Bytes to the client. */
  send(bytes: Uint8Array): void;
  /** A message to the chat server. */
  tell(message: ChatServerMessage): void | Promise<void>;
  /** Registration may be complete: join the chat if so. */
  register(): void | Promise<void>;
  quit(reason: string): void | Promise<void>;
  /** Logs in to an account (SASL), joining the chat first if need be. */
  login(account: string, password: string): void | Promise<void>;
  /** Capabilities changed after registration. */
  capsChanged(): void | Promise<void>;
  figures(): Promise<LiveFigures | undefined>;
}

/** A command's handler; `params` has at least the command's minimum, and
 * `message` is the whole line (its client tags). */
export type IrcHandler = (
  chat: Chat,
  params: string[],
  message: IrcMessage,
) => void | Promise<void>;

/** A command, its minimum of parameters, and whether it may come before
 * registration. */
export interface IrcCommandSpec {
  min: number;
  early?: boolean;
  run: IrcHandler;
}

/** Commands of registration and upkeep. */
const UPKEEP: Record<string, IrcCommandSpec> = {
  CAP: { min: 1, early: true, run: cap },
  NICK: { min: 0, early: true, run: nickCommand },
  USER: { min: 4, early: true, run: userCommand },
  PASS: { min: 1, early: true, run: (chat) => alreadyRegistered(chat) },
  PING: {
    min: 1,
    early: true,
    // Once registered, through the chat: the PONG comes after everything
    // the chat had to send first (an OPER's answer, a nick's), as a client
    // that pings to synchronise expects.
    run: (chat, [token]) =>
      chat.state.welcomed
        ? chat.tell({ type: "command", id: chat.id, command: { name: "ping", token: token ?? "" } })
        : chat.send(serverLine(chat.state.server, "PONG", chat.state.server, token ?? "")),
  },
  PONG: { min: 0, early: true, run: () => {} },
  QUIT: { min: 0, early: true, run: (chat, [reason]) => chat.quit(reason ?? "") },
  MOTD: { min: 0, run: (chat) => chat.send(lines(motd(chat.state))) },
  LUSERS: {
    min: 0,
    run: async (chat) => chat.send(lines(lusers(chat.state, await chat.figures()))),
  },
  AWAY: { min: 0, run: away },
  TIME: {
    min: 0,
    run: (chat) => chat.send(reply(chat.state, "391", chat.state.server, new Date().toUTCString())),
  },
  VERSION: {
    min: 0,
    run: (chat) => chat.send(reply(chat.state, "351", "marquee-1", "marquee", "Marquee chat")),
  },
  AUTHENTICATE: { min: 1, early: true, run: authenticate },
};

const ALL: Record<string, IrcCommandSpec> = { ...UPKEEP, ...CHAT_COMMANDS };

/** Runs one line's command. */
export function ircCommand(chat: Chat, message: IrcMessage): void | Promise<void> {
  const spec = Object.hasOwn(ALL, message.command) ? ALL[message.command] : undefined;
  if (spec === undefined) {
    if (!chat.state.welcomed) return chat.send(reply(chat.state, "451", "You have not registered"));
    return chat.send(reply(chat.state, "421", message.command, "Unknown command"));
  }
  if (!spec.early && !chat.state.welcomed) {
    return chat.send(reply(chat.state, "451", "You have not registered"));
  }
  if (message.params.length < spec.min) {
    return chat.send(reply(chat.state, "461", message.command, "Not enough parameters"));
  }
  return spec.run(chat, message.params, message);
}

function cap(chat: Chat, params: string[]): void | Promise<void> {
  const s = chat.state;
  const nick = s.welcomed ? s.nick : "*";
  const server = s.server;
  const sub = (params[0] ?? "").toUpperCase();
  switch (sub) {
    case "LS":
      if (!s.welcomed) s.negotiating = true;
      return chat.send(line(`:${server} CAP ${nick} LS :${capList(params[1] === "302")}`));
    case "LIST":
      return chat.send(line(`:${server} CAP ${nick} LIST :${[...s.caps].join(" ")}`));
    case "REQ": {
      if (!s.welcomed) s.negotiating = true;
      const asked = params[1] ?? "";
      const granted = capability(s.caps, asked);
      chat.send(line(`:${server} CAP ${nick} ${granted ? "ACK" : "NAK"} :${asked}`));
      if (granted && s.joined) return chat.capsChanged();
      return;
    }
    case "END":
      if (s.welcomed) return;
      s.negotiating = false;
      return chat.register();
    default:
      return chat.send(reply(chat.state, "410", sub, "Invalid CAP command"));
  }
}

function nickCommand(chat: Chat, params: string[]): void | Promise<void> {
  const s = chat.state;
  const wanted = params[0];
  if (wanted === undefined || wanted === "") {
    return chat.send(reply(chat.state, "431", "No nickname given"));
  }
  if (!NAME_PATTERN.test(wanted)) {
    return chat.send(
      reply(chat.state, "432", wanted, "Erroneous nickname: letters, digits, _ and -, up to 24"),
    );
  }
  s.wanted = wanted;
  if (!s.joined) return chat.register();
  if (wanted === s.nick) return;
  return chat.tell({ type: "command", id: chat.id, command: { name: "nick", nick: wanted } });
}

function userCommand(chat: Chat, params: string[]): void | Promise<void> {
  if (chat.state.user !== undefined) return alreadyRegistered(chat);
  const [user, , , realname] = params;
  if (user === "" || realname === "") {
    return chat.send(reply(chat.state, "461", "USER", "Not enough parameters"));
  }
  chat.state.user = user;
  chat.state.realname = realname;
  return chat.register();
}

function alreadyRegistered(chat: Chat): void {
  if (!chat.state.joined) return;
  chat.send(reply(chat.state, "462", "You may not reregister"));
}

/** The longest SASL payload accepted (a name, a password and two NULs
 * fit many times over). */
const MAX_SASL_BYTES = 1200;

/** SASL `PLAIN` (RFC 4616) against the chat's accounts: `AUTHENTICATE
 * PLAIN`, then the base64 of `authzid NUL name NUL password`, in chunks of
 * 400. The chat answers `900`/`903`, or `904`. */
function authenticate(chat: Chat, [arg]: string[]): void | Promise<void> {
  const s = chat.state;
  if (!s.caps.has("sasl")) return chat.send(reply(s, "904", "SASL authentication failed"));
  if (arg === "*") {
    s.sasl = undefined;
    return chat.send(reply(s, "906", "SASL authentication aborted"));
  }
  if (s.sasl === undefined) {
    if (arg!.toUpperCase() !== "PLAIN") {
      chat.send(reply(s, "908", "PLAIN", "are available SASL mechanisms"));
      return chat.send(reply(s, "904", "SASL authentication failed"));
    }
    s.sasl = "";
    return chat.send(line("AUTHENTICATE +"));
  }
  if (arg !== "+") s.sasl += arg;
  if (s.sasl.length > MAX_SASL_BYTES) {
    s.sasl = undefined;
    return chat.send(reply(s, "905", "SASL message too long"));
  }
  if (arg!.length === 400) return; // more to come
  const payload = s.sasl;
  s.sasl = undefined;
  const fields = decodePlain(payload);
  if (fields === undefined) return chat.send(reply(s, "904", "SASL authentication failed"));
  return chat.login(fields.account, fields.password);
}

/** `authzid NUL authcid NUL password`, base64; the authzid, if given, must
 * be the authcid (nobody logs in as someone else). */
function decodePlain(payload: string): { account: string; password: string } | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
  const [authzid, account, password, extra] = text.split("\0");
  if (account === undefined || password === undefined || extra !== undefined) return undefined;
  if (authzid !== "" && authzid !== account) return undefined;
  if (!NAME_PATTERN.test(account) || password === "") return undefined;
  return { account, password };
}

/** `AWAY [:text]`: answered here; the chat keeps it, for `301` to whoever
 * messages or `WHOIS`es the user (not across linked servers, and no
 * `away-notify`). */
function away(chat: Chat, params: string[]): void | Promise<void> {
  const text = params[0] ?? "";
  chat.state.away = text === "" ? undefined : text;
  chat.send(
    text === ""
      ? reply(chat.state, "305", "You are no longer marked as being away")
      : reply(chat.state, "306", "You have been marked as being away"),
  );
  return chat.tell({ type: "command", id: chat.id, command: { name: "away", text } });
}
