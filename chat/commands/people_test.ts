/**
 * Names, talk, moves and `/whois` in memory: the rules that protect a
 * name, a mute, a ban from a room, and what `/whois` tells whom.
 */

import assert from "node:assert/strict";
import {
  acts,
  addUser,
  ownRoom,
  refusalLine,
  refusals,
  repliedEvents,
  repliedLines,
  testScene,
} from "../../testing/scene.ts";
import { FakeSink } from "../../testing/fake_sink.ts";
import { arrive } from "./connect.ts";
import { join } from "./join.ts";
import { claimAnswered, claimExpired, nick } from "./nick.ts";
import { act, message, say } from "./talk.ts";
import { whois, whoisExpired } from "./whois.ts";

Deno.test("a registered name is only for its account, a server-banned one for nobody", () => {
  const scene = testScene();
  scene.community.setRegistered("carol", true);
  const u = addUser(scene, "user1");
  assert.deepEqual(refusals(nick(scene, u, "Carol")), ["name_registered"]);
  scene.community.addBan("", { target: "troll", by: "root", reason: "", until: 0 });
  assert.deepEqual(refusals(nick(scene, u, "troll")), ["name_banned"]);
  const carol = addUser(scene, "someone", { account: "carol" });
  nick(scene, carol, "carol");
  assert.equal(carol.name, "carol");
});

Deno.test("a linked server claims a chosen name first, and the answer or the timer decides", () => {
  const scene = testScene();
  scene.link.linked = true;
  const u = addUser(scene, "user1");
  const [claim] = nick(scene, u, "alice");
  assert.deepEqual(claim, { type: "claim", user: u, name: "alice", token: 1 });
  assert.deepEqual(refusals(nick(scene, u, "bob")), ["rename_under_way"]);
  assert.deepEqual(refusals(claimAnswered(scene, u, { token: 1, name: "alice", granted: false })), [
    "name_taken",
  ]);
  nick(scene, u, "alice");
  assert.deepEqual(refusals(claimExpired(u, 2)), ["claim_timed_out"]);
  const late = claimAnswered(scene, u, { token: 2, name: "alice", granted: true });
  assert.deepEqual(late, [{ type: "release", key: "alice" }], "a name granted too late goes back");
  scene.link.up = false;
  assert.deepEqual(refusals(nick(scene, u, "carl")), ["names_need_link"]);
  scene.link.up = true;
  const back = nick(scene, u, u.local!.assigned.toUpperCase());
  assert.deepEqual(back.filter((e) => e.type === "claim"), [], "its own userN needs no claim");
  assert.equal(u.name, u.local!.assigned.toUpperCase());
});

Deno.test("a muted user reads but cannot speak or act; others chat on", () => {
  const scene = testScene();
  ownRoom(scene, "den", "ann");
  const troll = addUser(scene, "troll", { room: "den" });
  const bob = addUser(scene, "bob", { room: "den" });
  scene.community.addMute("den", {
    target: "troll",
    by: "ann",
    reason: "",
    until: scene.clock.now() + 60_000,
  });
  const muted = say(scene, troll, "hi");
  assert.deepEqual(muted.map((e) => e.type), ["reply"]);
  assert.match(repliedLines(muted)[0]!, /^! you are muted in den for 1m by ann/);
  assert.deepEqual(act(scene, troll, "waves").map((e) => e.type), ["reply"]);
  assert.deepEqual(say(scene, bob, "hello").map((e) => e.type), ["room", "keep"]);
  scene.clock.advance(60_000);
  assert.deepEqual(say(scene, troll, "back").map((e) => e.type), ["room", "keep"], "until it ends");
});

Deno.test("an action that reads like a server line is refused; a private message needs its target", () => {
  const scene = testScene();
  const u = addUser(scene, "mallory");
  assert.deepEqual(refusals(act(scene, u, "joined the chat")), ["action_like_server"]);
  assert.deepEqual(refusals(message(scene, u, "ghost", "hi")), ["no_such_user"]);
  const bob = addUser(scene, "bob");
  assert.deepEqual(message(scene, u, "BOB", "psst"), [{
    type: "reply",
    to: bob,
    events: [{ type: "private", from: "mallory", to: "bob", text: "psst", msgid: "0-1-0" }],
  }]);
});

Deno.test("a ban keeps a name, and the address kept with it, out of a room until it ends", () => {
  const scene = testScene();
  ownRoom(scene, "den", "ann");
  const eve = addUser(scene, "eve", { address: "10.1.1.1" });
  scene.community.addBan("den", {
    target: "10.1.1.1",
    by: "ann",
    reason: "",
    until: scene.clock.now() + 1_000,
    label: "evil",
  });
  assert.match(
    repliedLines(join(scene, eve, "den"))[0]!,
    /^! you are banned from den by ann for 1s/,
  );
  assert.equal(eve.room.name, "lobby");
  scene.clock.advance(1_000);
  const moved = join(scene, eve, "den");
  assert.equal(eve.room.name, "den");
  assert.deepEqual(repliedEvents(moved)[0], { type: "room", room: "den", users: 1 });
  assert.deepEqual(refusals(join(scene, eve, "DEN")), ["already_in_room"]);
});

Deno.test("a logged-in user who opens a new room claims it; an anonymous one does not", () => {
  const scene = testScene();
  const ann = addUser(scene, "ann", { account: "ann" });
  const bob = addUser(scene, "bob");
  assert.deepEqual(acts(join(scene, ann, "studio")), [
    { kind: "claim", room: "studio", owner: "ann", by: "ann" },
  ]);
  assert.deepEqual(acts(join(scene, bob, "garage")), []);
});

