/**
 * Acts, one record per kind: whether the store keeps it (`stored`), how it
 * changes the in-memory community (`apply`), what the people it concerns
 * are shown (`show`), and how one is rebuilt from another server's fields
 * (`validate`). A new kind of act is a compile error until it has all four.
 *
 * An act is carried out the same way wherever it starts: written first if
 * stored (the `write` task), then applied and shown here, and published
 * for the other servers, which apply and show it to their own users.
 *
 * @module
 */

import type { Effect, Scene } from "./command.ts";
import type { Act, Community, Sanction } from "./community.ts";
import { nick } from "./commands/nick.ts";
import { accountChanged } from "./commands/notify.ts";
import { type Notice, noticed } from "./events.ts";
import { showBan, showKick, showMute, shown, toRoom } from "./sanctions.ts";

/** Field checks for acts from other servers (`cluster/events.ts` has them:
 * each throws on a value that does not fit). */
export interface FieldChecks {
  /** A name under the name rule. */
  name(value: unknown): string;
  /** A lower-cased name. */
  account(value: unknown): string;
  /** Text with no control characters. */
  text(value: unknown): string;
  /** A room's name, or "" for the whole server. */
  scope(value: unknown): string;
  /** A lower-cased name or an address. */
  target(value: unknown): string;
  bool(value: unknown): boolean;
  /** A user's number. */
  id(value: unknown): number;
  sanction(value: unknown): Sanction;
}

type Fields = Record<string, unknown>;

/** One kind of act. */
interface ActKind<A extends Act> {
  /** Written to the store before it takes effect. */
  stored: boolean;
  apply(community: Community, act: A): void;
  show<S>(scene: Scene<S>, act: A): Effect<S>[];
  validate(v: Fields, check: FieldChecks): A;
}

type Acts = { [K in Act["kind"]]: ActKind<Extract<Act, { kind: K }>> };

/** Every kind of act; see the module doc. */
export const ACTS: Acts = {
  claim: {
    stored: true,
    apply: (community, act) => community.claim(act.room, act.owner),
    show: (scene, act) => toRoom(scene, act.room, { type: "owned", room: act.room, owner: act.by }),
    validate: (v, c) => ({
      kind: "claim",
      room: c.name(v.room),
      owner: c.account(v.owner),
      by: c.name(v.by),
    }),
  },
  release: {
    stored: true,
    apply: (community, act) => community.release(act.room),
    show: (scene, act) => toRoom(scene, act.room, { type: "released", room: act.room }),
    validate: (v, c) => ({ kind: "release", room: c.name(v.room) }),
  },
  topic: {
    stored: true,
    apply: (community, act) => community.setTopic(act.room, act.text, act.by),
    show: (scene, { room, by, text }) => toRoom(scene, room, { type: "topic_set", room, by, text }),
    validate: (v, c) => ({
      kind: "topic",
      room: c.name(v.room),
      text: c.text(v.text),
      by: c.name(v.by),
    }),
  },
  op: {
    stored: true,
    apply: (community, act) => community.setOp(act.room, act.account, act.on),
    show: (scene, { room, by, on, account }) =>
      toRoom(scene, room, { type: "opped", room, name: shown(scene, account), by, on }),
    validate: (v, c) => ({
      kind: "op",
      room: c.name(v.room),
      account: c.account(v.account),
      on: c.bool(v.on),
      by: c.name(v.by),
    }),
  },
  chanop: {
    stored: false,
    // Held by the registry's room, not the community: it lasts while the
    // person is in the room, so it is set as it is shown.
    apply: () => {},
    show: (scene, { room: name, name: target, on, by }) => {
      const room = scene.registry.room(name);
      const user = scene.registry.named(target);
      if (room === undefined || user === undefined) return [];
      scene.registry.setOp(room, user, on);
      return toRoom(scene, name, { type: "opped", room: room.name, name: user.name, by, on });
    },
    validate: (v, c) => ({
      kind: "chanop",
      room: c.name(v.room),
      name: c.name(v.name),
      on: c.bool(v.on),
      by: c.name(v.by),
    }),
  },
  ban: {
    stored: true,
    apply: (community, act) => community.addBan(act.room, act.sanction),
    show: (scene, act) => showBan(scene, act.room, act.sanction),
    validate: (v, c) => ({ kind: "ban", room: c.scope(v.room), sanction: c.sanction(v.sanction) }),
  },
  unban: {
    stored: true,
    apply: (community, act) => community.liftBan(act.room, act.target),
    show: (scene, { room, target, by }) =>
      room === ""
        ? []
        : toRoom(scene, room, { type: "unbanned", room, name: shown(scene, target), by }),
    validate: (v, c) => ({
      kind: "unban",
      room: c.scope(v.room),
      target: c.target(v.target),
      by: c.name(v.by),
    }),
  },
  mute: {
    stored: true,
    apply: (community, act) => community.addMute(act.room, act.sanction),
    show: (scene, act) => showMute(scene, act.room, act.sanction),
    validate: (v, c) => ({ kind: "mute", room: c.name(v.room), sanction: c.sanction(v.sanction) }),
  },
  unmute: {
    stored: true,
    apply: (community, act) => community.liftMute(act.room, act.target),
    show: (scene, { room, target, by }) =>
      toRoom(scene, room, { type: "unmuted", room, name: shown(scene, target), by }),
    validate: (v, c) => ({
      kind: "unmute",
      room: c.name(v.room),
      target: c.target(v.target),
      by: c.name(v.by),
    }),
  },
  account: {
    stored: false,
    apply: (community, act) => community.setRegistered(act.name, act.registered),
    // A deleted account's sessions end everywhere: whoever registers the
    // name next inherits nothing, no session included.
    show: (scene, act) =>
      act.registered
        ? []
        : logOut(scene, act.name, undefined, { notice: "account_deleted", name: act.name }),
    validate: (v, c) => ({
      kind: "account",
      name: c.account(v.name),
      registered: c.bool(v.registered),
    }),
  },
  logout: {
    stored: false,
    apply: () => {},
    show: (scene, act) =>
      logOut(scene, act.account, act.except, {
        notice: "password_changed_elsewhere",
        name: act.account,
      }),
    validate: (v, c) => ({ kind: "logout", account: c.account(v.account), except: c.id(v.except) }),
  },
  kick: {
    stored: false,
    apply: () => {},
    show: (scene, act) => showKick(scene, act.room, act.target, act.by, act.reason),
    validate: (v, c) => ({
      kind: "kick",
      room: c.name(v.room),
      target: c.name(v.target),
      by: c.name(v.by),
      reason: c.text(v.reason),
    }),
  },
  kill: {
    stored: false,
    apply: () => {},
    show: (scene, { target: name, by, reason }) => {
      const target = scene.registry.named(name);
      if (target?.local === undefined) return [];
      const notice = { refusal: "killed", by, reason } as const;
      return [{ type: "disconnect", user: target, notice, reason: `killed by ${by}: ${reason}` }];
    },
    validate: (v, c) => ({
      kind: "kill",
      target: c.name(v.target),
      by: c.name(v.by),
      reason: c.text(v.reason),
    }),
  },
  announce: {
    stored: false,
    apply: () => {},
    show: (_, { by, text }) => [{ type: "everyone", event: { type: "announcement", by, text } }],
    validate: (v, c) => ({ kind: "announce", by: c.name(v.by), text: c.text(v.text) }),
  },
};

