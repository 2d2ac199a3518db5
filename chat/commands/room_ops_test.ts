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
import { join } from "./join.ts";
import { applyRemote } from "./remote.ts";
import { enact } from "../acts.ts";
import type { Effect } from "../command.ts";
import type { ClusterEvent } from "../ports.ts";

/** What `effects` tell the other servers. */
function published<S>(effects: Effect<S>[]): ClusterEvent[] {
  return effects.flatMap((e) => e.type === "publish" ? [e.event] : []);
}

/** The ops of `room` nobody owns, by name. */
function ops(scene: ReturnType<typeof testScene>, room: string): string[] {
  return [...scene.registry.room(room)?.ops ?? []].map((u) => u.name);
}

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

Deno.test("whoever opens a room nobody owns is its op; who comes after is not, nor in the lobby", () => {
  const scene = testScene();
  const carl = addUser(scene, "carl");
  const dora = addUser(scene, "dora");
  const moved = join(scene, carl, "attic");
  assert.deepEqual(published(moved), [{
    type: "move",
    server: "",
    id: carl.id,
    room: "attic",
    op: true,
  }]);
  join(scene, dora, "attic");
  assert.deepEqual(ops(scene, "attic"), ["carl"]);
  ownRoom(scene, "den", "ann");
  const eve = addUser(scene, "eve");
  assert.deepEqual(published(join(scene, eve, "den")).map((e) => "op" in e), [false]);
  assert.deepEqual(ops(scene, "den"), [], "an owned room's ops are its owner's");
  join(scene, carl, "lobby");
  join(scene, carl, "attic");
  assert.deepEqual(ops(scene, "attic"), [], "op is held while in the room, not after");
});

Deno.test("the op of a room nobody owns sets its topic, bans and makes ops; others may not", () => {
  const scene = testScene();
  const carl = addUser(scene, "carl");
  const dora = addUser(scene, "dora");
  join(scene, carl, "attic");
  join(scene, dora, "attic");
  assert.deepEqual(refusals(topic(scene, dora, "x")), ["rank_needed"]);
  assert.deepEqual(refusals(op(scene, dora, "dora", true)), ["rank_needed"]);
  assert.deepEqual(acts(topic(scene, carl, "boxes")).map((a) => a.kind), ["topic"]);
  assert.deepEqual(acts(sanction(scene, carl, "ban", "eve", 0, "")).map((a) => a.kind), ["ban"]);
  addUser(scene, "eve");
  assert.deepEqual(refusals(op(scene, carl, "eve", true)), ["not_in_room"]);
  const made = acts(op(scene, carl, "DORA", true));
  assert.deepEqual(made, [{ kind: "chanop", room: "attic", name: "dora", on: true, by: "carl" }]);
  const shown = enact(scene, made[0]!);
  assert.deepEqual(ops(scene, "attic"), ["carl", "dora"]);
  assert.deepEqual(shown.flatMap((e) => e.type === "room" ? [e.event.type] : []), ["opped"]);
  assert.deepEqual(refusals(op(scene, carl, "dora", true)), ["op_already"]);
  assert.deepEqual(acts(op(scene, dora, "carl", false)).map((a) => a.kind), ["chanop"]);
  assert.deepEqual(acts(kick(scene, dora, "carl", "")).map((a) => a.kind), ["kick"], "as on IRC");
  assert.deepEqual(refusals(op(scene, carl, "nobody", true)), ["no_such_user"]);
});

Deno.test("another server's user is op of the room it opened, as its move and its roster say", () => {
  const scene = testScene();
  const kim = { server: "s2", id: 900, name: "kim", rooms: ["lobby"] };
  applyRemote(scene, { type: "join", server: "s2", user: kim });
  applyRemote(scene, { type: "move", server: "s2", id: 900, room: "attic", op: true });
  applyRemote(scene, { type: "enter", server: "s2", id: 900, room: "loft" });
  assert.deepEqual(ops(scene, "attic"), ["kim"]);
  assert.deepEqual(ops(scene, "loft"), [], "who entered without op has none");
  const lee = { server: "s2", id: 901, name: "lee", rooms: ["loft"], ops: ["loft"] };
  applyRemote(scene, { type: "roster", server: "s2", users: [lee] });
  assert.deepEqual(ops(scene, "loft"), ["lee"], "a server that links later learns it");
});

Deno.test("an operator moderates a room nobody owns, and owning it puts its owner's ops first", () => {
  const scene = testScene();
  const carl = addUser(scene, "carl", { account: "carl" });
  const root = addUser(scene, "root", { oper: true });
  join(scene, carl, "attic");
  join(scene, root, "attic");
  assert.deepEqual(acts(topic(scene, root, "x")).map((a) => a.kind), ["topic"]);
  assert.deepEqual(acts(sanction(scene, root, "ban", "carl", 0, "")).map((a) => a.kind), ["ban"]);
  ownRoom(scene, "attic", "ann");
  assert.deepEqual(refusals(topic(scene, carl, "x")), ["rank_needed"]);
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
