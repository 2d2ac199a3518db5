/**
 * IRCv3 capabilities: what this server offers (`CAP LS`), and a client's
 * requests for them (`CAP REQ`), granted all or none as the spec says.
 *
 * @module
 */

/** What a client has asked for and been granted. */
export type Caps = Set<string>;

/** Offered capabilities, each with its `CAP LS 302` value ("" for none).
 * `multi-prefix` costs nothing: a member has one prefix at most (`@`).
 * `batch` brings history (the join replay, `CHATHISTORY`) in batches.
 * `away-notify` and `account-notify`: `AWAY` and `ACCOUNT` lines about
 * people in the client's channels, on every linked server.
 * `message-tags`: lines carry a `msgid` and the sender's own `+` tags,
 * and `TAGMSG` is relayed; `account-tag`: they carry the sender's account. */
export const OFFERED: ReadonlyMap<string, string> = new Map([
  ["account-notify", ""],
  ["account-tag", ""],
  ["away-notify", ""],
  ["batch", ""],
  ["draft/chathistory", ""],
  ["echo-message", ""],
  ["message-tags", ""],
  ["multi-prefix", ""],
  ["sasl", "PLAIN"],
  ["server-time", ""],
]);

/** `CAP LS` as one line's list. */
export function capList(version302: boolean): string {
  return [...OFFERED].map(([name, value]) => version302 && value !== "" ? `${name}=${value}` : name)
    .join(" ");
}

/**
 * Applies a `CAP REQ` list to `caps`: all of it, or (if any is unknown)
 * none. Returns whether it was granted.
 *
 * @example
 * ```ts
 * import { capability } from "./caps.ts";
 * const caps = new Set<string>();
 * capability(caps, "server-time -echo-message"); // true
 * ```
 */
export function capability(caps: Caps, request: string): boolean {
  const asked = request.split(" ").filter((word) => word !== "");
  if (asked.length === 0) return false;
  const known = asked.every((word) => OFFERED.has(word.replace(/^-/, "")));
  if (!known) return false;
  for (const word of asked) {
    if (word.startsWith("-")) caps.delete(word.slice(1));
    else caps.add(word);
  }
  return true;
}
