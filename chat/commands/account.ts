/**
 * An account's life: `/register PASSWORD`, `/password OLD NEW` and
 * `/unregister PASSWORD`. Each starts a task (hashing, checking, the
 * store) and finishes when its result comes back.
 *
 * @module
 */

import { type Effect, localOf, refuse, type Scene, tell } from "../command.ts";
import { isLoopback } from "../../net/mod.ts";
import { isAssignedName } from "../names.ts";
import type { User } from "../registry.ts";
import type { Task } from "../tasks.ts";
import { claimCreatedRoom, failed, limited, start, whenReady } from "./passwords.ts";
import { accountChanged } from "./notify.ts";

type TaskOf<K extends Task["kind"]> = Extract<Task, { kind: K }>;

/** `/register PASSWORD`: the current name, if it is a chosen one and free. */
export function register<S>(scene: Scene<S>, user: User<S>, password: string): Effect<S>[] {
  return whenReady(scene, user, true, () => {
    const local = localOf(user);
    const name = user.name;
    if (local.account !== undefined) {
      return refuse(user, { refusal: "logged_in_already", name: local.account });
    }
    if (isAssignedName(name)) return refuse(user, { refusal: "choose_name_first" });
    if (scene.community.registered(name)) {
      return refuse(user, { refusal: "registered_already", name });
    }
    const like = scene.community.lookAlike(name);
    if (like !== undefined) {
      return refuse(user, { refusal: "name_like_registered", name, registered: like });
    }
    const wait = registrationWait(scene, local.address);
    if (wait > 0) return refuse(user, { refusal: "too_many_registrations", waitMs: wait });
    return start(user, { kind: "register", name, password, at: scene.clock.now() });
  });
}

/** The account was created, or its name was taken meanwhile. Whether or not
 * its owner is still here, the account exists now. */
export function registered<S>(
  scene: Scene<S>,
  user: User<S> | undefined,
  task: TaskOf<"register">,
  created: boolean,
): Effect<S>[] {
  const name = task.name;
  const effects: Effect<S>[] = [];
  if (created) {
    const act = { kind: "account", name: name.toLowerCase(), registered: true } as const;
    effects.push({ type: "act", act, by: user }, {
      type: "log",
      line: `[server] ${name} registered`,
      fields: { event: "register", user: name },
    });
  }
  if (user === undefined) return effects;
  if (!created) return [...effects, ...refuse(user, { refusal: "registered_already", name })];
  if (user.name.toLowerCase() !== name.toLowerCase()) {
    return [...effects, ...tell(user, { notice: "registered_elsewhere", name })];
  }
  localOf(user).account = name.toLowerCase();
  return [
    ...effects,
    ...tell(user, { notice: "registered", name }),
    ...accountChanged(user),
    ...claimCreatedRoom(scene, user),
  ];
}

/** `/password OLD NEW`. */
export function password<S>(
  scene: Scene<S>,
  user: User<S>,
  old: string,
  password: string,
): Effect<S>[] {
  return whenReady(scene, user, true, () => {
    const account = localOf(user).account;
    if (account === undefined) return refuse(user, { refusal: "log_in_first" });
    const wait = limited(scene, user, account);
    if (wait !== undefined) return wait;
    return start(user, { kind: "password", account, old, password });
  });
}

/** The old password was checked, and the new one set if it matched. */
export function passwordChanged<S>(
  scene: Scene<S>,
  user: User<S> | undefined,
  task: TaskOf<"password">,
  changed: boolean,
): Effect<S>[] {
  if (user === undefined) return [];
  if (!changed) return failed(scene, user, task.account, "password change");
  // Every other session of the account ends, on every server.
  const ended = { kind: "logout", account: task.account, except: user.id } as const;
  return [{ type: "act", act: ended, by: user }, {
    type: "log",
    line: `[server] ${user.name} changed their password`,
    fields: { event: "password", user: user.name },
  }, ...tell(user, { notice: "password_changed" })];
}

/** `/unregister PASSWORD`. */
export function unregister<S>(scene: Scene<S>, user: User<S>, password: string): Effect<S>[] {
  return whenReady(scene, user, true, () => {
    const account = localOf(user).account;
    if (account === undefined) return refuse(user, { refusal: "log_in_first" });
    const wait = limited(scene, user, account);
    if (wait !== undefined) return wait;
    return start(user, { kind: "unregister", account, password, by: user.name });
  });
}

/** The account was deleted if the password matched: its rooms are
 * released and its op seats taken back, so whoever registers the name next
 * inherits nothing. */
export function unregistered<S>(
  scene: Scene<S>,
  user: User<S> | undefined,
  task: TaskOf<"unregister">,
  deleted: boolean,
): Effect<S>[] {
  const { account, by } = task;
  const effects: Effect<S>[] = deleted ? release(scene, account, by) : [];
  if (user === undefined) return effects;
  if (!deleted) return [...effects, ...failed(scene, user, account, "unregister")];
  localOf(user).account = undefined;
  return [
    ...effects,
    ...tell(user, { notice: "unregistered", name: account }),
    ...accountChanged(user),
  ];
}

function release<S>(scene: Scene<S>, account: string, by: string): Effect<S>[] {
  const effects: Effect<S>[] = [
    { type: "act", act: { kind: "account", name: account, registered: false } },
  ];
  for (const room of scene.community.ownedBy(account)) {
    effects.push({ type: "act", act: { kind: "release", room } });
  }
  for (const room of scene.community.oppedIn(account)) {
    effects.push({ type: "act", act: { kind: "op", room, account, on: false, by } });
  }
  effects.push({
    type: "log",
    line: `[server] ${account} unregistered`,
    fields: { event: "unregister", user: account },
  });
  return effects;
}

/** How long an address must wait to register another account; counts
 * this one if it may (loopback only with `--limit-loopback`). */
function registrationWait<S>(scene: Scene<S>, address: string): number {
  if (scene.logins.exemptLoopback && isLoopback(address)) return 0;
  const now = scene.clock.now();
  const wait = scene.logins.registrations.retryIn(address, now);
  if (wait === 0) scene.logins.registrations.fail(address, now);
  return wait;
}
