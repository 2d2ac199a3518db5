/**
 * The lines the server sends, in one place: the wire format described in
 * `docs/protocol.md` is written down here once.
 *
 * Every function returns the text of one line without its LF; `encodeLine`
 * adds the LF and encodes, and is called once per event, never per
 * recipient.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Roster lines a newcomer gets before "and K more": enough to see who is
 * around, few enough that joining a 10,000-user chat is not a flood. */
export const ROSTER_LIMIT = 50;

/** Names are one word of these characters, so they are easy to type and
 * cannot hide control codes or look like other users via lookalike letters. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,24}$/;

/** The room everyone starts in; it never vanishes. */
export const LOBBY = "lobby";

/** Encodes one or more lines, each ending in LF. */
export function encodeLines(...lines: string[]): Uint8Array {
  return encoder.encode(lines.join("\n") + "\n");
}

/** `[name]: text` */
export function chatLine(name: string, text: string): string {
  return `[${name}]: ${text}`;
}

/** `* name joined the chat` */
export function joinedChat(name: string): string {
  return `* ${name} joined the chat`;
}

/** `* name left the chat` or `* name left the chat (reason)` */
export function leftChat(name: string, reason?: string): string {
  return reason ? `* ${name} left the chat (${reason})` : `* ${name} left the chat`;
}

/** `* name action` */
export function actionLine(name: string, action: string): string {
  return `* ${name} ${action}`;
}

/** `[from -> to]: text` */
export function privateLine(from: string, to: string, text: string): string {
  return `[${from} -> ${to}]: ${text}`;
}

/** `* old is now known as new` */
export function renamed(oldName: string, newName: string): string {
  return `* ${oldName} is now known as ${newName}`;
}

/** `! reason` */
export function errorLine(reason: string): string {
  return `! ${reason}`;
}

/** `* text` */
export function infoLine(text: string): string {
  return `* ${text}`;
}

/** Sent to everyone when the server stops. */
export const SHUTTING_DOWN = "* server shutting down";

/** Told to the user who keeps a name that was granted twice while the
 * servers' shared state was lost (see docs/protocol.md, "Linked servers"). */
export function nameKept(name: string): string {
  return `a user on another server also had the name ${name} (Redis had lost track of names); it stays yours`;
}

/** Told to the user who gives such a name up. */
export function nameLostNotice(name: string, back: string): string {
  return `your name ${name} is held by a user on another server (Redis had lost track of names); you are ${back} again`;
}

/** `for 10m` or `for good`, after a ban or a mute. */
function lasting(until: number, now: number): string {
  return until === 0 ? "for good" : `for ${formatLeft(until - now)}`;
}

/** ` (reason)`, or nothing. */
function because(reason: string): string {
  return reason === "" ? "" : ` (${reason})`;
}

/** `10m`, `2h`, `3d`, `30s`: the time left, rounded up to its largest unit. */
export function formatLeft(ms: number): string {
  // To the second first: a ban of 1h read a few ms later still says 1h.
  ms = Math.ceil(ms / 1000) * 1000;
  const units: [string, number][] = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000]];
  for (const [unit, size] of units) if (ms >= size) return `${Math.ceil(ms / size)}${unit}`;
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

/** The lines moderation shows; see docs/protocol.md, "Moderation". */
export const moderationLines = {
  kicked: (name: string, by: string, reason: string) =>
    `* ${name} was kicked by ${by}${because(reason)}`,
  youWereKicked: (room: string, by: string, reason: string) =>
    `! you were kicked from ${room} by ${by}${because(reason)}`,
  banned: (name: string, room: string, by: string, until: number, now: number, reason: string) =>
    `* ${name} was banned from ${room} by ${by} ${lasting(until, now)}${because(reason)}`,
  youAreBanned: (place: string, by: string, until: number, now: number, reason: string) =>
    `! you are banned from ${place} by ${by} ${lasting(until, now)}${because(reason)}`,
  unbanned: (name: string, room: string, by: string) =>
    `* ${name} was unbanned from ${room} by ${by}`,
  muted: (name: string, by: string, until: number, now: number, reason: string) =>
    `* ${name} was muted ${lasting(until, now)} by ${by}${because(reason)}`,
  youAreMuted: (room: string, by: string, until: number, now: number, reason: string) =>
    `! you are muted in ${room} ${lasting(until, now)} by ${by}${
      because(reason)
    }: you may read but not speak there`,
  unmuted: (name: string, by: string) => `* ${name} was unmuted by ${by}`,
  topicSet: (by: string, text: string) =>
    text === "" ? `* ${by} cleared the topic` : `* ${by} set the topic: ${text}`,
  topic: (room: string, text: string, by: string) =>
    text === "" ? `* ${room} has no topic` : `* topic of ${room}: ${text} (set by ${by})`,
  opped: (by: string, name: string, room: string) => `* ${by} made ${name} an op of ${room}`,
  deopped: (by: string, name: string, room: string) => `* ${by} took op from ${name} in ${room}`,
  owned: (room: string, owner: string) => `* ${room} is now owned by ${owner}`,
  released: (room: string) => `* ${room} is no longer registered`,
  youWereKilled: (by: string, reason: string) =>
    `! you were disconnected by ${by}${because(reason)}`,
  killReason: (by: string, reason: string) => `killed by ${by}: ${reason}`,
  announcement: (by: string, text: string) => `* announcement from ${by}: ${text}`,
} as const;

/** What the server says about a user after its name: an action starting
 * this way would be a forged event (`/me left the chat`), or, for `(3)`,
 * a further line of a wrapped `/rooms` list (`* games (3)`). */
export const SERVER_EVENT =
  /^(?:joined the (?:chat|room)|left the (?:chat|room)|is now known as|is now owned by|is no longer registered|was (?:kicked|banned|unbanned|muted|unmuted) |set the topic|cleared the topic|made \S+ an op|took op from|has no topic|\(\d+\)(?:,|$))/i;
