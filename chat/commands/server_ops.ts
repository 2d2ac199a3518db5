/**
 * The server operators' commands: `/kill`, `/gban`, `/ungban`, `/announce`.
 *
 * @module
 */

import { type Effect, refuse, type Scene } from "../command.ts";
import { noticed } from "../events.ts";
import type { User } from "../registry.ts";
import { isLoopback } from "../../net/mod.ts";
import { mayNot, notAbove } from "./rank.ts";

/** `/kill NAME REASON`: disconnect a user, on whichever server. */
export function kill<S>(scene: Scene<S>, user: User<S>, name: string, reason: string): Effect<S>[] {
  const refused = mayNot(scene, user, "", "operator", "kill");
  if (refused !== undefined) return refused;
  const target = scene.registry.named(name);
  if (target === undefined) return refuse(user, { refusal: "no_such_user", name });
  const outranked = notAbove(scene, user, "", target.name);
  if (outranked !== undefined) return outranked;
  return [{
    type: "act",
    act: { kind: "kill", target: target.name, by: user.name, reason },
    by: user,
  }];
}

/** `/gban NAME|ADDRESS [DURATION] [REASON]`: refused at connect, everywhere. */
export function serverBan<S>(
  scene: Scene<S>,
  user: User<S>,
  target: string,
  ms: number,
  reason: string,
): Effect<S>[] {
  const refused = mayNot(scene, user, "", "operator", "ban from the server");
  if (refused !== undefined) return refused;
  const covers = coversOperator(scene, user, target);
  if (covers !== undefined) return covers;
  const until = ms === 0 ? 0 : scene.clock.now() + ms;
  const sanction = { target, by: user.name, reason, until };
  return [{ type: "act", act: { kind: "ban", room: "", sanction }, by: user }];
}

/** `/ungban NAME|ADDRESS`. */
export function serverUnban<S>(scene: Scene<S>, user: User<S>, target: string): Effect<S>[] {
  const refused = mayNot(scene, user, "", "operator", "lift server bans");
  if (refused !== undefined) return refused;
  const banned = scene.community.bans("", scene.clock.now()).some((b) =>
    b.target === target || b.label === target
  );
  if (!banned) return refuse(user, { refusal: "not_server_banned", target });
  const act = { kind: "unban", room: "", target, by: user.name } as const;
  return [{ type: "act", act, by: user, then: noticed({ notice: "server_unbanned", target }) }];
}

/** `/announce TEXT`: to every room. */
export function announce<S>(scene: Scene<S>, user: User<S>, text: string): Effect<S>[] {
  const refused = mayNot(scene, user, "", "operator", "announce");
  if (refused !== undefined) return refused;
  return [{ type: "act", act: { kind: "announce", by: user.name, text }, by: user }];
}

/** The refusal when a server ban on `target` would reach an operator: one
 * online by that name, the operator's own address, loopback (behind a local
 * proxy, everyone), or an operator's address here. A server ban is kept
 * across restarts; one that shuts out every operator could never be lifted. */
function coversOperator<S>(
  scene: Scene<S>,
  user: User<S>,
  target: string,
): Effect<S>[] | undefined {
  const online = scene.registry.named(target);
  if (online !== undefined) return notAbove(scene, user, "", online.name);
  const operatorHere = [...scene.registry.locals()].some((u) =>
    u.local?.oper === true && u.local.address === target
  );
  if (target === user.local?.address || isLoopback(target) || operatorHere) {
    return refuse(user, { refusal: "ban_covers_operator" });
  }
  return undefined;
}
