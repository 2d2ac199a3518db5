/**
 * Several rooms at once, in memory: an IRC user enters and parts rooms
 * without leaving the others, its lines and commands go to the room they
 * name, and being kicked or banned takes it out of that room only.
 */

import assert from "node:assert/strict";
import { acts, addUser, ownRoom, refusals, repliedEvents, testScene } from "../../testing/scene.ts";
import type { Effect } from "../command.ts";
import { enter, focus, leaveRoom, partAll } from "./channels.ts";
import { kick } from "./room_ops.ts";
import { say } from "./talk.ts";
import { enact } from "../acts.ts";
import { applyRemote } from "./remote.ts";

/** Where each room effect goes, and what it says. */
function roomEvents<S>(effects: Effect<S>[]): [string, string][] {
  return effects.flatMap((e) => e.type === "room" ? [[e.room.name, e.event.type]] : []);
}

function roomNames(user: { rooms: Set<{ name: string }> }): string[] {
  return [...user.rooms].map((r) => r.name);
}

Deno.test("an IRC user starts in no room and enters several without leaving any", () => {
  const scene = testScene();
  const ann = addUser(scene, "ann", { irc: [] });
  assert.deepEqual(roomNames(ann), []);
  assert.equal(ann.room, scene.registry.nowhere);
  enter(scene, ann, "lobby");
  const effects = enter(scene, ann, "games");
  assert.deepEqual(roomNames(ann), ["lobby", "games"]);
  assert.deepEqual(roomEvents(effects), [["games", "enter"]]);
  const told = repliedEvents(effects).map((e) => e.type);
  assert.deepEqual(told, ["room", "who"], "its own join, then the names");
  assert.deepEqual(enter(scene, ann, "GAMES"), [], "entering a room again does nothing");
});

Deno.test("an IRC user may be in 50 rooms, and is refused a 51st", () => {
  const scene = testScene();
  const ann = addUser(scene, "ann", { irc: [] });
  for (let i = 0; i < 50; i++) enter(scene, ann, `room${i}`);
  assert.equal(ann.rooms.size, 50);
  assert.deepEqual(refusals(enter(scene, ann, "one-more")), ["too_many_rooms"]);
  assert.equal(scene.registry.room("one-more"), undefined, "no room was made for it");
});

Deno.test("a line goes to the room it names, and to no other of the user's rooms", () => {
  const scene = testScene();
  const ann = addUser(scene, "ann", { irc: ["lobby", "games"] });
  const bob = addUser(scene, "bob", { room: "lobby" });
  assert.equal(focus(scene, ann, "lobby"), undefined);
  const effects = say(scene, ann, "hi bob");
  assert.deepEqual(roomEvents(effects), [["lobby", "say"]]);
  assert.equal(bob.room.name, "lobby");
  assert.deepEqual(refusals(focus(scene, ann, "attic") ?? []), ["no_such_channel"]);
  addUser(scene, "cy", { room: "attic" });
  assert.deepEqual(refusals(focus(scene, ann, "attic") ?? []), ["cannot_send"]);
  assert.deepEqual(
    refusals(focus(scene, ann, "attic", { name: "kick", target: "cy", reason: "" }) ?? []),
    ["not_on_channel"],
  );
  assert.equal(
    focus(scene, ann, "attic", { name: "names", detail: false }),
    undefined,
    "anyone may look at a room's names",
  );
});

Deno.test("parting one room keeps the others; JOIN 0 parts them all; the last one out closes it", () => {
  const scene = testScene();
  const ann = addUser(scene, "ann", { irc: ["lobby", "games", "den"] });
  const effects = leaveRoom(scene, ann, "games", "later");
  assert.deepEqual(roomNames(ann), ["lobby", "den"]);
  assert.equal(scene.registry.room("games"), undefined, "nobody was left in games");
  assert.deepEqual(repliedEvents(effects), [
    { type: "exit", name: "ann", room: "games", reason: "later" },
  ]);
  assert.deepEqual(refusals(leaveRoom(scene, ann, "games")), ["not_on_channel"]);
  partAll(scene, ann);
  assert.deepEqual(roomNames(ann), []);
  assert.equal(ann.room, scene.registry.nowhere);
  assert.ok(scene.registry.room("lobby") !== undefined, "the lobby never goes");
});

Deno.test("a kicked IRC user leaves that room only; a kicked nc user goes to the lobby", () => {
  const scene = testScene();
  ownRoom(scene, "den", "olga");
  const olga = addUser(scene, "olga", { account: "olga", room: "den" });
  const ann = addUser(scene, "ann", { irc: ["lobby", "den"] });
  const bob = addUser(scene, "bob", { room: "den" });
  focus(scene, ann, "den");
  for (const act of acts(kick(scene, olga, "ann", "noisy"))) enact(scene, act);
  assert.deepEqual(roomNames(ann), ["lobby"]);
  const shown = acts(kick(scene, olga, "bob", "noisy")).flatMap((act) => enact(scene, act));
  assert.deepEqual(roomNames(bob), ["lobby"]);
  assert.deepEqual(roomEvents(shown).filter(([room]) => room === "den"), [["den", "kicked"]]);
});

Deno.test("a kick takes another server's user out of the room at once: its leave shows nothing more", () => {
  const scene = testScene();
  ownRoom(scene, "den", "olga");
  const olga = addUser(scene, "olga", { account: "olga", room: "den" });
  const kim = { server: "s2", id: 900, name: "kim", rooms: ["den"] };
  applyRemote(scene, { type: "join", server: "s2", user: kim });
  const shown = acts(kick(scene, olga, "kim", "")).flatMap((act) => enact(scene, act));
  assert.deepEqual(roomEvents(shown), [["den", "kicked"]]);
  assert.equal(scene.registry.room("den")?.users.has(scene.registry.named("kim")!), false);
  const moved = applyRemote(scene, { type: "move", server: "s2", id: 900, room: "lobby" });
  assert.deepEqual(roomEvents(moved), [["", "exit"], ["lobby", "enter"]], "no exit from den");
  const parted = applyRemote(scene, {
    type: "part",
    server: "s2",
    id: 900,
    room: "den",
    reason: "",
  });
  assert.deepEqual(roomEvents(parted), []);
});

Deno.test("another server's user kicked from the lobby stays until its server says it left", () => {
  const scene = testScene();
  const root = addUser(scene, "root", { oper: true });
  const kim = { server: "s2", id: 900, name: "kim", rooms: ["lobby"] };
  applyRemote(scene, { type: "join", server: "s2", user: kim });
  acts(kick(scene, root, "kim", "")).forEach((act) => enact(scene, act));
  const left = applyRemote(scene, {
    type: "leave",
    server: "s2",
    id: 900,
    reason: "kicked by root",
  });
  assert.deepEqual(left.map((e) => e.type), ["farewell"], "its leave is still told");
});

Deno.test("an IRC user who opens a channel is its op in the names its JOIN brings", () => {
  const scene = testScene();
  const ann = addUser(scene, "ann", { irc: [] });
  const bob = addUser(scene, "bob", { irc: [] });
  const names = (effects: Effect<undefined>[]) =>
    repliedEvents(effects).flatMap((e) => e.type === "who" ? [e.ops] : []);
  assert.deepEqual(names(enter(scene, ann, "attic")), [["ann"]]);
  assert.deepEqual(names(enter(scene, bob, "attic")), [["ann"]], "who comes after is not");
  assert.deepEqual(names(enter(scene, bob, "lobby")), [[]], "nor is who opens the lobby");
});
