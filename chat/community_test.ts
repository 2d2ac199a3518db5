import assert from "node:assert/strict";
import { Community, FailureLimit, parseDuration } from "./community.ts";
import { applyAct } from "./acts.ts";

const ban = (target: string, until = 0, label?: string) => ({
  target,
  by: "alice",
  reason: "",
  until,
  ...(label ? { label } : {}),
});

Deno.test("a ban holds until its end, by name or by address, and a permanent one for good", () => {
  const community = new Community();
  community.load({
    accounts: [],
    rooms: [{
      name: "den",
      owner: "alice",
      topic: "",
      topicBy: "",
      ops: [],
      bans: [ban("troll", 1_000)],
      mutes: [],
    }],
    serverBans: [ban("10.0.0.1")],
  });
  assert.equal(community.roomBan("DEN", "Troll", "10.0.0.2", 999)?.target, "troll");
  assert.equal(community.roomBan("den", "troll", "10.0.0.2", 1_000), undefined, "ends on time");
  assert.equal(community.serverBan(undefined, "10.0.0.1", 10 ** 15)?.target, "10.0.0.1");
  assert.equal(community.serverBan("troll", "10.0.0.2", 0), undefined);
  applyAct(community, { kind: "ban", room: "den", sanction: ban("10.0.0.9", 0, "troll") });
  assert.equal(community.roomBan("den", "newname", "10.0.0.9", 5_000)?.label, "troll");
  applyAct(community, { kind: "unban", room: "den", target: "troll", by: "alice" });
  assert.equal(
    community.roomBan("den", "newname", "10.0.0.9", 0),
    undefined,
    "the kept address goes too",
  );
});

Deno.test("nobody muted anywhere means no lookup; a mute is per room and ends on time", () => {
  const community = new Community();
  assert.equal(community.anyMutes, false);
  applyAct(community, { kind: "mute", room: "den", sanction: ban("bob", 500) });
  assert.equal(community.anyMutes, true);
  assert.equal(community.mute("den", "BOB", 499)?.target, "bob");
  assert.equal(community.mute("den", "bob", 500), undefined);
  assert.equal(community.mute("lobby", "bob", 0), undefined);
  applyAct(community, { kind: "unmute", room: "den", target: "bob", by: "alice" });
  assert.equal(community.anyMutes, false);
});

Deno.test("ranks: operators over owners over ops over users; only owned rooms and the lobby keep state", () => {
  const community = new Community();
  applyAct(community, { kind: "claim", room: "Den", owner: "alice", by: "alice" });
  applyAct(community, { kind: "op", room: "den", account: "bob", on: true, by: "alice" });
  assert.equal(community.rank("den", "alice", false), "owner");
  assert.equal(community.rank("den", "bob", false), "op");
  assert.equal(community.rank("den", "carol", false), "user");
  assert.equal(community.rank("den", undefined, true), "operator");
  assert.equal(community.keeps("den"), true);
  assert.equal(community.keeps("lobby"), true);
  assert.equal(community.keeps("elsewhere"), false);
  assert.deepEqual(community.ownedBy("alice"), ["Den"]);
  assert.deepEqual(community.oppedIn("bob"), ["Den"]);
  applyAct(community, { kind: "release", room: "den" });
  assert.equal(community.keeps("den"), false);
});

Deno.test("a failure limit lets a burst through, then one attempt per refill, and forgets the oldest keys", () => {
  const limit = new FailureLimit({ burst: 3, refillMs: 1_000, maxKeys: 2 });
  for (let i = 0; i < 3; i++) {
    assert.equal(limit.retryIn("alice", 0), 0);
    limit.fail("alice", 0);
  }
  assert.equal(limit.retryIn("alice", 0), 1_000);
  assert.equal(limit.retryIn("alice", 400), 600);
  assert.equal(limit.retryIn("alice", 1_000), 0);
  limit.fail("bob", 0);
  limit.fail("carol", 0);
  assert.equal(limit.retryIn("alice", 0), 0, "forgotten: the map stays bounded");
});

Deno.test("durations are 1-6 digits and a unit, at most a year", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("10M"), 600_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("365d"), 31_536_000_000);
  for (const bad of ["366d", "0m", "10", "m", "1w", "-5m", "1.5h"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

Deno.test("a room nobody owns keeps its topic and bans in memory until it is gone, across a reload", () => {
  const community = new Community();
  applyAct(community, { kind: "topic", room: "attic", text: "boxes", by: "carl" });
  applyAct(community, { kind: "mute", room: "attic", sanction: ban("dora", 0) });
  applyAct(community, { kind: "claim", room: "den", owner: "alice", by: "alice" });
  community.load({ accounts: [], rooms: [], serverBans: [] });
  assert.equal(community.room("attic")?.topic, "boxes", "not in the store, so a reload keeps it");
  assert.equal(community.room("den"), undefined, "the store's rooms are the snapshot's");
  assert.equal(community.mute("attic", "dora", 0)?.target, "dora");
  community.gone("attic");
  assert.equal(community.room("attic"), undefined);
  assert.equal(community.anyMutes, false);
  community.claim("den", "alice");
  community.gone("den");
  assert.equal(community.room("den")?.owner, "alice", "an owned room outlives its people");
});
