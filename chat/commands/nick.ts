/**
 * `/nick NAME`, and everything else that renames: a login taking its
 * account's name, a logout going back to `userN`, a name lost to another
 * server.
 *
 * A linked server claims a chosen name cluster-wide first. The chat server
 * never waits for the claim: the `claim` effect sends it, and the answer
 * comes back later as a `claim_answer` message (or the timer as
 * `claim_expired`), whichever is first. The name is checked again when the
 * answer arrives, since it may have been taken here meanwhile, and a name
 * granted too late is given back.
 *
 * @module
 */

import { type Effect, localOf, refuse, type Scene, tell } from "../command.ts";
import { isAssignedName } from "../names.ts";
import type { User } from "../registry.ts";

/** The answer to a claim, as it comes back to the chat server. */
export interface ClaimAnswer {
  token: number;
  name: string;
  granted: boolean;
}

/** `/nick NAME`: a registered name only for its account, a banned one for
 * nobody, a taken or reserved one for nobody else. */
export function nick<S>(scene: Scene<S>, user: User<S>, name: string): Effect<S>[] {
  const key = name.toLowerCase();
  const local = localOf(user);
  if (scene.community.registered(key) && local.account !== key) {
    return refuse(user, { refusal: "name_registered", name });
  }
  const like = scene.community.lookAlike(key);
  if (like !== undefined && local.account !== like) {
    return refuse(user, { refusal: "name_like_registered", name, registered: like });
  }
  if (scene.community.serverBan(key, "", scene.clock.now()) !== undefined) {
    return refuse(user, { refusal: "name_banned", name });
  }
  return rename(scene, user, name);
}

/** Renames `user` to `name` if the name is free (claiming it cluster-wide
 * first when it must be). */
export function rename<S>(scene: Scene<S>, user: User<S>, name: string): Effect<S>[] {
  const refusal = scene.registry.refuseName(user, name);
  if (refusal !== undefined) return refuse(user, refusal);
  const local = localOf(user);
  if (local.claim) return refuse(user, { refusal: "rename_under_way" });
  // userN names are unique by construction and a case change keeps the
  // name; only a new chosen name needs the other servers' consent.
  const needsClaim = scene.link.linked && !isAssignedName(name) &&
    name.toLowerCase() !== user.name.toLowerCase();
  if (!needsClaim) return renamed(scene, user, name);
  if (!scene.link.up) return refuse(user, { refusal: "names_need_link" });
  const token = ++scene.claims.lastToken;
  local.claim = { token, name };
  return [{ type: "claim", user, name, token }];
}

/** The other servers answered a claim. */
export function claimAnswered<S>(scene: Scene<S>, user: User<S>, answer: ClaimAnswer): Effect<S>[] {
  const local = localOf(user);
  const claim = local.claim;
  if (claim === undefined || claim.token !== answer.token) return tooLate(user, answer);
  local.claim = undefined;
  if (!answer.granted) {
    return refuse(
      user,
      scene.link.up ? { refusal: "name_taken", name: claim.name } : { refusal: "names_need_link" },
    );
  }
  // Checked again: the name may have been taken here while we waited.
  const refusal = scene.registry.refuseName(user, claim.name);
  if (refusal === undefined) return renamed(scene, user, claim.name);
  return [{ type: "release", key: claim.name.toLowerCase() }, ...refuse(user, refusal)];
}

/** A claim's time ran out before its answer came. */
export function claimExpired<S>(user: User<S>, token: number): Effect<S>[] {
  const local = localOf(user);
  if (local.claim?.token !== token) return [];
  local.claim = undefined;
  return refuse(user, { refusal: "claim_timed_out" });
}

/** An answer to a claim that already expired: give back a name we were
 * granted, unless it is in use or being claimed again meanwhile. */
function tooLate<S>(user: User<S>, answer: ClaimAnswer): Effect<S>[] {
  const key = answer.name.toLowerCase();
  const claimedAgain = localOf(user).claim?.name.toLowerCase() === key;
  if (answer.granted && user.name.toLowerCase() !== key && !claimedAgain) {
    return [{ type: "release", key }];
  }
  return [];
}

/** Redis says another server holds `user`'s name (granted there while
 * Redis had lost our claim): the user goes back to its assigned name and
 * is told why, and the other server is asked to tell its user. */
export function nameLost<S>(scene: Scene<S>, user: User<S>): Effect<S>[] {
  const name = user.name;
  const back = localOf(user).assigned;
  return [
    ...tell(user, { notice: "name_lost", name, back }),
    ...renamed(scene, user, back),
    { type: "publish", event: { type: "conflict", server: "", name } },
  ];
}

/** Renames now: the registry, the session, the room, the other servers. */
function renamed<S>(scene: Scene<S>, user: User<S>, name: string): Effect<S>[] {
  const old = user.name;
  const effects: Effect<S>[] = [];
  if (old.toLowerCase() !== name.toLowerCase()) {
    effects.push({ type: "release", key: old.toLowerCase() });
  }
  scene.registry.rename(user, name);
  rememberName(localOf(user), old);
  effects.push(
    { type: "renamed", user, name },
    { type: "rooms", user, event: { type: "rename", from: old, to: name } },
    { type: "publish", event: { type: "nick", server: "", id: user.id, name } },
    {
      type: "log",
      line: `[server] ${old} is now known as ${name}`,
      fields: { event: "rename", user: name, from: old },
    },
  );
  return effects;
}

/** Names a connection had before its current one, most recent last: a
 * mute on any of them follows it (renaming is no way out of a mute). */
const PAST_NAMES = 8;

function rememberName(local: { pastNames?: string[] }, old: string): void {
  const past = local.pastNames ??= [];
  if (!past.includes(old)) past.push(old);
  if (past.length > PAST_NAMES) past.shift();
}
