/**
 * `/history [N] [before WHEN|more]`: a page of the room's kept lines. The
 * store is read by the shell (a `history` effect); this checks the request.
 *
 * @module
 */

import { type Effect, refuse, type Scene } from "../command.ts";
import type { ServerCommand } from "../commands.ts";
import { parseBefore } from "../history.ts";
import type { User } from "../registry.ts";

/** `/history`. */
export function history<S>(
  scene: Scene<S>,
  user: User<S>,
  command: Extract<ServerCommand, { name: "history" }>,
): Effect<S>[] {
  if (!scene.history) return refuse(user, { refusal: "history_off" });
  const before = command.before === undefined
    ? undefined
    : parseBefore(command.before, scene.clock.now());
  if (command.before !== undefined && before === undefined) {
    return refuse(user, { refusal: "history_usage" });
  }
  const page = { limit: command.limit, before, more: command.more };
  return [{ type: "history", to: user, room: user.room.name, page }];
}
