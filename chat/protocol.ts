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
