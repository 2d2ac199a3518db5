/**
 * The server operators' commands, in memory: only operators may use them.
 */

import assert from "node:assert/strict";
import {
  acts,
  addUser,
  refusalLine,
  refusals,
  repliedLines,
  testScene,
} from "../../testing/scene.ts";
import { kick } from "./room_ops.ts";
import { announce, kill, serverBan, serverUnban } from "./server_ops.ts";

function chat() {
  const scene = testScene();
  const root = addUser(scene, "root", { oper: true });
  const owner = addUser(scene, "owner", { account: "owner" });
  const bob = addUser(scene, "bob");
  return { scene, root, owner, bob };
}

Deno.test("a room owner is no server operator: kill, gban, ungban and announce are refused", () => {
  const { scene, owner } = chat();
  assert.equal(refusalLine(kill(scene, owner, "bob", "x")), "only server operators may kill");
  assert.deepEqual(refusals(serverBan(scene, owner, "bob", 0, "")), ["rank_needed"]);
  assert.deepEqual(refusals(serverUnban(scene, owner, "bob")), ["rank_needed"]);
  assert.deepEqual(refusals(announce(scene, owner, "hi")), ["rank_needed"]);
});

Deno.test("an operator kills a user online by their spelling of the name, and no one else", () => {
  const { scene, root } = chat();
  assert.deepEqual(refusals(kill(scene, root, "ghost", "x")), ["no_such_user"]);
  assert.deepEqual(acts(kill(scene, root, "BOB", "spam")), [
    { kind: "kill", target: "bob", by: "root", reason: "spam" },
  ]);
});

Deno.test("an operator's server ban lasts its duration; lifting it says so once it took effect", () => {
  const { scene, root } = chat();
  assert.deepEqual(acts(serverBan(scene, root, "10.9.9.9", 3_600_000, "abuse")), [{
    kind: "ban",
    room: "",
    sanction: {
      target: "10.9.9.9",
      by: "root",
      reason: "abuse",
      until: scene.clock.now() + 3_600_000,
    },
  }]);
  assert.deepEqual(refusals(serverUnban(scene, root, "10.9.9.9")), ["not_server_banned"]);
  scene.community.addBan("", { target: "10.9.9.9", by: "root", reason: "", until: 0 });
  const [effect] = serverUnban(scene, root, "10.9.9.9");
  assert.equal(effect?.type, "act");
  if (effect?.type !== "act" || effect.then === undefined) throw new Error("no act with a notice");
  assert.deepEqual(repliedLines([{ type: "reply", to: root, events: [effect.then] }]), [
    "* 10.9.9.9 is no longer banned from the server",
  ]);
});

Deno.test("an announcement goes out as an act of its operator", () => {
  const { scene, root } = chat();
  assert.deepEqual(acts(announce(scene, root, "restart at 5")), [
    { kind: "announce", by: "root", text: "restart at 5" },
  ]);
});

Deno.test("an operator cannot kill, ban from the server or kick from the lobby another operator", () => {
  const { scene, root } = chat();
  addUser(scene, "boss", { oper: true });
  assert.deepEqual(refusals(kill(scene, root, "boss", "x")), ["outranked"]);
  assert.deepEqual(refusals(serverBan(scene, root, "boss", 0, "")), ["outranked"]);
  assert.deepEqual(refusals(kick(scene, root, "boss", "")), ["outranked"]);
  assert.equal(
    refusalLine(kill(scene, root, "boss", "x")),
    "boss is a server operator: you cannot do that",
  );
});

Deno.test("a server ban may not cover the operator's own address, loopback, or an operator present", () => {
  const { scene, root } = chat();
  root.local!.address = "10.7.7.7";
  addUser(scene, "boss", { oper: true, address: "10.8.8.8" });
  for (const target of ["10.7.7.7", "127.0.0.1", "::1", "10.8.8.8"]) {
    assert.deepEqual(
      refusals(serverBan(scene, root, target, 0, "")),
      ["ban_covers_operator"],
      target,
    );
  }
  assert.deepEqual(acts(serverBan(scene, root, "10.9.9.9", 0, "")).map((a) => a.kind), ["ban"]);
});
