/**
 * The rank rules of a room's moderation, in memory: who may set a topic,
 * kick, ban, mute, lift, list and make ops, and on whom.
 */

import assert from "node:assert/strict";
import {
  acts,
  addUser,
  ownRoom,
  refusalLine,
  refusals,
  repliedLines,
  testScene,
} from "../../testing/scene.ts";
import { bans, kick, lift, op, sanction, topic } from "./room_ops.ts";

/** A registered room `den` owned by ann, with op olga, and a plain user
 * bob, all in it; an operator, root, in the lobby. */
function den() {
  const scene = testScene();
  ownRoom(scene, "den", "ann", ["olga"]);
  const ann = addUser(scene, "ann", { account: "ann", room: "den" });
  const olga = addUser(scene, "olga", { account: "olga", room: "den" });
  const bob = addUser(scene, "bob", { room: "den" });
  const root = addUser(scene, "root", { oper: true });
  return { scene, ann, olga, bob, root };
}

Deno.test("anyone reads the topic; only ops and the owner set it", () => {
  const { scene, ann, olga, bob } = den();
  assert.deepEqual(repliedLines(topic(scene, bob, "")), ["* den has no topic"]);
  assert.equal(refusalLine(topic(scene, bob, "mine now")), "only ops of den may set the topic");
  assert.deepEqual(acts(topic(scene, olga, "chess")), [
    { kind: "topic", room: "den", text: "chess", by: "olga" },
  ]);
  assert.deepEqual(acts(topic(scene, ann, "-")), [{
    kind: "topic",
    room: "den",
    text: "",
    by: "ann",
  }]);
});

Deno.test("an unregistered room keeps no topic, bans or mutes, even for its op-less creator", () => {
  const scene = testScene();
  const carl = addUser(scene, "carl", { account: "carl", room: "attic" });
  const root = addUser(scene, "root", { oper: true, room: "attic" });
  assert.deepEqual(refusals(topic(scene, carl, "x")), ["rank_needed"]);
  assert.deepEqual(refusals(topic(scene, root, "x")), ["room_not_registered"]);
  assert.deepEqual(refusals(sanction(scene, root, "ban", "carl", 0, "")), ["room_not_registered"]);
});

Deno.test("a kick needs an op, a target in the room, and a lower rank than the kicker's", () => {
  const { scene, ann, olga, bob } = den();
  assert.deepEqual(refusals(kick(scene, bob, "olga", "")), ["rank_needed"]);
  assert.deepEqual(refusals(kick(scene, olga, "nobody", "")), ["not_in_room"]);
  assert.equal(
    refusalLine(kick(scene, olga, "ann", "")),
    "ann is the owner of den: you cannot do that",
  );
  assert.deepEqual(refusals(kick(scene, olga, "olga", "")), ["outranked"], "not even oneself");
  assert.deepEqual(acts(kick(scene, olga, "bob", "spam")), [
    { kind: "kick", room: "den", target: "bob", by: "olga", reason: "spam" },
  ]);
  assert.deepEqual(acts(kick(scene, ann, "olga", "")).map((a) => a.kind), ["kick"]);
});

Deno.test("an op cannot ban or mute another op; the owner can; an operator can ban the owner", () => {
  const { scene, ann, olga, root } = den();
  addUser(scene, "otto", { account: "otto", room: "den" });
  scene.community.setOp("den", "otto", true);
  assert.deepEqual(refusals(sanction(scene, olga, "ban", "otto", 0, "")), ["outranked"]);
  assert.deepEqual(refusals(sanction(scene, olga, "mute", "otto", 0, "")), ["outranked"]);
  assert.deepEqual(acts(sanction(scene, ann, "mute", "otto", 60_000, "")).map((a) => a.kind), [
    "mute",
  ]);
  scene.registry.move(root, "den");
  assert.deepEqual(acts(sanction(scene, root, "ban", "ann", 0, "")).map((a) => a.kind), ["ban"]);
});

