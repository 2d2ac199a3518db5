/**
 * Who may do what: the rank rules every moderation command checks, in one
 * place. A rank is the user's in a room (user, op, owner) or the server's
 * (operator, which outranks everyone everywhere).
 *
 * @module
 */

import { type Effect, refuse, type Scene } from "../command.ts";
import { atLeast, type Rank } from "../community.ts";
import type { User } from "../registry.ts";

/** What `user` may do in `room`. In a room nobody owns, its ops are whoever
 * opened it and whom they opped (as on IRC), held while they are in it. */
export function rankOf<S>(scene: Scene<S>, user: User<S>, room: string): Rank {
  const local = user.local;
  if (local?.oper === true) return "operator";
  if (!scene.community.keeps(room)) {
    return scene.registry.room(room)?.ops.has(user) === true ? "op" : "user";
  }
  if (local === undefined) {
    const key = user.name.toLowerCase();
    return scene.community.rank(room, scene.community.registered(key) ? key : undefined, false);
  }
  return scene.community.rank(room, local.account, false);
}

/** The refusal when `user` lacks `rank` in `room` ("": the server) to do
 * `what`; none when it may. */
export function mayNot<S>(
  scene: Scene<S>,
  user: User<S>,
  room: string,
  rank: Rank,
  what: string,
): Effect<S>[] | undefined {
  const have = room === "" ? (user.local?.oper ? "operator" : "user") : rankOf(scene, user, room);
  if (!atLeast(have, rank)) {
    const who = rank === "operator"
      ? "server operators"
      : rank === "owner"
      ? `the owner of ${room}`
      : `ops of ${room}`;
    return refuse(user, { refusal: "rank_needed", who, what });
  }
  return undefined;
}

/** The refusal when `user` does not outrank `target` (a name) in `room`;
 * none when it does. Server operators outrank everyone but each other. */
export function notAbove<S>(
  scene: Scene<S>,
  user: User<S>,
  room: string,
  target: string,
): Effect<S>[] | undefined {
  const mine = rankOf(scene, user, room);
  const online = scene.registry.named(target);
  const theirs = online !== undefined ? rankOf(scene, online, room) : scene.community.rank(
    room,
    scene.community.registered(target) ? target.toLowerCase() : undefined,
    false,
  );
  // Nobody acts on an equal or higher rank, operators on operators included;
  // but in a room nobody owns, ops act on each other, as on IRC: nobody
  // there ranks higher to settle it.
  if (!atLeast(theirs, mine)) return undefined;
  if (mine === "op" && theirs === "op" && !scene.community.keeps(room)) return undefined;
  const rank = theirs === "operator" ? "operator" : theirs === "owner" ? "owner" : "op";
  return refuse(user, { refusal: "outranked", target, rank, room });
}

/** The refusal when a ban on `address` in `room` ("": the server) would
 * cover a user present of `user`'s rank or higher; none otherwise. */
export function coversHigher<S>(
  scene: Scene<S>,
  user: User<S>,
  room: string,
  address: string,
): Effect<S>[] | undefined {
  const mine = room === "" ? (user.local?.oper ? "operator" : "user") : rankOf(scene, user, room);
  const users = room === "" ? scene.registry.locals() : scene.registry.room(room)?.users ?? [];
  for (const other of users) {
    if (other.local?.address !== address) continue;
    if (!atLeast(rankOf(scene, other, room), mine)) continue;
    return notAbove(scene, user, room, other.name);
  }
  return undefined;
}
