/**
 * The IRC commands that are the chat's commands: each becomes a message
 * to the chat server, with the room (`#games` → `games`) a channel
 * command is about beside it. What comes back is rendered by the IRC
 * face; these handlers only check the shape IRC gives each command.
 *
 * @module
 */

import type { ServerCommand } from "../chat/commands.ts";
import { sanitize } from "../chat/sanitize.ts";
import type { Chat, IrcCommandSpec } from "./commands.ts";
import { ctcp, type IrcMessage, roomOfChannel } from "./message.ts";
import { line, reply, serverLine } from "./replies.ts";

/** The longest reason kept with a kick, ban or part, in characters. */
const MAX_REASON_CHARS = 200;

/** The commands, by name. */
export const CHAT_COMMANDS: Record<string, IrcCommandSpec> = {
  JOIN: { min: 1, run: join },
  PART: { min: 1, run: part },
  PRIVMSG: {
    min: 0,
    run: (chat, params, message) => talk(chat, params, false, tagsOf(chat, message)),
  },
  TAGMSG: { min: 1, run: tagmsg },
  NOTICE: {
    min: 0,
    run: (chat, params, message) => talk(chat, params, true, tagsOf(chat, message)),
  },
  NAMES: { min: 0, run: names },
  WHO: { min: 0, run: who },
  WHOIS: {
    min: 1,
    run: (chat, params) => command(chat, { name: "whois", target: params.at(-1) as string }),
  },
  LIST: { min: 0, run: (chat) => command(chat, { name: "rooms" }) },
  TOPIC: { min: 1, run: topic },
  KICK: { min: 2, run: kick },
  MODE: { min: 1, run: mode },
  OPER: {
    min: 2,
    run: (chat, [account, password]) =>
      command(chat, { name: "oper", account: account!, password: password! }),
  },
  CHATHISTORY: { min: 3, run: chathistory },
  // At most five names, as IRC has it.
  USERHOST: {
    min: 1,
    run: (chat, names) =>
      command(chat, { name: "lookup", names: names.slice(0, 5), as: "userhost" }),
  },
  ISON: {
    min: 1,
    run: (chat, names) =>
      command(chat, {
        name: "lookup",
        names: names.flatMap((n) => n.split(" ")).filter((n) => n !== "").slice(0, 50),
        as: "ison",
      }),
  },
  KILL: {
    min: 1,
    run: (chat, [target, reason]) =>
      command(chat, { name: "kill", target: target!, reason: reasonOf(reason) }),
  },
};

function command(chat: Chat, command: ServerCommand, room?: string): void | Promise<void> {
  return chat.tell({ type: "command", id: chat.id, command, room });
}

/** A channel's room, or undefined after telling the client it is none
 * (unless `quiet`: a NOTICE is never answered with an error). */
function roomOr(chat: Chat, target: string, code = "403", quiet = false): string | undefined {
  const room = roomOfChannel(target);
  if (room === undefined && !quiet) {
    const why = code === "479" ? "Illegal channel name" : "No such channel";
    chat.send(reply(chat.state, code, target, why));
  }
  return room;
}

async function join(chat: Chat, [targets]: string[]): Promise<void> {
  if (targets === "0") return void await command(chat, { name: "part_all" });
  for (const target of targets!.split(",")) {
    const room = roomOr(chat, target, "479");
    if (room !== undefined) await command(chat, { name: "enter", room });
  }
}

async function part(chat: Chat, [targets, reason]: string[]): Promise<void> {
  for (const target of targets!.split(",")) {
    const room = roomOr(chat, target);
    if (room !== undefined) await command(chat, { name: "part", reason: reasonOf(reason) }, room);
  }
}

/** `PRIVMSG`/`NOTICE target[,target] :text`; CTCP `ACTION` is `/me`,
 * other CTCP requests are not carried (nobody here answers them). */