Deno.test("a ban lasts its duration from now, or for good; nobody is banned from the lobby", () => {
  const { scene, olga, bob } = den();
  const [ban] = acts(sanction(scene, olga, "ban", "bob", 600_000, "flood"));
  assert.deepEqual(ban, {
    kind: "ban",
    room: "den",
    sanction: { target: "bob", by: "olga", reason: "flood", until: scene.clock.now() + 600_000 },
  });
  const [forever] = acts(sanction(scene, olga, "ban", "bob", 0, ""));
  assert.equal(forever?.kind === "ban" && forever.sanction.until, 0);
  scene.registry.move(olga, "lobby");
  scene.registry.move(bob, "lobby");
  const root = addUser(scene, "root2", { oper: true });
  assert.deepEqual(refusals(sanction(scene, root, "ban", "bob", 0, "")), ["lobby_ban"]);
});

Deno.test("a registered name not online keeps its rank against bans", () => {
  const { scene, olga } = den();
  scene.registry.remove(scene.registry.named("ann")!);
  assert.deepEqual(refusals(sanction(scene, olga, "ban", "ann", 0, "")), ["outranked"]);
});

/** olga's ban of eve's address, kept under eve's name. */
function banEveAddress(scene: ReturnType<typeof den>["scene"]): void {
  scene.community.addBan("den", {
    target: "9.9.9.9",
    by: "olga",
    reason: "",
    until: 0,
    label: "eve",
  });
}

Deno.test("lifting needs an op and something to lift", () => {
  const { scene, olga, bob } = den();
  assert.deepEqual(refusals(lift(scene, bob, "unban", "x")), ["rank_needed"]);
  assert.equal(refusalLine(lift(scene, olga, "unmute", "x")), "x is not muted in den");
  banEveAddress(scene);
  assert.deepEqual(acts(lift(scene, olga, "unban", "eve")), [
    { kind: "unban", room: "den", target: "eve", by: "olga" },
  ], "a name lifts the address kept with its ban");
});

Deno.test("the ban list is for ops; only operators see a kept address", () => {
  const { scene, olga, bob, root } = den();
  assert.deepEqual(refusals(bans(scene, bob)), ["rank_needed"]);
  assert.deepEqual(repliedLines(bans(scene, olga)), ["* nobody is banned or muted in den"]);
  banEveAddress(scene);
  assert.deepEqual(repliedLines(bans(scene, olga)), [
    "* bans and mutes in den:",
    "*   eve's address banned by olga, for good",
  ]);
  scene.registry.move(root, "den");
  assert.deepEqual(
    repliedLines(bans(scene, root))[1],
    "*   9.9.9.9 (eve's address) banned by olga, for good",
  );
});

Deno.test("only the owner makes and unmakes ops, and only of registered names", () => {
  const { scene, ann, olga } = den();
  assert.deepEqual(refusals(op(scene, olga, "bob", true)), ["rank_needed"]);
  assert.deepEqual(refusals(op(scene, ann, "bob", true)), ["not_registered_for_op"]);
  assert.deepEqual(refusals(op(scene, ann, "olga", true)), ["op_already"]);
  assert.deepEqual(acts(op(scene, ann, "olga", false)), [
    { kind: "op", room: "den", account: "olga", on: false, by: "ann" },
  ]);
});

Deno.test("an address ban may not cover anyone present of the banner's rank or higher", () => {
  const { scene, olga, root } = den();
  scene.registry.named("ann")!.local!.address = "10.5.5.5";
  scene.registry.move(root, "den");
  root.local!.address = "10.6.6.6";
  assert.equal(
    refusalLine(sanction(scene, olga, "ban", "10.5.5.5", 0, "")),
    "ann is the owner of den: you cannot do that",
  );
  assert.deepEqual(refusals(sanction(scene, olga, "ban", "10.6.6.6", 0, "")), ["outranked"]);
  assert.deepEqual(refusals(sanction(scene, olga, "ban", String(olga.local!.address), 0, "")), [
    "outranked",
  ], "not even one's own address");
  assert.deepEqual(acts(sanction(scene, olga, "ban", "10.9.9.9", 0, "")).map((a) => a.kind), [
    "ban",
  ]);
});
