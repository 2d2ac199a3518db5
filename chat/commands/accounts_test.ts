/**
 * Accounts in memory: when register, login, logout, password, unregister
 * and oper may start, what their tasks are, and what their results do.
 */

import assert from "node:assert/strict";
import { acts, addUser, refusals, repliedLines, tasks, testScene } from "../../testing/scene.ts";
import { enact } from "../acts.ts";
import { passwordChanged, register, registered, unregister, unregistered } from "./account.ts";
import { loggedIn, login, logout, oper, opered } from "./login.ts";
import { finishTask } from "./mod.ts";

Deno.test("register needs a store, a chosen free name, and no login", () => {
  const scene = testScene();
  const u1 = addUser(scene, "user1");
  assert.deepEqual(refusals(register(scene, u1, "longpassword")), ["choose_name_first"]);
  const carol = addUser(scene, "carol");
  scene.community.setRegistered("Carol", true);
  assert.deepEqual(refusals(register(scene, carol, "longpassword")), ["registered_already"]);
  const dave = addUser(scene, "dave", { account: "dave" });
  assert.deepEqual(refusals(register(scene, dave, "longpassword")), ["logged_in_already"]);
  scene.accounts = false;
  const erin = addUser(scene, "erin");
  assert.deepEqual(refusals(register(scene, erin, "longpassword")), ["no_accounts"]);
});

Deno.test("a password command waits for the last one, and plain TCP is warned once", () => {
  const scene = testScene();
  const fay = addUser(scene, "fay", { secure: false });
  const first = register(scene, fay, "longpassword");
  assert.deepEqual(repliedLines(first).length, 1, "the plain-TCP warning");
  assert.deepEqual(tasks(first).map((t) => t.kind), ["register"]);
  assert.deepEqual(refusals(register(scene, fay, "longpassword")), ["account_busy"]);
  finishTask(scene, fay, { task: tasks(first)[0] as never, failed: false, value: true });
  const again = login(scene, fay, "gail", "longpassword");
  assert.deepEqual(refusals(again), [], "no longer busy");
  assert.equal(repliedLines(again).length, 0, "warned once only");
});

Deno.test("a registration that comes back makes the account, logs its author in and claims the room they opened", () => {
  const scene = testScene();
  const gus = addUser(scene, "gus", { room: "attic" });
  scene.registry.room("attic")!.creator = gus.id;
  const task = { kind: "register", name: "gus", password: "p", at: 0 } as const;
  const effects = registered(scene, gus, task, true);
  assert.deepEqual(acts(effects), [
    { kind: "account", name: "gus", registered: true },
    { kind: "claim", room: "attic", owner: "gus", by: "gus" },
  ]);
  assert.equal(gus.local?.account, "gus");
  assert.deepEqual(repliedLines(effects), ["* you registered gus and are logged in"]);
  assert.deepEqual(
    acts(registered(scene, undefined, task, true)).map((a) => a.kind),
    ["account"],
    "even if its author left",
  );
});

Deno.test("five wrong passwords hold an account for a while; a right one takes the name", () => {
  const scene = testScene();
  scene.community.setRegistered("vic", true);
  const mallory = addUser(scene, "mallory");
  for (let i = 0; i < 5; i++) {
    const task = tasks(login(scene, mallory, "vic", "guess"))[0]!;
    assert.deepEqual(
      refusals(finishTask(scene, mallory, { task, failed: false, value: undefined } as never)),
      [
        "wrong_credentials",
      ],
    );
  }
  assert.deepEqual(refusals(login(scene, mallory, "vic", "guess")), ["too_many_failures"]);
  scene.clock.advance(60_000);
  const ok = login(scene, mallory, "vic", "right");
  assert.deepEqual(tasks(ok).map((t) => t.kind), ["login"]);
  const effects = loggedIn(scene, mallory, { kind: "login", key: "vic", password: "" }, "vic");
  assert.equal(mallory.local?.account, "vic");
  assert.equal(mallory.name, "vic", "the login renames to the account");
  assert.ok(repliedLines(effects).includes("* you are logged in as vic"));
});

