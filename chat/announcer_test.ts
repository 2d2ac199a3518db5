import assert from "node:assert/strict";
import { Announcer } from "./announcer.ts";

Deno.test("Announcer asks for one flush per batch, however many lines join it", () => {
  const announcer = new Announcer<string, string>();
  assert.equal(announcer.add("a"), true);
  assert.equal(announcer.add("b"), false);
  assert.deepEqual(announcer.take()!.items, ["a", "b"], "an early flush takes the batch");
  assert.equal(announcer.add("c"), false, "the scheduled flush is still to come");
  assert.deepEqual(announcer.due()!.items, ["c"]);
  assert.equal(announcer.due(), undefined);
  assert.equal(announcer.add("d"), true, "after the flush fired, a new batch asks again");
});

Deno.test("Announcer marks where each newcomer's own join ends", () => {
  const announcer = new Announcer<string, string>();
  announcer.add("a joined", "a");
  announcer.add("x left");
  announcer.add("b joined", "b");
  const batch = announcer.take()!;
  assert.deepEqual(batch.items.slice(batch.resumeAt.get("a")), ["x left", "b joined"]);
  assert.deepEqual(batch.items.slice(batch.resumeAt.get("b")), []);
  assert.equal(announcer.pending, false);
});

Deno.test("Announcer sends nothing for a join withdrawn before its batch left", () => {
  const announcer = new Announcer<string, string>();
  announcer.add("a joined", "a");
  assert.equal(announcer.withdraw("a"), true);
  assert.equal(announcer.take(), undefined);
  assert.equal(announcer.withdraw("a"), false, "only a waiting join can be withdrawn");
});
