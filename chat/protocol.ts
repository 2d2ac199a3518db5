/**
 * The shape of the wire that does not depend on any one event: what a name
 * is, the lobby, how long a newcomer's roster is, and which words after a
 * name only the server may say. The lines themselves are rendered from
 * typed events in `render.ts`.
 *
 * @module
 */

/** Roster lines a newcomer gets before "and K more": enough to see who is
 * around, few enough that joining a 10,000-user chat is not a flood. */
export const ROSTER_LIMIT = 50;

/** Names are one word of these characters, so they are easy to type and
 * cannot hide control codes or look like other users via lookalike letters. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,24}$/;

/** The room everyone starts in; it never vanishes. */
export const LOBBY = "lobby";

/** What the server says about a user after its name: an action starting
 * this way would be a forged event (`/me left the chat`), or, for `(3)`,
 * a further line of a wrapped `/rooms` list (`* games (3)`). */
export const SERVER_EVENT =
  /^(?:joined the (?:chat|room)|left the (?:chat|room)|is now known as|is now owned by|is no longer (?:registered|banned)|is registered,|was (?:kicked|banned|unbanned|muted|unmuted) |set the topic|cleared the topic|made \S+ an op|took op from|has no topic|is away:|\(\d+\)(?:,|$))/i;