Deno.test("a login to a name someone else is using is refused; logout goes back to userN", () => {
  const scene = testScene();
  addUser(scene, "zed");
  const other = addUser(scene, "other");
  const task = { kind: "login", key: "zed", password: "" } as const;
  assert.deepEqual(refusals(loggedIn(scene, other, task, "zed")), ["account_in_use"]);
  assert.deepEqual(refusals(logout(scene, other)), ["not_logged_in"]);
  const hal = addUser(scene, "hal", { account: "hal" });
  const out = logout(scene, hal);
  assert.equal(hal.local?.account, undefined);
  assert.equal(hal.name, hal.local?.assigned);
  assert.equal(repliedLines(out)[0], `* you are logged out; you are ${hal.local?.assigned} again`);
});

Deno.test("unregistering releases the rooms and op seats of the account", () => {
  const scene = testScene();
  const ivy = addUser(scene, "ivy", { account: "ivy" });
  scene.community.claim("loft", "ivy");
  scene.community.claim("den", "ann");
  scene.community.setOp("den", "ivy", true);
  assert.deepEqual(tasks(unregister(scene, ivy, "pw")).map((t) => t.kind), ["unregister"]);
  const effects = unregistered(scene, ivy, {
    kind: "unregister",
    account: "ivy",
    password: "",
    by: "ivy",
  }, true);
  assert.deepEqual(acts(effects), [
    { kind: "account", name: "ivy", registered: false },
    { kind: "release", room: "loft" },
    { kind: "op", room: "den", account: "ivy", on: false, by: "ivy" },
  ]);
  assert.equal(ivy.local?.account, undefined);
});

Deno.test("an operator's password is checked as slowly for a name that is no operator, which is never logged", () => {
  const scene = testScene();
  scene.operators.set("boss", "boss-hash");
  const u = addUser(scene, "u");
  // The swapped arguments of `/oper PASSWORD NAME`: the "name" is a password.
  assert.deepEqual(tasks(oper(scene, u, "hunter2hunter2", "boss")), [
    { kind: "oper", key: "hunter2hunter2", password: "boss", hash: "boss-hash", known: false },
  ], "another operator's hash: the same work as a real name");
  const unknown = {
    kind: "oper",
    key: "hunter2hunter2",
    password: "",
    hash: "",
    known: false,
  } as const;
  const effects = opered(scene, u, unknown, false);
  assert.deepEqual(refusals(effects), ["wrong_credentials"]);
  const lines = effects.flatMap((e) => e.type === "log" ? [e.line] : []);
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes("hunter2"), lines[0]);
  u.local!.busy = false;
  const known = { kind: "oper", key: "boss", password: "", hash: "", known: true } as const;
  opered(scene, u, known, true);
  assert.equal(u.local?.oper, true);
});

Deno.test("a task that failed is refused with the store's reason, logged, and frees the user", () => {
  const scene = testScene();
  const kim = addUser(scene, "kim");
  const task = tasks(register(scene, kim, "longpassword"))[0]!;
  assert.equal(kim.local?.busy, true);
  const effects = finishTask(scene, kim, { task, failed: true, error: "disk I/O error" });
  assert.deepEqual(refusals(effects), ["store_failed"]);
  assert.equal(kim.local?.busy, false);
  const logged = effects.flatMap((e) => e.type === "log" ? [e] : []);
  assert.deepEqual(logged.map((e) => [e.line, e.fields.level]), [
    ["[server] register failed: disk I/O error", "error"],
  ], "the failure is logged, with its cause");
});

Deno.test("deleting an account ends its logins everywhere, on every server that hears of it", () => {
  const scene = testScene();
  const a = addUser(scene, "shadow", { account: "carol" });
  const b = addUser(scene, "carol", { account: "carol" });
  const effects = unregistered(scene, b, {
    kind: "unregister",
    account: "carol",
    password: "",
    by: "carol",
  }, true);
  const deleted = acts(effects).find((act) => act.kind === "account");
  assert.deepEqual(deleted, { kind: "account", name: "carol", registered: false });
  // The act is enacted here and on every other server alike:
  const shown = enact(scene, deleted!);
  assert.equal(a.local?.account, undefined, "the other session is logged out");
  assert.deepEqual(repliedLines(shown), ["* the account carol was deleted: you are logged out"]);
});

