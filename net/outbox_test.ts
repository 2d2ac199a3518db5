import { setImmediate } from "node:timers";
import assert from "node:assert/strict";
import {
  type ByteWriter,
  DEFAULT_OVER_BUDGET_MS,
  EAGER_WRITE_BYTES,
  HARD_CAP_FACTOR,
  Outbox,
} from "./outbox.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { WriteSlots } from "./write_slots.ts";
import { Writes } from "./writes.ts";

/** A writer whose writes complete when the test says so. */
class ManualWriter implements ByteWriter {
  writes: Uint8Array[] = [];
  closed = false;
  maxPerWrite = Infinity;
  #pending: { bytes: Uint8Array; resolve: (n: number) => void; reject: (e: Error) => void }[] = [];
  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => this.#pending.push({ bytes, resolve, reject }));
  }
  /** Completes the oldest write (partially, if maxPerWrite says so). */
  complete(): boolean {
    const next = this.#pending.shift();
    if (!next) return false;
    const n = Math.min(next.bytes.length, this.maxPerWrite);
    this.writes.push(next.bytes.slice(0, n));
    next.resolve(n);
    return true;
  }
  close(): void {
    this.closed = true;
    for (const p of this.#pending.splice(0)) p.reject(new Error("closed"));
  }
  get inFlight(): number {
    return this.#pending.length;
  }
}

/** Lets the Outbox's writer run: it starts from an immediate, so waiting
 * for two rounds of immediates (with the microtasks after each) is waiting
 * for it, not for a timer that may fire before or after it. */
const tick = async (): Promise<void> => {
  for (let round = 0; round < 2; round++) await new Promise((r) => setImmediate(r));
};
const text = (parts: Uint8Array[]): string =>
  parts.map((p) => new TextDecoder().decode(p)).join("");
const b = (s: string): Uint8Array => new TextEncoder().encode(s);

Deno.test("Outbox coalesces every line pushed in one turn into one write", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer);
  for (let i = 0; i < 100; i++) outbox.push(b(`line ${i}\n`));
  await tick();
  assert.equal(writer.inFlight, 1);
  writer.complete();
  await tick();
  assert.equal(writer.writes.length, 1);
  assert.equal(text(writer.writes).split("\n").length, 101);
  await outbox.close();
});

Deno.test("Outbox makes no write for nothing: an event a face shows nothing of", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer);
  assert.equal(outbox.push(new Uint8Array()), true);
  await tick();
  assert.equal(writer.inFlight, 0);
  await outbox.close();
});

Deno.test("Outbox waits for the end of the turn, so lines from separate fan-outs share a write", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer);
  // Each fan-out runs in its own microtask (one per read that completed).
  for (let i = 0; i < 3; i++) {
    outbox.push(b(`line ${i}\n`));
    await Promise.resolve();
  }
  assert.equal(writer.inFlight, 0, "nothing written before the turn ends");
  await tick();
  writer.complete();
  await tick();
  assert.deepEqual(text(writer.writes), "line 0\nline 1\nline 2\n");
  assert.equal(writer.writes.length, 1);
  await outbox.close();
});

Deno.test("Outbox writes at once when a turn queues enough for a write of its own", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer, { maxQueuedBytes: 4 * EAGER_WRITE_BYTES });
  const line = b("x".repeat(999) + "\n");
  for (let sent = 0; sent < EAGER_WRITE_BYTES; sent += line.length) outbox.push(line);
  assert.equal(writer.inFlight, 1, "the write started without waiting for the turn to end");
  // The rest of a burst queues behind it; a reader keeping up is not dropped.
  for (let sent = 0; sent < 2 * EAGER_WRITE_BYTES; sent += line.length) {
    assert.ok(outbox.push(line));
  }
  while (writer.complete()) await tick();
  assert.equal(writer.writes.reduce((n, w) => n + w.length, 0), outbox.highWater);
  await outbox.close();
});

Deno.test("Outbox keeps one write in flight and sends what queued meanwhile in the next", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer);
  outbox.push(b("a\n"));
  await tick();
  outbox.push(b("b\n"));
  outbox.push(b("c\n"));
  await tick();
  assert.equal(writer.inFlight, 1, "never two writes at once");
  writer.complete();
  await tick();
  writer.complete();
  await tick();
  assert.deepEqual(writer.writes.map((w) => new TextDecoder().decode(w)), ["a\n", "b\nc\n"]);
  await outbox.close();
});

