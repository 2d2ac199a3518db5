/**
 * What every password command shares: whether it may start (a store, no
 * other one running, the plain-TCP warning once), the failed-attempt
 * limits, and starting its task with the user's account commands on hold.
 *
 * @module
 */

import { type Effect, localOf, refuse, type Scene, tell } from "../command.ts";
import { isLoopback } from "../../net/mod.ts";
import type { User } from "../registry.ts";
import type { Task } from "../tasks.ts";

/** Runs `body` if a password command may start now (a store if it needs
 * one, no other one running), after the plain-TCP warning the first time;
 * otherwise the refusal. */
export function whenReady<S>(
  scene: Scene<S>,
  user: User<S>,
  needsStore: boolean,
  body: () => Effect<S>[],
): Effect<S>[] {
  const local = localOf(user);
  if (needsStore && !scene.accounts) return refuse(user, { refusal: "no_accounts" });
  if (local.busy) return refuse(user, { refusal: "account_busy" });
  if (local.secure || local.warnedPlain) return body();
  local.warnedPlain = true;
  return [...tell(user, { notice: "plaintext" }), ...body()];
}

/** The refusal when `user` must wait before trying `key` again. */
export function limited<S>(scene: Scene<S>, user: User<S>, key: string): Effect<S>[] | undefined {
  const now = scene.clock.now();
  const address = localOf(user).address;
  const logins = scene.logins;
  const wait = Math.max(
    logins.byAccount.retryIn(accountAt(key, address), now),
    limitsAddress(scene, address) ? logins.byAddress.retryIn(address, now) : 0,
  );
  return wait === 0 ? undefined : refuse(user, { refusal: "too_many_failures", waitMs: wait });
}

/** A wrong password for `key` (logged as `shown`): counted, logged,
 * refused. */
export function failed<S>(
  scene: Scene<S>,
  user: User<S>,
  key: string,
  what: string,
  shown = key,
): Effect<S>[] {
  const now = scene.clock.now();
  const address = localOf(user).address;
  scene.logins.byAccount.fail(accountAt(key, address), now);
  if (limitsAddress(scene, address)) scene.logins.byAddress.fail(address, now);
  const login = what === "login" || what === "oper";
  return [
    {
      type: "log",
      line: `[server] failed ${what} for ${shown} from ${address}`,
      fields: {
        level: "warn",
        event: "login_failed",
        user: user.name,
        account: shown,
        peer: address,
      },
    },
    ...refuse(
      user,
      !login
        ? { refusal: "wrong_password" }
        : what === "oper"
        ? { refusal: "wrong_credentials", oper: true }
        : { refusal: "wrong_credentials" },
    ),
  ];
}

/** Starts `task` with the user's account commands on hold until it is done. */
export function start<S>(user: User<S>, task: Task): Effect<S>[] {
  localOf(user).busy = true;
  return [{ type: "task", user, task }];
}

/** A room `user` created and is still in becomes theirs when they register
 * (or log in), unless someone owns it already. */
export function claimCreatedRoom<S>(scene: Scene<S>, user: User<S>): Effect<S>[] {
  const room = user.room;
  const owner = user.local?.account;
  if (room.creator !== user.id || scene.community.keeps(room.name) || owner === undefined) {
    return [];
  }
  return [{ type: "act", act: { kind: "claim", room: room.name, owner, by: user.name }, by: user }];
}

/** The key of an account tried from an address. */
function accountAt(key: string, address: string): string {
  return `${key} ${address}`;
}

/** Whether failures from `address` count against it (over every account). */
function limitsAddress<S>(scene: Scene<S>, address: string): boolean {
  return !(scene.logins.exemptLoopback && isLoopback(address));
}
