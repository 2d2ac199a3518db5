/**
 * What is around: `/who`, `/rooms`, `/help`.
 *
 * @module
 */

import { type Effect, reply, type Scene } from "../command.ts";
import { helpLines } from "../commands.ts";
import type { RoomSize } from "../events.ts";
import type { User } from "../registry.ts";
import { atLeast } from "../community.ts";
import { rankOf } from "./rank.ts";

/** `/who`: the room's users, this server's first, and how many are online;
 * and which of them are its ops or owner (the page offers those moderation). */
export function who<S>(scene: Scene<S>, user: User<S>): Effect<S>[] {
  const room = user.room;
  const names = [...room.users].filter((u) => u.local).map((u) => u.name);
  for (const other of room.users) if (!other.local) names.push(other.name);
  const ops = [...room.users].filter((u) => atLeast(rankOf(scene, u, room.name), "op"))
    .map((u) => u.name);
  // While the link is down, other servers' users are as last seen: say so.
  const stale = scene.link.linked && !scene.link.up;
  const online = scene.registry.size;
  return reply(user, { type: "who", room: room.name, names, online, stale, ops });
}

/** `/rooms`: every room and its size, the lobby first. */
export function rooms<S>(scene: Scene<S>, user: User<S>): Effect<S>[] {
  return reply(user, { type: "rooms", rooms: roomList(scene) });
}

/** Every room, its size and its topic, the lobby first. */
export function roomList<S>(scene: Scene<S>): RoomSize[] {
  return scene.registry.rooms().map((r) => {
    const topic = scene.community.room(r.name)?.topic;
    return topic
      ? { name: r.name, users: r.users.size, topic }
      : { name: r.name, users: r.users.size };
  });
}

/** `/help`: the commands the user's rank in its room allows (an op of a
 * room nobody owns makes ops, as an owner does). */
export function help<S>(scene: Scene<S>, user: User<S>): Effect<S>[] {
  const rank = rankOf(scene, user, user.room.name);
  const open = rank === "op" && !scene.community.keeps(user.room.name);
  return reply(user, { type: "help", lines: helpLines(open ? "owner" : rank) });
}
