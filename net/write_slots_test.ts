import assert from "node:assert/strict";
import { WriteSlots } from "./write_slots.ts";

const waiter = (name: string, granted: string[]) => ({
  slotGranted: () => (granted.push(name), true),
});

Deno.test("Write slots are taken while free, then go to waiters in the order they asked", () => {
  const granted: string[] = [];
  const slots = new WriteSlots(2);
  assert.equal(slots.take(waiter("a", granted)), true);
  assert.equal(slots.take(waiter("b", granted)), true);
  assert.equal(slots.take(waiter("c", granted)), false);
  assert.equal(slots.take(waiter("d", granted)), false);
  assert.equal(slots.waiting, 2);
  slots.give();
  assert.deepEqual(granted, ["c"]);
  slots.give();
  slots.give();
  assert.deepEqual(granted, ["c", "d"]);
  assert.equal(slots.waiting, 0);
  // One slot came back free: the next take gets it, the one after waits.
  assert.equal(slots.take(waiter("e", granted)), true);
  assert.equal(slots.take(waiter("f", granted)), false);
});

Deno.test("A write slot a waiter no longer wants goes to the next one, however many pass", () => {
  const granted: string[] = [];
  const slots = new WriteSlots(1);
  slots.take(waiter("first", granted));
  // Writers closed while they waited: far more than the stack could recurse.
  for (let i = 0; i < 200_000; i++) slots.take({ slotGranted: () => false });
  slots.take(waiter("last", granted));
  slots.give();
  assert.deepEqual(granted, ["last"]);
  assert.equal(slots.waiting, 0);
  slots.give();
  assert.equal(slots.take(waiter("free", granted)), true);
});
