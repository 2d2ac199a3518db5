/**
 * The command table: every command the chat server handles, keyed by name,
 * each to its module's handler, and every task's finish keyed by kind. The
 * compiler checks both are complete: a new command or task is an error
 * here until it has a handler.
 *
 * @module
 */

import type { Effect, Scene } from "../command.ts";
import type { ServerCommand } from "../commands.ts";
import type { Act } from "../community.ts";
import { type ChatEvent, refused } from "../events.ts";
import type { User } from "../registry.ts";
import type { Task, TaskDone, TaskValues } from "../tasks.ts";
import { enact, isStored, type StoredKind } from "../acts.ts";
import {
  password,
  passwordChanged,
  register,
  registered,
  unregister,
  unregistered,
} from "./account.ts";
import { enter, listNames, lookup, part, partAll, whoMask } from "./channels.ts";
import { history } from "./history.ts";
import { join } from "./join.ts";
import { help, rooms, who } from "./lists.ts";
import { loggedIn, login, logout, oper, opered } from "./login.ts";
import { nick } from "./nick.ts";
import { bans, kick, lift, op, sanction, topic } from "./room_ops.ts";
import { announce, kill, serverBan, serverUnban } from "./server_ops.ts";
import { act, message, tagmsg } from "./talk.ts";
import { whois } from "./whois.ts";
import { awayChanged } from "./notify.ts";

type Name = ServerCommand["name"];
type HandlerOf<K extends Name> = <S>(
  scene: Scene<S>,
  user: User<S>,
  command: Extract<ServerCommand, { name: K }>,
) => Effect<S>[];

const HANDLERS: { [K in Name]: HandlerOf<K> } = {
  nick: (scene, user, c) => nick(scene, user, c.nick),
  who: (scene, user) => who(scene, user),
  me: (scene, user, c) => act(scene, user, c.action),
  msg: (scene, user, c) => message(scene, user, c.to, c.text, false, c.tags),
  join: (scene, user, c) => join(scene, user, c.room),
  rooms: (scene, user) => rooms(scene, user),
  help: (scene, user) => help(scene, user),
  history: (scene, user, c) => history(scene, user, c),
  register: (scene, user, c) => register(scene, user, c.password),
  login: (scene, user, c) => login(scene, user, c.account, c.password),
  logout: (scene, user) => logout(scene, user),
  password: (scene, user, c) => password(scene, user, c.old, c.password),
  unregister: (scene, user, c) => unregister(scene, user, c.password),
  oper: (scene, user, c) => oper(scene, user, c.account, c.password),
  whois: (scene, user, c) => whois(scene, user, c.target),
  topic: (scene, user, c) => topic(scene, user, c.text),
  kick: (scene, user, c) => kick(scene, user, c.target, c.reason),
  ban: (scene, user, c) => sanction(scene, user, "ban", c.target, c.ms, c.reason),
  mute: (scene, user, c) => sanction(scene, user, "mute", c.target, c.ms, c.reason),
  unban: (scene, user, c) => lift(scene, user, "unban", c.target),
  unmute: (scene, user, c) => lift(scene, user, "unmute", c.target),
  bans: (scene, user) => bans(scene, user),
  op: (scene, user, c) => op(scene, user, c.target, true),
  deop: (scene, user, c) => op(scene, user, c.target, false),
  kill: (scene, user, c) => kill(scene, user, c.target, c.reason),
  gban: (scene, user, c) => serverBan(scene, user, c.target, c.ms, c.reason),
  ungban: (scene, user, c) => serverUnban(scene, user, c.target),
  announce: (scene, user, c) => announce(scene, user, c.text),
  enter: (scene, user, c) => enter(scene, user, c.room),
  part: (scene, user, c) => part(scene, user, c.reason),
  part_all: (scene, user) => partAll(scene, user),
  names: (scene, user, c) => listNames(scene, user, c.detail),
  who_mask: (scene, user, c) => whoMask(scene, user, c.mask),
  lookup: (scene, user, c) => lookup(scene, user, c.names, c.as),
  notice: (scene, user, c) => message(scene, user, c.to, c.text, true, c.tags),
  tagmsg: (scene, user, c) => tagmsg(scene, user, c.tags, c.to),
  chathistory: (scene, user, c) =>
    scene.history
      ? [{
        type: "history",
        to: user,
        room: user.room.name,
        page: { limit: c.limit, before: c.before },
      }]
      : [{ type: "reply", to: user, events: [refused({ refusal: "history_off" })] }],
  ping: (_, user, c) => [{ type: "reply", to: user, events: [{ type: "pong", token: c.token }] }],
  away: (_, user, c) => {
    const local = user.local;
    const text = c.text === "" ? undefined : c.text;
    if (local === undefined || local.away === text) return [];
    local.away = text;
    return awayChanged(user);
  },
};