async function talk(
  chat: Chat,
  [targets, raw]: string[],
  notice: boolean,
  tags?: string,
): Promise<void> {
  if (targets === undefined || targets === "") {
    return chat.send(
      reply(chat.state, "411", `No recipient given (${notice ? "NOTICE" : "PRIVMSG"})`),
    );
  }
  if (raw === undefined || raw === "") {
    return chat.send(reply(chat.state, "412", "No text to send"));
  }
  const request = ctcp(raw);
  if (request !== undefined && request.verb !== "ACTION") return;
  const text = sanitize(request === undefined ? raw : request.args);
  if (text === "") return;
  for (const target of targets.split(",")) {
    if (!target.startsWith("#")) {
      const said = request === undefined ? text : `* ${text}`;
      await command(chat, { name: notice ? "notice" : "msg", to: target, text: said, tags });
      continue;
    }
    const room = roomOr(chat, target, "403", notice);
    if (room === undefined) continue;
    if (request !== undefined) await command(chat, { name: "me", action: text }, room);
    else await chat.tell({ type: "say", id: chat.id, text, room, notice, tags });
  }
}

/** The client tags a line carries on, if its client asked for
 * `message-tags` (others may not send any). */
function tagsOf(chat: Chat, message: IrcMessage): string | undefined {
  return chat.state.caps.has("message-tags") ? message.clientTags : undefined;
}

/** `TAGMSG target[,target]`: the client's own tags alone (a typing notice),
 * for the others that asked for `message-tags`; without tags, nothing. */
async function tagmsg(chat: Chat, [targets]: string[], message: IrcMessage): Promise<void> {
  const tags = tagsOf(chat, message);
  if (tags === undefined) return;
  for (const target of targets!.split(",")) {
    const room = target.startsWith("#") ? roomOr(chat, target, "403", true) : undefined;
    if (room !== undefined) await command(chat, { name: "tagmsg", tags }, room);
    else if (!target.startsWith("#")) await command(chat, { name: "tagmsg", tags, to: target });
  }
}

function names(chat: Chat, [targets]: string[]): void | Promise<void> {
  const room = targets === undefined ? undefined : roomOfChannel(targets.split(",")[0]!);
  if (room === undefined) {
    return chat.send(reply(chat.state, "366", targets ?? "*", "End of /NAMES list"));
  }
  return command(chat, { name: "names", detail: false }, room);
}

function who(chat: Chat, [mask]: string[]): void | Promise<void> {
  if (mask === undefined || mask === "") {
    return chat.send(reply(chat.state, "315", "*", "End of /WHO list"));
  }
  const room = roomOfChannel(mask);
  if (room !== undefined) return command(chat, { name: "names", detail: true }, room);
  if (mask.startsWith("#")) return chat.send(reply(chat.state, "315", mask, "End of /WHO list"));
  return command(chat, { name: "who_mask", mask });
}

/** `TOPIC #room` shows it; `TOPIC #room :text` sets it (`:` alone clears). */
function topic(chat: Chat, [target, text]: string[]): void | Promise<void> {
  const room = roomOr(chat, target!);
  if (room === undefined) return;
  const shown = text === undefined ? "" : text === "" ? "-" : sanitize(text);
  return command(chat, { name: "topic", text: shown }, room);
}

async function kick(chat: Chat, [target, nicks, reason]: string[]): Promise<void> {
  const room = roomOr(chat, target!);
  if (room === undefined) return;
  for (const name of nicks!.split(",")) {
    await command(chat, { name: "kick", target: name, reason: reasonOf(reason) }, room);
  }
}

/** `MODE`: user modes (there are none), or a channel's: `+b`/`-b` bans,
 * `+o`/`-o` ops, `b` alone the ban list, nothing the modes it has; `n` and
 * `t` are always set (setting them does nothing, unsetting is refused). */