/** The act kinds the store keeps. */
export type StoredKind = Extract<
  Act,
  { kind: "claim" | "release" | "topic" | "op" | "ban" | "unban" | "mute" | "unmute" }
>["kind"];

/** Whether `act` is written to the store before it takes effect. */
export function isStored(act: Act): act is Extract<Act, { kind: StoredKind }> {
  return ACTS[act.kind].stored;
}

/** Applies `act` to the in-memory community. */
export function applyAct(community: Community, act: Act): void {
  (ACTS[act.kind] as ActKind<Act>).apply(community, act);
}

/** Applies `act` here and shows it to this server's users. */
export function enact<S>(scene: Scene<S>, act: Act): Effect<S>[] {
  const kind = ACTS[act.kind] as ActKind<Act>;
  kind.apply(scene.community, act);
  return kind.show(scene, act);
}

/** Rebuilds an act from another server's fields; throws (from `check`) on
 * anything that does not fit. */
export function validateAct(v: Fields, check: FieldChecks): Act | undefined {
  const kind = v.kind;
  if (typeof kind !== "string" || !Object.hasOwn(ACTS, kind)) return undefined;
  return (ACTS[kind as Act["kind"]] as ActKind<Act>).validate(v, check);
}

/** Logs out this server's sessions of `account` but user `except`, with
 * `notice`; one that holds the account's name goes back to its `userN`. */
function logOut<S>(
  scene: Scene<S>,
  account: string,
  except: number | undefined,
  notice: Notice,
): Effect<S>[] {
  const effects: Effect<S>[] = [];
  for (const user of scene.registry.locals()) {
    const local = user.local;
    if (local?.account !== account || user.id === except) continue;
    local.account = undefined;
    effects.push({ type: "reply", to: user, events: [noticed(notice)] }, ...accountChanged(user));
    if (user.name.toLowerCase() === account) effects.push(...nick(scene, user, local.assigned));
  }
  return effects;
}
