import assert from "node:assert/strict";
import { Mailbox, MailboxClosedError } from "./mailbox.ts";

Deno.test("Mailbox delivers messages in the order they were sent", async () => {
  const box = new Mailbox<number>();
  for (let i = 0; i < 100; i++) await box.send(i);
  const received: number[] = [];
  for (let m = box.tryReceive(); m !== undefined; m = box.tryReceive()) received.push(m);
  assert.deepEqual(received, Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("Mailbox has a default capacity of 256", () => {
  const box = new Mailbox<number>();
  assert.equal(box.capacity, 256);
  for (let i = 0; i < 256; i++) assert.equal(box.trySend(i), true);
  assert.equal(box.trySend(256), false);
});

Deno.test("Mailbox trySend refuses when full instead of waiting", () => {
  const box = new Mailbox<string>({ capacity: 2 });
  assert.equal(box.trySend("a"), true);
  assert.equal(box.trySend("b"), true);
  assert.equal(box.trySend("c"), false);
  assert.equal(box.size, 2);
});

Deno.test("Mailbox send waits for room and keeps waiting senders in order", async () => {
  const box = new Mailbox<string>({ capacity: 1 });
  await box.send("a");
  const order: string[] = [];
  const b = box.send("b").then(() => order.push("b"));
  const c = box.send("c").then(() => order.push("c"));
  assert.equal(box.trySend("jumper"), false, "trySend must not jump the queue of waiting senders");
  assert.equal(box.tryReceive(), "a");
  assert.equal(box.tryReceive(), "b");
  assert.equal(box.tryReceive(), "c");
  await Promise.all([b, c]);
  assert.deepEqual(order, ["b", "c"]);
});

Deno.test("Mailbox rejects sends once closed, and senders that were waiting", async () => {
  const box = new Mailbox<number>({ capacity: 1 });
  box.trySend(1);
  const waiting = box.send(2);
  box.close();
  await assert.rejects(waiting, MailboxClosedError);
  await assert.rejects(box.send(3), MailboxClosedError);
  assert.throws(() => box.trySend(4), /Cannot send to a closed mailbox/);
  box.close(); // safe to call twice
  assert.equal(box.tryReceive(), 1, "messages queued before close are still delivered");
});

Deno.test("Mailbox iterates until closed and drained", async () => {
  const box = new Mailbox<number>();
  const seen: number[] = [];
  let sawTwo!: () => void;
  const twoSeen = new Promise<void>((resolve) => (sawTwo = resolve));
  const reader = (async () => {
    for await (const m of box) {
      seen.push(m);
      if (m === 2) sawTwo();
    }
  })();
  await box.send(1);
  await box.send(2);
  await twoSeen; // the reader has drained the box and waits for more
  await box.send(3);
  box.close();
  await reader;
  assert.deepEqual(seen, [1, 2, 3]);
});

Deno.test("Mailbox refuses a capacity below one", () => {
  assert.throws(() => new Mailbox({ capacity: 0 }), RangeError);
});