async function mode(chat: Chat, [target, modes, ...args]: string[]): Promise<void> {
  const nick = chat.state.nick;
  if (!target!.startsWith("#")) {
    if (target!.toLowerCase() !== nick.toLowerCase()) {
      return chat.send(reply(chat.state, "502", "Can't change mode for other users"));
    }
    if (modes === undefined) return chat.send(reply(chat.state, "221", "+"));
    return chat.send(reply(chat.state, "501", "Unknown MODE flag"));
  }
  const room = roomOr(chat, target!);
  if (room === undefined) return;
  if (modes === undefined) return chat.send(reply(chat.state, "324", target!, "+nt"));
  let sign = "+";
  for (const letter of modes) {
    if (letter === "+" || letter === "-") {
      sign = letter;
      continue;
    }
    if (letter === "n" || letter === "t") {
      if (sign === "-") {
        chat.send(serverLine(chat.state.server, "NOTICE", nick, fixedMode(target!)));
      }
      continue;
    }
    const arg = letter === "b" || letter === "o" ? args.shift() : undefined;
    const next = modeCommand(sign, letter, arg);
    if (next === undefined) {
      chat.send(reply(chat.state, "472", letter, "is an unknown mode char to me"));
      continue;
    }
    await command(chat, next, room);
  }
}

function modeCommand(
  sign: string,
  letter: string,
  arg: string | undefined,
): ServerCommand | undefined {
  const on = sign === "+";
  switch (letter) {
    case "b":
      if (arg === undefined) return { name: "bans" };
      return on
        ? { name: "ban", target: banTarget(arg), ms: 0, reason: "" }
        : { name: "unban", target: banTarget(arg) };
    case "o":
      if (arg === undefined) return undefined;
      return on ? { name: "op", target: arg } : { name: "deop", target: arg };
    default:
      return undefined;
  }
}

function fixedMode(channel: string): string {
  return `${channel}: modes n and t are always set here (only ops set the topic)`;
}

/** `Bob!*@*` bans the name `bob`; `*!*@192.0.2.7` the address (lower-cased
 * as the line protocol's `/ban` does: bans are looked up so). */
function banTarget(mask: string): string {
  const at = mask.indexOf("@");
  const host = at === -1 ? "" : mask.slice(at + 1);
  if (host !== "" && host !== "*") return host.toLowerCase();
  const bang = mask.indexOf("!");
  return (bang === -1 ? mask : mask.slice(0, bang)).toLowerCase();
}

/** `CHATHISTORY LATEST #room * N` and `CHATHISTORY BEFORE #room
 * timestamp=T N`: a `chathistory` batch of the room's kept lines. Only
 * those two, by timestamp: the chat keeps no message ids, and reads back,
 * not forward. Private messages are not kept: a nick's batch is empty. */
function chathistory(chat: Chat, [sub, target, ref, count]: string[]): void | Promise<void> {
  const verb = sub!.toUpperCase();
  const fail = (why: string) =>
    chat.send(line(`:${chat.state.server} FAIL CHATHISTORY INVALID_PARAMS ${verb} :${why}`));
  const limit = Number(count);
  if (!Number.isSafeInteger(limit) || limit < 1) return fail("the limit must be a number over 0");
  let before: number | undefined;
  if (verb === "BEFORE" && ref!.startsWith("timestamp=")) before = Date.parse(ref!.slice(10));
  else if (verb !== "LATEST" || ref !== "*") return fail("only LATEST * and BEFORE timestamp=");
  if (before !== undefined && Number.isNaN(before)) return fail("not a timestamp");
  const room = roomOfChannel(target!);
  if (room === undefined) {
    const id = `e${Date.now().toString(36)}`;
    return chat.send(
      line(
        `:${chat.state.server} BATCH +${id} chathistory ${target}\r\n:${chat.state.server} BATCH -${id}`,
      ),
    );
  }
  const command_ = before === undefined
    ? { name: "chathistory", limit: Math.min(limit, 200) } as const
    : { name: "chathistory", limit: Math.min(limit, 200), before } as const;
  return command(chat, command_, room);
}

function reasonOf(reason: string | undefined): string {
  return [...sanitize(reason ?? "")].slice(0, MAX_REASON_CHARS).join("");
}
