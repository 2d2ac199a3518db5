/**
 * A room's moderation: `/topic`, `/kick`, `/ban`, `/mute`, `/unban`,
 * `/unmute`, `/bans`, `/op` and `/deop`. Each checks the caller's rank
 * (and the target's, for what is done to a person), then becomes an act.
 *
 * @module
 */

import { type Effect, refuse, reply, type Scene } from "../command.ts";
import type { Sanction } from "../community.ts";
import { noticed, type SanctionEntry } from "../events.ts";
import { LOBBY, NAME_PATTERN } from "../protocol.ts";
import type { User } from "../registry.ts";
import { coversHigher, mayNot, notAbove } from "./rank.ts";

/** `/topic [TEXT]`: anyone reads it; ops set it (`-` clears it). */
export function topic<S>(scene: Scene<S>, user: User<S>, text: string): Effect<S>[] {
  const room = user.room.name;
  if (text === "") {
    const state = scene.community.room(room);
    return reply(user, { type: "topic", room, text: state?.topic ?? "", by: state?.topicBy ?? "" });
  }
  const refused = mayNot(scene, user, room, "op", "set the topic");
  if (refused !== undefined) return refused;
  const act = { kind: "topic", room, text: text === "-" ? "" : text, by: user.name } as const;
  return [{ type: "act", act, by: user }];
}

/** `/kick NAME [REASON]`: to the lobby (from the lobby: disconnected). */
export function kick<S>(scene: Scene<S>, user: User<S>, name: string, reason: string): Effect<S>[] {
  const room = user.room;
  const refused = mayNot(scene, user, room.name, "op", "kick");
  if (refused !== undefined) return refused;
  const target = scene.registry.named(name);
  if (target === undefined || !target.rooms.has(room)) {
    return refuse(user, { refusal: "not_in_room", name, room: room.name });
  }
  const outranked = notAbove(scene, user, room.name, target.name);
  if (outranked !== undefined) return outranked;
  const act = {
    kind: "kick",
    room: room.name,
    target: target.name,
    by: user.name,
    reason,
  } as const;
  return [{ type: "act", act, by: user }];
}

/** `/ban` and `/mute` NAME|ADDRESS [DURATION] [REASON]. */
export function sanction<S>(
  scene: Scene<S>,
  user: User<S>,
  kind: "ban" | "mute",
  target: string,
  ms: number,
  reason: string,
): Effect<S>[] {
  const room = user.room.name;
  const refused = mayNot(scene, user, room, "op", kind);
  if (refused !== undefined) return refused;
  if (kind === "ban" && room === LOBBY) return refuse(user, { refusal: "lobby_ban" });
  const outranked = NAME_PATTERN.test(target)
    ? notAbove(scene, user, room, target)
    : coversHigher(scene, user, room, target);
  if (outranked !== undefined) return outranked;
  const until = ms === 0 ? 0 : scene.clock.now() + ms;
  const sanction: Sanction = { target, by: user.name, reason, until };
  const act = kind === "ban"
    ? { kind: "ban" as const, room, sanction }
    : { kind: "mute" as const, room, sanction };
  return [{ type: "act", act, by: user }];
}

/** `/unban` and `/unmute` NAME|ADDRESS. */
export function lift<S>(
  scene: Scene<S>,
  user: User<S>,
  kind: "unban" | "unmute",
  target: string,
): Effect<S>[] {
  const room = user.room.name;
  const refused = mayNot(scene, user, room, "op", kind);
  if (refused !== undefined) return refused;
  const now = scene.clock.now();
  const held = kind === "unban"
    ? scene.community.bans(room, now).some((b) => b.target === target || b.label === target)
    : scene.community.mutes(room, now).some((m) => m.target === target);
  if (!held) {
    const what = kind === "unban" ? "banned" : "muted";
    return refuse(user, { refusal: "not_sanctioned", target, what, room });
  }
  return [{ type: "act", act: { kind, room, target, by: user.name }, by: user }];
}

/** `/bans`: the room's bans and mutes in force. */
export function bans<S>(scene: Scene<S>, user: User<S>): Effect<S>[] {
  const room = user.room.name;
  const refused = mayNot(scene, user, room, "op", "list bans");
  if (refused !== undefined) return refused;
  const now = scene.clock.now();
  const operator = user.local?.oper === true;
  const entries = [
    ...scene.community.bans(room, now).map((b) => entryOf("banned", b, operator)),
    ...scene.community.mutes(room, now).map((m) => entryOf("muted", m, operator)),
  ];
  if (entries.length === 0) return reply(user, noticed({ notice: "nobody_banned", room }));
  return reply(user, { type: "bans", room, entries });
}

/** `/op` and `/deop` NAME: in a registered room, the owner's, for
 * registered users only; in a room nobody owns, its ops', for anyone in it. */
export function op<S>(scene: Scene<S>, user: User<S>, name: string, on: boolean): Effect<S>[] {
  const room = user.room.name;
  if (!scene.community.keeps(room)) return chanop(scene, user, name, on);
  const refused = mayNot(scene, user, room, "owner", on ? "make ops" : "take op");
  if (refused !== undefined) return refused;
  const account = name.toLowerCase();
  if (on && !scene.community.registered(account)) {
    return refuse(user, { refusal: "not_registered_for_op", name });
  }
  const isOp = scene.community.room(room)?.ops.has(account) === true;
  if (isOp === on) return refuse(user, { refusal: "op_already", name, room, on });
  return [{ type: "act", act: { kind: "op", room, account, on, by: user.name }, by: user }];
}

/** `/op` and `/deop` in a room nobody owns: as on IRC, an op makes others
 * ops while they are in it, and takes op from any op (see `notAbove`). */
function chanop<S>(scene: Scene<S>, user: User<S>, name: string, on: boolean): Effect<S>[] {
  const room = user.room;
  const refused = mayNot(scene, user, room.name, "op", on ? "make ops" : "take op");
  if (refused !== undefined) return refused;
  const target = scene.registry.named(name);
  if (target === undefined) return refuse(user, { refusal: "no_such_user", name });
  if (!target.rooms.has(room)) {
    return refuse(user, { refusal: "not_in_room", name, room: room.name });
  }
  if (room.ops.has(target) === on) {
    return refuse(user, { refusal: "op_already", name: target.name, room: room.name, on });
  }
  const outranked = on ? undefined : notAbove(scene, user, room.name, name);
  if (outranked !== undefined) return outranked;
  const act = { kind: "chanop", room: room.name, name: target.name, on, by: user.name } as const;
  return [{ type: "act", act, by: user }];
}

/** One entry of `/bans`: an address kept with a name's ban shows as that
 * name's, and only operators see the address itself. */
function entryOf(what: "banned" | "muted", s: Sanction, operator: boolean): SanctionEntry {
  const whom = s.label === undefined
    ? s.target
    : operator
    ? `${s.target} (${s.label}'s address)`
    : `${s.label}'s address`;
  return { whom, what, by: s.by, until: s.until, reason: s.reason };
}