Deno.test("whois shows the address to operators only, and asks another server about its user", () => {
  const scene = testScene();
  const root = addUser(scene, "root", { oper: true });
  const bob = addUser(scene, "bob", { address: "10.2.2.2" });
  scene.clock.advance(180_000);
  assert.deepEqual(repliedLines(whois(scene, bob, "root")), [
    "* root: not registered, server operator, in lobby, idle 3m",
  ]);
  assert.deepEqual(repliedLines(whois(scene, root, "bob")), [
    "* bob: not registered, in lobby, idle 3m, from 10.2.2.2",
  ]);
  const far = scene.registry.add({ id: 99, name: "far", server: "other", local: undefined })!;
  assert.deepEqual(whois(scene, bob, "far").map((e) => e.type), ["publish", "whois_timer"]);
  assert.deepEqual(repliedLines(whoisExpired(scene, bob.id, far.id, 1)), [
    "* far: not registered, in lobby, on another server (its server did not answer)",
  ]);
  assert.deepEqual(whoisExpired(scene, bob.id, far.id, 1), [], "told once");
});

Deno.test("a room ban never keeps out the room's owner or a server operator, so they can always lift it", () => {
  const scene = testScene();
  ownRoom(scene, "den", "ann");
  const ann = addUser(scene, "ann", { account: "ann", address: "10.1.1.1" });
  const root = addUser(scene, "root", { oper: true, address: "10.2.2.2" });
  const bob = addUser(scene, "bob", { address: "10.3.3.3" });
  for (const target of ["10.1.1.1", "10.2.2.2", "10.3.3.3", "ann", "root", "bob"]) {
    scene.community.addBan("den", { target, by: "olga", reason: "", until: 0 });
  }
  assert.deepEqual(refusals(join(scene, ann, "den")), []);
  assert.equal(ann.room.name, "den");
  assert.deepEqual(refusals(join(scene, root, "den")), []);
  assert.equal(root.room.name, "den");
  assert.match(repliedLines(join(scene, bob, "den"))[0]!, /^! you are banned from den/);
});

Deno.test("an action may not read like what the server says after a name", () => {
  const scene = testScene();
  const u = addUser(scene, "mallory");
  for (const action of ["is registered, and not online", "is no longer banned from the server"]) {
    assert.deepEqual(refusals(act(scene, u, action)), ["action_like_server"], action);
  }
  assert.deepEqual(refusals(act(scene, u, "is registering for the marathon")), []);
});

Deno.test("a muted user cannot escape the mute by renaming or logging out, and a mute follows the account", () => {
  const scene = testScene();
  ownRoom(scene, "den", "ann");
  const troll = addUser(scene, "troll1", { room: "den", account: "trollacct" });
  scene.community.addMute("den", { target: "troll1", by: "ann", reason: "", until: 0 });
  nick(scene, troll, "troll1b");
  assert.equal(troll.name, "troll1b");
  assert.deepEqual(say(scene, troll, "hi").map((e) => e.type), ["reply"], "still muted as troll1b");
  assert.deepEqual(act(scene, troll, "dances").map((e) => e.type), ["reply"]);
  scene.community.liftMute("den", "troll1");
  assert.deepEqual(say(scene, troll, "hi").map((e) => e.type), ["room", "keep"], "until lifted");
  scene.community.addMute("den", { target: "trollacct", by: "ann", reason: "", until: 0 });
  assert.deepEqual(say(scene, troll, "hi").map((e) => e.type), ["reply"], "muted by account");
});

Deno.test("whois finds a registered name logged in under another name, and says who is logged in as what", () => {
  const scene = testScene();
  scene.community.setRegistered("carl", true);
  const lurker = addUser(scene, "lurker", { account: "carl" });
  const asker = addUser(scene, "asker");
  assert.deepEqual(repliedLines(whois(scene, asker, "carl")), [
    "* lurker: not registered, logged in as carl, in lobby, idle 1s",
  ]);
  assert.deepEqual(repliedLines(whois(scene, asker, "lurker")), [
    "* lurker: not registered, logged in as carl, in lobby, idle 1s",
  ]);
  void lurker;
});

Deno.test("a connection from an address banned from the server is turned away, and nobody hears of it", () => {
  const scene = testScene();
  scene.community.addBan("", { target: "10.1.2.3", by: "root", reason: "abuse", until: 0 });
  const arrival = {
    id: 7,
    name: "user7",
    sink: new FakeSink(),
    face: "text" as const,
    session: undefined,
    address: "10.1.2.3",
    secure: false,
  };
  const effects = arrive(scene, "here", arrival, true);
  assert.deepEqual(effects.map((e) => e.type), ["turn_away", "log"]);
  assert.equal(scene.registry.size, 0);
  assert.deepEqual(
    arrive(scene, "here", { ...arrival, address: "10.1.2.4" }, true).map((e) => e.type),
    [
      "reply",
      "history",
      "announce",
      "publish",
      "log",
    ],
  );
});

Deno.test("a name that only looks like a registered one (I, l, 1; O, 0) is refused, to others and at registration", () => {
  const scene = testScene();
  scene.community.setRegistered("carol", true);
  const u = addUser(scene, "user1");
  for (const lookAlike of ["caroI", "car0l", "caro1", "CAR0I"]) {
    assert.deepEqual(refusals(nick(scene, u, lookAlike)), ["name_like_registered"], lookAlike);
  }
  assert.equal(
    refusalLine(nick(scene, u, "car0l")),
    "car0l looks too much like carol, a registered name",
  );
  assert.deepEqual(refusals(nick(scene, u, "carolyn")), []);
  const owner = addUser(scene, "someone", { account: "carol" });
  assert.deepEqual(refusals(nick(scene, owner, "caroI")), [], "the account's owner may use it");
});
