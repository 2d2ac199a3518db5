/**
 * The page's room-addressed lines. A page may be in several rooms at once,
 * as an IRC client is: `/open ROOM` enters a room beside the others,
 * `/close ROOM` leaves it, and `/in ROOM LINE` says a line or runs a
 * command in one of them. Only a page's session reads these (the line
 * protocol keeps its one room).
 *
 * @module
 */

import { ROOM_RULE } from "./command_args.ts";
import { type Input, parseInput, type ServerCommand } from "./commands.ts";
import { NAME_PATTERN } from "./protocol.ts";

/** A room-addressed line, read. */
export type RoomLine =
  | { type: "say"; text: string; room: string }
  | { type: "command"; command: ServerCommand; room?: string }
  | { type: "invalid"; reason: string };

/** `text` read as a room-addressed line, or undefined if it is not one.
 *
 * @example
 * ```ts
 * import { roomLine } from "./room_lines.ts";
 * roomLine("/in games hello"); // { type: "say", text: "hello", room: "games" }
 * ```
 */
export function roomLine(text: string): RoomLine | undefined {
  const match = /^\/(in|open|close)(?:\s+(\S+))?\s*(.*)$/is.exec(text);
  if (match === null) return undefined;
  const [, verb = "", room = "", rest = ""] = match;
  if (!NAME_PATTERN.test(room)) return { type: "invalid", reason: `invalid room: ${ROOM_RULE}` };
  switch (verb.toLowerCase()) {
    case "open":
      return { type: "command", command: { name: "enter", room } };
    case "close":
      return { type: "command", command: { name: "part", reason: "" }, room };
    default:
      return addressed(parseInput(rest), room);
  }
}

/** What `/in ROOM` carries: a line, or a command other than `/quit` (which
 * is the connection's, not a room's). */
function addressed(input: Input, room: string): RoomLine {
  switch (input.type) {
    case "say":
      return input.text === ""
        ? { type: "invalid", reason: "usage: /in ROOM LINE" }
        : { type: "say", text: input.text, room };
    case "invalid":
      return input;
    case "command":
      if (input.command.name === "quit") {
        return { type: "invalid", reason: "/quit is not a room's" };
      }
      return { type: "command", command: input.command, room };
  }
}
