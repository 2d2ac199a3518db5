/**
 * Reading a command's arguments: the word rules (names, rooms, passwords),
 * targets (a name or an address), durations and reasons. Each reader
 * returns the command, or the sentence that says why the arguments are
 * refused.
 *
 * @module
 */

import type { Command } from "./commands.ts";
import { parseDuration } from "./community.ts";
import { NAME_PATTERN } from "./protocol.ts";

export const NAME_RULE = "names are one word of 1-24 ASCII letters, digits, _ or -";
export const PASSWORD_RULE = "passwords are 8-128 characters with no spaces";

/** Shortest and longest password, in characters. */
export const PASSWORD_CHARS = { min: 8, max: 128 } as const;
export const ROOM_RULE = "room names are one word of 1-24 ASCII letters, digits, _ or -";

/** Longest quit reason shown (characters): room for a goodbye, not for an
 * advert. */
export const MAX_QUIT_REASON_CHARS = 80;

/** Whitespace-separated words. */
export function words(args: string): string[] {
  return args === "" ? [] : args.split(/\s+/);
}

/** The first word and the rest of `args`. */
export function nameAndRest(args: string): [string, string] {
  const space = args.search(/\s/);
  return space === -1 ? [args, ""] : [args.slice(0, space), args.slice(space).trimStart()];
}

export function password(
  pw: string,
  usage: string,
  build: (pw: string) => Command,
): Command | string {
  if (pw === "" || /\s/.test(pw)) return `usage: ${usage} (${PASSWORD_RULE})`;
  const chars = [...pw].length;
  if (chars < PASSWORD_CHARS.min || chars > PASSWORD_CHARS.max) return PASSWORD_RULE;
  return build(pw);
}

export function login(args: string, name: "login"): Command | string {
  const [account, pw, extra] = words(args);
  if (account === undefined || pw === undefined || extra !== undefined) {
    return "usage: /login NAME PASSWORD";
  }
  if (!NAME_PATTERN.test(account)) return `invalid name: ${NAME_RULE}`;
  return { name, account, password: pw };
}

export function oneName(
  args: string,
  usage: string,
  build: (name: string) => Command,
): Command | string {
  if (args === "" || /\s/.test(args)) return `usage: ${usage}`;
  return NAME_PATTERN.test(args) ? build(args) : `invalid name: ${NAME_RULE}`;
}

/** An IPv4 or IPv6 address, as the server shows them. */
const ADDRESS_PATTERN = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:.]*)$/i;

/** A name, or (when `addresses`) an address; lower-cased. */
export function target(
  args: string,
  usage: string,
  addresses: boolean,
  build: (target: string) => Command,
): Command | string {
  if (args === "" || /\s/.test(args)) return `usage: ${usage}`;
  if (NAME_PATTERN.test(args) || (addresses && ADDRESS_PATTERN.test(args))) {
    return build(args.toLowerCase());
  }
  return `invalid name${addresses ? " or address" : ""}: ${NAME_RULE}`;
}

/** `TARGET [DURATION] [REASON]`: a duration of 0 means for good. */
export function sanction(
  args: string,
  name: "ban" | "mute" | "gban",
  usage: string,
  addresses: boolean,
): Command | string {
  const [first, rest] = nameAndRest(args);
  const parsed = target(first, usage, addresses, (t) => ({ name: "unban", target: t }));
  if (typeof parsed === "string") return parsed;
  const [maybeDuration, afterDuration] = nameAndRest(rest);
  const ms = parseDuration(maybeDuration);
  // Anything that starts like a number was meant as a duration: one that
  // does not read as one (5min, -5m, 1.5h) is refused, never taken for a
  // reason (which would make the ban last for good).
  if (ms === undefined && /^[-+]?\d/.test(maybeDuration)) {
    return "durations are like 30s, 10m, 2h or 7d (at most a year)";
  }
  const reason = [...(ms === undefined ? rest : afterDuration)].slice(0, MAX_QUIT_REASON_CHARS)
    .join("");
  return { name, target: (parsed as { target: string }).target, ms: ms ?? 0, reason };
}
