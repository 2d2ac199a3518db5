/**
 * The lines an IRC session writes itself (the chat's own events are
 * rendered by `chat/render_irc.ts`): numerics, `ERROR`, `PONG`, `CAP`.
 *
 * @module
 */

import { numeric } from "../chat/render_irc.ts";

const encoder = new TextEncoder();

/** `:server NNN nick args... :last`, CRLF-ended; the nick is `*` until
 * the client is welcomed (`welcomed: false`). */
export function reply(
  to: { server: string; nick: string; welcomed?: boolean },
  code: string,
  ...args: string[]
): Uint8Array {
  const me = to.welcomed === false ? "*" : to.nick;
  return line(numeric({ me, server: to.server }, code, ...args));
}

/** Any line from the server, CRLF-ended. */
export function line(text: string): Uint8Array {
  return encoder.encode(text + "\r\n");
}

/** Several lines at once. */
export function lines(texts: string[]): Uint8Array {
  return encoder.encode(texts.map((t) => t + "\r\n").join(""));
}

/** `ERROR :reason`: the last line a client gets before it is closed. */
export function ERROR_LINE(reason: string): Uint8Array {
  return line(`ERROR :${reason}`);
}

/** `:server CMD args... :last`. */
export function serverLine(server: string, command: string, ...args: string[]): Uint8Array {
  const last = args.pop() ?? "";
  return line(`:${server} ${[command, ...args].join(" ")} :${last}`);
}
