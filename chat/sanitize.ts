/**
 * Text hygiene: what is left of a user's line before anyone else sees it.
 *
 * Chat text ends up on other people's terminals, where an escape sequence
 * can recolour the screen, move the cursor, set the window title, or worse.
 * So every line loses ANSI/VT escape sequences (CSI with parameters, OSC up
 * to BEL or ST, DCS/SOS/PM/APC strings, two-byte escapes, and their 8-bit C1
 * forms), C0 controls except TAB, DEL, and C1 controls; TAB becomes a space;
 * trailing whitespace goes. Bidirectional controls (U+202A-202E, U+2066-2069,
 * U+200E-200F) and invisible characters (U+200B-200D, U+2060-2064, U+FEFF)
 * go too: they can reverse a line on screen (even the server's own text
 * around a quit reason) or make two names look alike. The price: emoji
 * joined with U+200D show as their parts. Telnet IAC bytes never get this far (they are
 * removed from the byte stream, see `net/line_splitter.ts`) and invalid
 * UTF-8 was already decoded to U+FFFD.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const HAS_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** Escape sequences, longest forms first; an unterminated one is removed to
 * the end of the line rather than left half-open. */
const ESCAPE_SEQUENCE = new RegExp(
  [
    "\\x1b\\[[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]?", // CSI
    "\\x9b[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]?", // 8-bit CSI
    "(?:\\x1b\\]|\\x9d)[^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?", // OSC to BEL or ST
    "(?:\\x1b[PX^_]|[\\x90\\x98\\x9e\\x9f])[^\\x1b\\x9c]*(?:\\x1b\\\\|\\x9c)?", // DCS SOS PM APC
    "\\x1b[\\x20-\\x2f]*[\\x30-\\x7e]?", // two-byte escapes (and a lone ESC)
  ].join("|"),
  "g",
);

/** Bidi controls and zero-width characters. */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const HAS_INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

// deno-lint-ignore no-control-regex
const OTHER_CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * Returns `text` as it may be shown to other users; `""` means "ignore".
 *
 * @example
 * ```ts
 * import { sanitize } from "./sanitize.ts";
 * sanitize("\x1b[31mred\x1b[0m\tok  "); // "red ok"
 * ```
 */
export function sanitize(text: string): string {
  const visible = HAS_INVISIBLE.test(text) ? text.replace(INVISIBLE, "") : text;
  if (!HAS_CONTROL.test(visible)) return visible.trimEnd();
  return visible
    .replace(ESCAPE_SEQUENCE, "")
    .replaceAll("\t", " ")
    .replace(OTHER_CONTROL, "")
    .trimEnd();
}