/** Runs one command from a local user. */
export function runCommand<S>(scene: Scene<S>, user: User<S>, command: ServerCommand): Effect<S>[] {
  // The table is checked per name above; TypeScript cannot correlate a
  // union's member with its entry, so the lookup is widened here.
  const handler = HANDLERS[command.name] as HandlerOf<Name>;
  return handler(scene, user, command as never);
}

type FinishOf<K extends Task["kind"]> = <S>(
  scene: Scene<S>,
  user: User<S> | undefined,
  task: Extract<Task, { kind: K }>,
  value: TaskValues[K],
) => Effect<S>[];

const FINISH: { [K in Task["kind"]]: FinishOf<K> } = {
  register: registered,
  login: loggedIn,
  password: passwordChanged,
  unregister: unregistered,
  oper: opered,
  write: (scene, user, task, kept) =>
    kept ? took(scene, task.act, user, task.then) : user === undefined ? [] : [{
      type: "reply",
      to: user,
      events: [refused({ refusal: "room_owned", room: task.act.room })],
    }],
};

/** A task's result, for the command that started it (`user` is gone when
 * it left meanwhile). A task that failed (the store, the hashing) is
 * refused with a reason, and nothing changes. */
export function finishTask<S>(
  scene: Scene<S>,
  user: User<S> | undefined,
  done: TaskDone,
): Effect<S>[] {
  // A password task held the user's account commands; a store write did not.
  if (user?.local !== undefined && done.task.kind !== "write") user.local.busy = false;
  if (done.failed) {
    // Every failure is logged: the user is told only that it failed.
    const log: Effect<S> = {
      type: "log",
      line: `[server] ${done.task.kind} failed: ${done.error}`,
      fields: done.busy
        ? { level: "warn", event: "busy", task: done.task.kind }
        : { level: "error", event: "store_error", task: done.task.kind },
    };
    if (user === undefined) return [log];
    const refusal = refused({ refusal: done.busy ? "busy" : "store_failed" });
    return [log, { type: "reply", to: user, events: [refusal] }];
  }
  const finish = FINISH[done.task.kind] as FinishOf<Task["kind"]>;
  return finish(scene, user, done.task as never, done.value as never);
}

/** Carries out `act` for `by`: written first if it is kept (then it takes
 * effect when the write comes back), at once otherwise. */
export function perform<S>(
  scene: Scene<S>,
  act: Act,
  by: User<S> | undefined,
  then?: ChatEvent,
): Effect<S>[] {
  if (!isStored(act) || inMemoryOnly(scene, act)) return took(scene, act, by, then);
  if (!scene.accounts) {
    if (by?.local === undefined) return [];
    return [{ type: "reply", to: by, events: [refused({ refusal: "no_store" })] }];
  }
  return [{ type: "task", user: by, task: { kind: "write", act, then } }];
}

/** Whether `act` is on a room nobody owns, whose topic, bans and mutes
 * last while people are in it and are never written. */
function inMemoryOnly<S>(scene: Scene<S>, act: Extract<Act, { kind: StoredKind }>): boolean {
  if (act.kind === "claim" || act.kind === "release") return false;
  return act.room !== "" && !scene.community.keeps(act.room);
}

/** `act` has taken effect: enacted here, published, logged, and `then`
 * told to its author. */
function took<S>(
  scene: Scene<S>,
  act: Act,
  by: User<S> | undefined,
  then?: ChatEvent,
): Effect<S>[] {
  const effects = enact(scene, act);
  effects.push({ type: "publish", event: { type: "act", server: "", act } });
  const log = actLog<S>(act);
  if (log !== undefined) effects.push(log);
  if (then !== undefined && by?.local !== undefined) {
    effects.push({ type: "reply", to: by, events: [then] });
  }
  return effects;
}

/** Who did what to whom, where and why, for the operator's log. */
function actLog<S>(act: Act): Effect<S> | undefined {
  if (act.kind === "account" || act.kind === "claim" || act.kind === "release") return undefined;
  if (act.kind === "logout") return undefined;
  const fields: Record<string, string> = { event: "moderation", action: act.kind };
  const sanction = "sanction" in act ? act.sanction : undefined;
  fields.by = sanction?.by ?? ("by" in act ? act.by : "");
  const target = sanction?.label ?? sanction?.target ??
    ("target" in act ? act.target : "account" in act ? act.account : undefined);
  if (target !== undefined) fields.target = target;
  if ("room" in act) fields.room = act.room === "" ? "(server)" : act.room;
  const reason = sanction?.reason ?? ("reason" in act ? act.reason : undefined);
  if (reason) fields.reason = reason;
  if (sanction) {
    fields.until = sanction.until === 0 ? "never" : new Date(sanction.until).toISOString();
  }
  const where = fields.room ? ` in ${fields.room}` : "";
  const why = reason ? ` (${reason})` : "";
  const line = `[server] ${fields.by}: ${act.kind}${target ? ` ${target}` : ""}${where}${why}`;
  return { type: "log", line, fields: { level: "warn", ...fields } };
}
