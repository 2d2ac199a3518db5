/**
 * `/login NAME PASSWORD` (`/identify`), `/logout`, and `/oper NAME
 * PASSWORD`: taking an identity, and giving it back.
 *
 * @module
 */

import { type Effect, localOf, refuse, type Scene, tell } from "../command.ts";
import type { User } from "../registry.ts";
import type { Task } from "../tasks.ts";
import { nick } from "./nick.ts";
import { accountChanged } from "./notify.ts";
import { claimCreatedRoom, failed, limited, start, whenReady } from "./passwords.ts";

type TaskOf<K extends Task["kind"]> = Extract<Task, { kind: K }>;

/** `/login NAME PASSWORD`. */
export function login<S>(
  scene: Scene<S>,
  user: User<S>,
  name: string,
  password: string,
): Effect<S>[] {
  return whenReady(scene, user, true, () => {
    const key = name.toLowerCase();
    if (localOf(user).account === key) return refuse(user, { refusal: "logged_in_already", name });
    if (serverBanned(scene, key)) return refuse(user, { refusal: "name_banned", name });
    const wait = limited(scene, user, key);
    if (wait !== undefined) return wait;
    return start(user, { kind: "login", key, password });
  });
}

/** The password was checked: the user takes the account and its name,
 * unless someone else is using the name. */
export function loggedIn<S>(
  scene: Scene<S>,
  user: User<S> | undefined,
  task: TaskOf<"login">,
  account: string | undefined,
): Effect<S>[] {
  if (user === undefined) return [];
  if (account === undefined) return failed(scene, user, task.key, "login");
  // Banned while the password was being checked: still no.
  if (serverBanned(scene, task.key)) return refuse(user, { refusal: "name_banned", name: account });
  const holder = scene.registry.named(account);
  if (holder !== undefined && holder !== user) {
    return refuse(user, { refusal: "account_in_use", name: account });
  }
  localOf(user).account = task.key;
  const effects: Effect<S>[] = [
    {
      type: "log",
      line: `[server] ${user.name} logged in as ${account}`,
      fields: { event: "login", user: account },
    },
    ...tell(user, { notice: "logged_in", name: account }),
    ...accountChanged(user),
  ];
  if (user.name !== account) effects.push(...nick(scene, user, account));
  return [...effects, ...claimCreatedRoom(scene, user)];
}

/** `/logout`: back to the `userN` name given at connect. */
export function logout<S>(scene: Scene<S>, user: User<S>): Effect<S>[] {
  const local = localOf(user);
  if (local.account === undefined) return refuse(user, { refusal: "not_logged_in" });
  local.account = undefined;
  if (user.name === local.assigned) {
    return [...tell(user, { notice: "logged_out" }), ...accountChanged(user)];
  }
  return [
    ...tell(user, { notice: "logged_out", assigned: local.assigned }),
    ...accountChanged(user),
    ...nick(scene, user, local.assigned),
  ];
}

/** `/oper NAME PASSWORD`: become a server operator (`--operators`). */
export function oper<S>(
  scene: Scene<S>,
  user: User<S>,
  name: string,
  password: string,
): Effect<S>[] {
  return whenReady(scene, user, false, () => {
    const key = name.toLowerCase();
    const wait = limited(scene, user, `oper:${key}`);
    if (wait !== undefined) return wait;
    const own = scene.operators.get(key);
    const hash = own ?? scene.operators.values().next().value;
    return start(user, { kind: "oper", key, password, hash, known: own !== undefined });
  });
}

/** The operator's password was checked. */
export function opered<S>(
  scene: Scene<S>,
  user: User<S> | undefined,
  task: TaskOf<"oper">,
  ok: boolean,
): Effect<S>[] {
  if (user === undefined) return [];
  const key = task.key;
  // An unknown name is not logged: it may be a password typed first.
  const shown = task.known ? `oper:${key}` : "an unknown operator name";
  if (!ok) return failed(scene, user, `oper:${key}`, "oper", shown);
  localOf(user).oper = true;
  return [{
    type: "log",
    line: `[server] ${user.name} is a server operator now (as ${key})`,
    fields: { level: "warn", event: "oper", user: user.name, operator: key },
  }, ...tell(user, { notice: "oper" })];
}

/** Whether the account `key` is banned from the server. */
function serverBanned<S>(scene: Scene<S>, key: string): boolean {
  return scene.community.serverBan(key, "", scene.clock.now()) !== undefined;
}