Deno.test("a password change ends every other session of the account, and tells them", () => {
  const scene = testScene();
  const s1 = addUser(scene, "lurker", { account: "eve" });
  const s2 = addUser(scene, "eve", { account: "eve" });
  const effects = passwordChanged(scene, s2, {
    kind: "password",
    account: "eve",
    old: "",
    password: "",
  }, true);
  const ended = acts(effects).find((act) => act.kind === "logout");
  assert.ok(ended, "an act ends the other sessions, on every server");
  const shown = enact(scene, ended!);
  assert.equal(s1.local?.account, undefined);
  assert.equal(s2.local?.account, "eve", "the session that changed it stays");
  assert.ok(
    repliedLines(shown).includes(
      "* the password of eve was changed on another connection: you are logged out",
    ),
  );
});

Deno.test("a server-banned account cannot log in", () => {
  const scene = testScene();
  scene.community.setRegistered("badguy", true);
  scene.community.addBan("", { target: "badguy", by: "root", reason: "", until: 0 });
  const u = addUser(scene, "user9");
  assert.deepEqual(refusals(login(scene, u, "badguy", "pw")), ["name_banned"]);
  const task = { kind: "login", key: "badguy", password: "" } as const;
  assert.deepEqual(refusals(loggedIn(scene, u, task, "badguy")), ["name_banned"]);
  assert.equal(u.local?.account, undefined);
});

Deno.test("a name that looks like a registered one cannot be registered", () => {
  const scene = testScene();
  scene.community.setRegistered("carol", true);
  const fake = addUser(scene, "car0l");
  assert.deepEqual(refusals(register(scene, fake, "longpassword")), ["name_like_registered"]);
});

Deno.test("failed logins lock the guesser's address, not the account: the owner elsewhere still logs in", () => {
  const scene = testScene();
  scene.community.setRegistered("vic", true);
  const guesser = addUser(scene, "guesser", { address: "10.0.0.9" });
  for (let i = 0; i < 15; i++) {
    const started = tasks(login(scene, guesser, "vic", "guess"));
    if (started.length === 0) break;
    finishTask(scene, guesser, { task: started[0]!, failed: false, value: undefined } as never);
  }
  assert.deepEqual(refusals(login(scene, guesser, "vic", "guess")), ["too_many_failures"]);
  const owner = addUser(scene, "owner", { address: "10.0.0.5" });
  assert.deepEqual(tasks(login(scene, owner, "vic", "right")).map((t) => t.kind), ["login"]);
});

Deno.test("failures on names that do not exist do not lock loopback out (behind a proxy, everyone)", () => {
  for (const exemptLoopback of [true, false]) {
    const scene = testScene();
    scene.logins.exemptLoopback = exemptLoopback; // false: --limit-loopback
    const script = addUser(scene, "script", { address: "127.0.0.1" });
    for (let i = 0; i < 25; i++) {
      const started = tasks(login(scene, script, `nosuch${i}`, "guess"));
      if (started.length === 0) break;
      finishTask(scene, script, { task: started[0]!, failed: false, value: undefined } as never);
    }
    const someone = addUser(scene, "someone", { address: "127.0.0.1" });
    const attempt = login(scene, someone, "vic", "right");
    if (exemptLoopback) assert.deepEqual(tasks(attempt).map((t) => t.kind), ["login"]);
    else assert.deepEqual(refusals(attempt), ["too_many_failures"], "--limit-loopback");
  }
});

Deno.test("an address registers at most three accounts an hour (loopback only with --limit-loopback)", () => {
  const scene = testScene();
  const attempt = (name: string, address: string) =>
    register(scene, addUser(scene, name, { address }), "longpassword");
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(tasks(attempt(`fresh${i}`, "10.0.0.7")).map((t) => t.kind), ["register"]);
  }
  assert.deepEqual(refusals(attempt("fourth", "10.0.0.7")), ["too_many_registrations"]);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(tasks(attempt(`local${i}`, "127.0.0.1")).map((t) => t.kind), ["register"]);
  }
  scene.clock.advance(20 * 60_000);
  assert.deepEqual(tasks(attempt("later", "10.0.0.7")).map((t) => t.kind), ["register"]);
});
