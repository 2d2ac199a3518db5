/**
 * Fan-out fairness against the real server process: a reader who keeps
 * reading is never dropped because of traffic that stays inside every
 * per-client limit, however many clients send at once; a reader who stops
 * reading is still dropped.
 */

import assert from "node:assert/strict";
import { TestClient } from "../testing/chat_client.ts";
import { startServerProcess } from "../testing/server_process.ts";

const encoder = new TextEncoder();

/** One burst inside `--flood-burst 20` and the 4,096-byte line cap. */
function burst(tag: string): Uint8Array {
  const line = `${tag} ${"x".repeat(4_000 - tag.length - 1)}\n`;
  return encoder.encode(line.repeat(20));
}

async function joinAll(port: number, n: number): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  for (let i = 0; i < n; i++) clients.push((await TestClient.join(port)).client);
  return clients;
}

/** Counts burst lines a reader gets until it has `expected` or the server
 * hangs up; returns the count and whether it was dropped. */
async function countBurstLines(reader: TestClient, expected: number) {
  let got = 0;
  while (got < expected) {
    let line: string;
    try {
      line = await reader.readLine(20_000);
    } catch {
      return { got, dropped: true };
    }
    if (line.startsWith("! disconnected")) return { got, dropped: true };
    if (/^\[user\d+\]: b\d+ x/.test(line)) got++;
  }
  return { got, dropped: false };
}

for (const senders of [30, 100]) {
  Deno.test(`ten readers who keep reading survive ${senders} clients bursting at once`, async () => {
    const server = await startServerProcess();
    try {
      const readers = await joinAll(server.port, 10);
      const writers = await joinAll(server.port, senders);
      // Everyone has joined: each reader's queue is quiet before the burst.
      await Promise.all(readers.map((r) => r.linesBeforeProbe()));
      await Promise.all(writers.map((w, i) => w.writeAll(burst(`b${i}`))));
      const results = await Promise.all(readers.map((r) => countBurstLines(r, senders * 20)));
      const dropped = results.filter((r) => r.dropped).length;
      assert.equal(dropped, 0, `readers dropped: ${JSON.stringify(results)}`);
      assert.ok(results.every((r) => r.got === senders * 20));
      await Promise.all([...readers, ...writers].map((c) => c.close()));
    } finally {
      await server.stop();
    }
  });
}

Deno.test("fifty clients each sending twenty private lines to one reader do not drop it", async () => {
  const server = await startServerProcess();
  try {
    const [bob] = await joinAll(server.port, 1) as [TestClient];
    await bob.send("/nick bob");
    await bob.readUntil((l) => l.includes("is now known as bob"));
    const writers = await joinAll(server.port, 50);
    const line = `/msg bob ${"y".repeat(4_000)}\n`;
    await Promise.all(writers.map((w) => w.writeAll(encoder.encode(line.repeat(20)))));
    let got = 0;
    while (got < 1_000) {
      const l = await bob.readLine(20_000);
      assert.ok(!l.startsWith("! disconnected"), l);
      if (l.includes(" -> bob]: y")) got++;
    }
    await Promise.all([bob, ...writers].map((c) => c.close()));
  } finally {
    await server.stop();
  }
});