Deno.test("Outbox finishes a partial write before anything else", async () => {
  const writer = new ManualWriter();
  writer.maxPerWrite = 3;
  const outbox = new Outbox(writer);
  outbox.push(b("hello world\n"));
  await tick();
  for (let i = 0; i < 10 && writer.inFlight > 0; i++) {
    writer.complete();
    await tick();
  }
  assert.equal(text(writer.writes), "hello world\n");
  await outbox.close();
});

Deno.test("Outbox lets a burst pass its budget for a moment", async () => {
  const clock = new FakeClock();
  const writer = new ManualWriter();
  const outbox = new Outbox(writer, { maxQueuedBytes: 1000, now: clock.now });
  const line = new Uint8Array(100);
  for (let i = 0; i < 30; i++) assert.ok(outbox.push(line), `push ${i}`);
  clock.advance(DEFAULT_OVER_BUDGET_MS - 1);
  assert.ok(outbox.push(line), "still inside the grace");
  await outbox.close();
});

Deno.test("Outbox disconnects a reader that stays over budget for the grace period", async () => {
  const clock = new FakeClock();
  const writer = new ManualWriter();
  const outbox = new Outbox(writer, { maxQueuedBytes: 1000, now: clock.now });
  const line = new Uint8Array(100);
  for (let i = 0; i < 11; i++) outbox.push(line);
  clock.advance(DEFAULT_OVER_BUDGET_MS);
  assert.equal(outbox.push(line), false);
  assert.equal(await outbox.closed, "overflow");
  assert.equal(writer.closed, true);
  assert.equal(outbox.push(line), false, "a closed outbox takes nothing more");
  assert.ok(outbox.pendingBytes === 0, "the queue is released");
});

Deno.test("Outbox disconnects a reader at the hard cap at once", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer, { maxQueuedBytes: 1024 * 1024, now: () => 0 });
  const line = new Uint8Array(1000).fill(0x61);
  let accepted = 0;
  while (outbox.push(line)) accepted++;
  assert.equal(accepted, Math.floor(HARD_CAP_FACTOR * 1024 * 1024 / 1000));
  assert.equal(await outbox.closed, "overflow");
});

Deno.test("Outbox restarts the grace once a reader drains under budget", async () => {
  const clock = new FakeClock();
  const writer = new ManualWriter();
  const outbox = new Outbox(writer, { maxQueuedBytes: 1000, now: clock.now });
  const line = new Uint8Array(600);
  outbox.push(line);
  outbox.push(line); // over budget from now
  await tick();
  writer.complete(); // the reader took it all
  await tick();
  clock.advance(DEFAULT_OVER_BUDGET_MS);
  outbox.push(line);
  assert.ok(outbox.push(line), "a new burst gets a new grace");
  await outbox.close();
});

Deno.test("Outbox sends the overflow notice when no write is stuck", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer, { maxQueuedBytes: 10, overflowNotice: b("! bye\n") });
  outbox.push(new Uint8Array(41)); // over the hard cap at once, nothing in flight yet
  await tick();
  writer.complete();
  assert.equal(await outbox.closed, "overflow");
  assert.equal(text(writer.writes), "! bye\n");
});

Deno.test("Outbox close flushes queued bytes within the deadline", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer);
  outbox.push(b("last words\n"));
  await tick();
  const closing = outbox.close({ flushMs: 1000 });
  writer.complete();
  await closing;
  assert.equal(text(writer.writes), "last words\n");
  assert.equal(writer.closed, true);
});

Deno.test("Outbox close gives up on a stuck write at the deadline", async () => {
  const writer = new ManualWriter();
  const outbox = new Outbox(writer);
  outbox.push(b("never read\n"));
  await tick();
  const started = Date.now();
  await outbox.close({ flushMs: 30 });
  assert.ok(Date.now() - started >= 25);
  assert.equal(writer.closed, true);
  await outbox.close(); // safe twice
});

Deno.test("Outbox closes with reason error when a write fails", async () => {
  const writer = new ManualWriter();
  writer.write = () => Promise.reject(new Error("connection reset"));
  const outbox = new Outbox(writer);
  outbox.push(b("x\n"));
  assert.equal(await outbox.closed, "error");
});

Deno.test("Outbox tells its close listener the reason once, and makes its closed promise even after closing", async () => {
  const writer = new ManualWriter();
  writer.write = () => Promise.reject(new Error("connection reset"));
  const outbox = new Outbox(writer);
  const told: string[] = [];
  outbox.whenClosed({ outboxClosed: (reason) => told.push(reason) });
  outbox.push(b("x\n"));
  await tick();
  assert.deepEqual(told, ["error"]);
  await outbox.close();
  assert.deepEqual(told, ["error"], "told twice");
  assert.equal(await outbox.closed, "error");
});

