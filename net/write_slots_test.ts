import assert from "node:assert/strict";
import { type SlotHolder, WriteSlots } from "./write_slots.ts";

const holder = (name: string, granted: string[], wants = true): SlotHolder => ({
  slotLease: undefined,
  slotGranted: () => (granted.push(name), wants),
});

Deno.test("Write slots are lent while free, then go to waiters in the order they asked", () => {
  const granted: string[] = [];
  const slots = new WriteSlots({ limit: 2, leaseMs: 0 });
  const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => holder(name, granted)) as SlotHolder[];
  assert.equal(slots.take(a!), true);
  assert.equal(slots.take(b!), true);
  assert.equal(slots.take(c!), false);
  assert.equal(slots.take(d!), false);
  assert.equal(slots.waiting, 2);
  slots.give(a!);
  assert.deepEqual(granted, ["c"]);
  slots.give(b!);
  slots.give(c!);
  assert.deepEqual(granted, ["c", "d"]);
  assert.equal(slots.waiting, 0);
  assert.equal(slots.lent, 1);
  // Giving twice gives once.
  slots.give(c!);
  assert.equal(slots.lent, 1);
});

Deno.test("A write slot a waiter no longer wants goes to the next one, however many pass", () => {
  const granted: string[] = [];
  const slots = new WriteSlots({ limit: 1, leaseMs: 0 });
  const first = holder("first", granted);
  slots.take(first);
  // Writers closed while they waited: far more than the stack could recurse.
  for (let i = 0; i < 200_000; i++) slots.take(holder("closed", [], false));
  const last = holder("last", granted);
  slots.take(last);
  slots.give(first);
  assert.deepEqual(granted, ["last"]);
  assert.equal(slots.waiting, 0);
  slots.give(last);
  assert.equal(slots.lent, 0);
});

Deno.test("A lease runs out at the end of the round after the one it began in, if still held", () => {
  const granted: string[] = [];
  const slots = new WriteSlots({ limit: 1, leaseMs: 0 });
  const slow = holder("slow", granted);
  const next = holder("next", granted);
  slots.take(slow);
  slots.take(next);
  slots.expireLeases();
  assert.deepEqual(granted, []);
  slots.expireLeases();
  assert.deepEqual(granted, ["next"]);
  assert.equal(slow.slotLease, undefined);
  // The slow write completing later gives nothing back: next holds the one slot.
  slots.give(slow);
  assert.equal(slots.lent, 1);
  // A holder that gave its slot back and took another is not cut short.
  slots.give(next);
  slots.expireLeases();
  slots.take(next);
  slots.expireLeases();
  assert.equal(next.slotLease !== undefined, true);
});

Deno.test("The lease clock runs only while a slot is lent", async () => {
  const slots = new WriteSlots({ limit: 1, leaseMs: 1 });
  const granted: string[] = [];
  const stuck = holder("stuck", granted);
  const waiter = holder("waiter", granted);
  slots.take(stuck);
  slots.take(waiter);
  // Waits for the clock itself (two rounds), not for a set time.
  while (granted.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.deepEqual(granted, ["waiter"]);
  slots.give(waiter);
  // Nothing is lent: the clock has stopped, or this test would leak its timer.
  assert.equal(slots.lent, 0);
});

Deno.test("More write slots go to waiters at once; fewer take effect as lent ones come back", () => {
  const granted: string[] = [];
  const slots = new WriteSlots({ limit: 1, leaseMs: 0 });
  const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => holder(name, granted)) as SlotHolder[];
  slots.take(a!);
  slots.take(b!);
  slots.take(c!);
  slots.setLimit(2);
  assert.deepEqual(granted, ["b"]);
  assert.equal(slots.lent, 2);
  slots.setLimit(4);
  assert.deepEqual(granted, ["b", "c"]);
  assert.equal(slots.take(d!), true);
  // Down to one with four lent: none is lent again until three come back.
  slots.setLimit(1);
  const e = holder("e", granted);
  assert.equal(slots.take(e), false);
  slots.give(a!);
  slots.give(b!);
  slots.give(c!);
  assert.deepEqual(granted, ["b", "c"]);
  slots.give(d!);
  assert.deepEqual(granted, ["b", "c", "e"]);
  assert.equal(slots.lent, 1);
});
