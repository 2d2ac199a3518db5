import assert from "node:assert/strict";
import type { NumberStore } from "../chat/ports.ts";
import { LocalBroker } from "./local_broker.ts";

/** Numbers kept in memory; `failing` makes every later reserve throw, as a
 * server out of file descriptors would. */
function memoryNumbers(): NumberStore & { kept: number; failing: boolean } {
  return {
    kept: 0,
    failing: false,
    load() {
      return this.kept;
    },
    reserve(upTo) {
      if (this.failing) throw new Error("Too many open files");
      this.kept = upTo;
    },
  };
}

Deno.test("a lone server reserves its first block of user numbers at start, so its first users need no write", async () => {
  const numbers = memoryNumbers();
  const broker = new LocalBroker(numbers);
  await broker.start();
  assert.equal(numbers.kept, 64);
  numbers.failing = true;
  for (let n = 1; n <= 64; n++) assert.equal(await broker.nextUserNumber(), n);
  await assert.rejects(broker.nextUserNumber(), /Too many open files/);
});

Deno.test("a lone server that cannot keep its user numbers fails at start", async () => {
  const numbers = memoryNumbers();
  numbers.failing = true;
  await assert.rejects(new LocalBroker(numbers).start(), /Too many open files/);
});

Deno.test("a lone server restarted goes on after the block it had reserved", async () => {
  const numbers = memoryNumbers();
  const first = new LocalBroker(numbers);
  await first.start();
  await first.nextUserNumber();
  const second = new LocalBroker(numbers);
  await second.start();
  assert.equal(await second.nextUserNumber(), 65);
});