Deno.test("Outbox tells a close listener that comes after the close, too", async () => {
  const outbox = new Outbox(new ManualWriter());
  await outbox.close();
  const told = await new Promise<string>((resolve) => outbox.whenClosed({ outboxClosed: resolve }));
  assert.equal(told, "closed");
});

Deno.test("Outboxes sharing write slots keep no more writes in flight than there are slots", async () => {
  const slots = new WriteSlots({ limit: 2, leaseMs: 0 });
  const writers = [0, 1, 2, 3, 4].map(() => new ManualWriter());
  const outboxes = writers.map((w) => new Outbox(w, { writes: new Writes(slots) }));
  for (const outbox of outboxes) outbox.push(b("hello\n"));
  await tick();
  assert.deepEqual(writers.map((w) => w.inFlight), [1, 1, 0, 0, 0]);
  assert.equal(slots.waiting, 3);
  writers[0]!.complete();
  await tick();
  assert.deepEqual(writers.map((w) => w.inFlight), [0, 1, 1, 0, 0]);
  for (const w of writers) while (w.complete()) await tick();
  writers[1]!.complete();
  await tick();
  for (const w of writers) while (w.complete()) await tick();
  assert.deepEqual(writers.map((w) => text(w.writes)), writers.map(() => "hello\n"));
  assert.equal(slots.waiting, 0);
  for (const outbox of outboxes) await outbox.close();
});

Deno.test("An outbox waiting for a write slot sends what queued meanwhile in that one write", async () => {
  const slots = new WriteSlots({ limit: 1, leaseMs: 0 });
  const [first, second] = [new ManualWriter(), new ManualWriter()];
  const busy = new Outbox(first, { writes: new Writes(slots) });
  const waiting = new Outbox(second, { writes: new Writes(slots) });
  busy.push(b("a\n"));
  waiting.push(b("1\n"));
  await tick();
  waiting.push(b("2\n"));
  await tick();
  assert.equal(second.inFlight, 0);
  first.complete();
  await tick();
  assert.equal(second.inFlight, 1);
  second.complete();
  assert.deepEqual(second.writes.map((w) => text([w])), ["1\n2\n"]);
  await busy.close();
  await waiting.close();
});

Deno.test("An outbox closed while it waits for a write slot passes the slot on unused", async () => {
  const slots = new WriteSlots({ limit: 1, leaseMs: 0 });
  const writers = [new ManualWriter(), new ManualWriter(), new ManualWriter()];
  const [busy, closing, next] = writers.map((w) =>
    new Outbox(w, { writes: new Writes(slots) })
  ) as [
    Outbox,
    Outbox,
    Outbox,
  ];
  for (const outbox of [busy, closing, next]) outbox.push(b("x\n"));
  await tick();
  assert.equal(slots.waiting, 2);
  await closing.close();
  writers[0]!.complete();
  await tick();
  assert.deepEqual(writers.map((w) => w.inFlight), [0, 0, 1]);
  assert.equal(writers[1]!.writes.length, 0);
  writers[2]!.complete();
  await busy.close();
  await next.close();
});

Deno.test("Writes stuck on readers that stopped reading hold their slots only until the lease runs out", async () => {
  const slots = new WriteSlots({ limit: 2, leaseMs: 0 });
  const stuck = [new ManualWriter(), new ManualWriter()];
  const reader = new ManualWriter();
  const outboxes = [...stuck, reader].map((w) => new Outbox(w, { writes: new Writes(slots) }));
  for (const outbox of outboxes) outbox.push(b("line\n"));
  await tick();
  assert.deepEqual([...stuck, reader].map((w) => w.inFlight), [1, 1, 0]);
  slots.expireLeases(); // the round in which the stuck writes began ends
  assert.equal(reader.inFlight, 0);
  slots.expireLeases(); // and the next: their leases run out
  assert.equal(reader.inFlight, 1);
  reader.complete();
  await tick();
  assert.equal(slots.lent, 0);
  // A stuck write that completes at last gives back nothing (its slot went
  // on when its lease ran out): two slots, never three.
  stuck[0]!.complete();
  await tick();
  assert.equal(slots.lent, 0);
  for (const outbox of outboxes) await outbox.close();
  assert.equal(slots.lent, 0);
});
