/**
 * Which names a user may not choose: the server's `userN` names (and their
 * look-alikes), and words that would let a `/me` action read as a server
 * line. The registry checks them on every rename; `/nick` and `/register`
 * ask whether a name is an assigned one.
 *
 * @module
 */

/** Names given at connect; nobody may choose one that is not theirs. */
const ASSIGNED_NAME = /^user\d+$/i;

/** Names that would let a `/me` action read as a server line: the first
 * words of every `* ` line that is not about a user (`* server shutting
 * down`, `* link to other servers lost`, `* you are in games`, `* in lobby:
 * ...`, `* and 5 more`, `* welcome, ...`, history's frames), and names without letters (`* 3 in
 * lobby, ...`). See docs/protocol.md, "Server lines cannot be forged". */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "server",
  "link",
  "you",
  "in",
  "and",
  "welcome",
  // History frames: `* recent in ROOM:`, `* end of recent`, `* history of
  // ROOM:`, `* no earlier lines in ROOM`.
  "recent",
  "end",
  "history",
  "no",
  // Accounts and moderation: `* topic of ROOM: ...`, `* announcement from
  // ...`, `* this connection is not encrypted...`, `* bans and mutes in
  // ROOM:`, `* nobody is banned...`, `* password changed`.
  "topic",
  "announcement",
  // Linked servers' notices: `* a user on another server also had the name
  // ...`, `* your name ... is held by a user on another server ...`.
  "a",
  "your",
  "this",
  "bans",
  "nobody",
  "password",
]);

/** Whether `name` is one nobody may take: a reserved word, or a name with
 * no letters (`3` would read as `* 3 in lobby, ...`, `2026-11-28` as the
 * date of a replayed history line). */
export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name.toLowerCase()) || /^[\d_-]+$/.test(name);
}

/** `userN` or a look-alike of it (`userl`, `userO`): only the server
 * assigns those. */
export function looksAssigned(name: string): boolean {
  return /^user[0-9lio|]+$/i.test(name);
}

/** Whether `name` is a `userN` name, as the server assigns them. */
export function isAssignedName(name: string): boolean {
  return ASSIGNED_NAME.test(name);
}
