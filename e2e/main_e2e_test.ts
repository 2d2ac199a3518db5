/**
 * End-to-end tests: the real server over real TCP sockets on port 0, driven
 * the way `nc` users drive it. Protocol lines are asserted exactly.
 */

import assert from "node:assert/strict";
import {
  assertChatWorks,
  rssBytes,
  startServer,
  TestClient,
  type TestServer,
} from "../testing/chat_client.ts";
import { startServerProcess } from "../testing/server_process.ts";
import { closeWithReset } from "../testing/tcp_state.ts";
import { replayTranscript } from "../testing/transcript.ts";

Deno.test("a newcomer sees its own join, then the roster in join order; others see the join", async () => {
  const server = startServer();
  const one = await TestClient.connect(server.port);
  assert.equal(await one.readLine(), "* user1 joined the chat");
  const two = await TestClient.connect(server.port);
  assert.equal(await two.readLine(), "* user2 joined the chat");
  assert.equal(await two.readLine(), "* user1 joined the chat");
  assert.equal(await one.readLine(), "* user2 joined the chat");
  const three = await TestClient.connect(server.port);
  assert.deepEqual(
    [await three.readLine(), await three.readLine(), await three.readLine()],
    ["* user3 joined the chat", "* user1 joined the chat", "* user2 joined the chat"],
  );
  assert.equal(await one.readLine(), "* user3 joined the chat");
  assert.equal(await two.readLine(), "* user3 joined the chat");
  await Promise.all([one.close(), two.close(), three.close()]);
  await server.stop();
});

Deno.test("a chat line reaches everyone else as [name]: text and is never echoed", async () => {
  const server = startServer();
  const a = await TestClient.join(server.port);
  const b = await TestClient.join(server.port);
  const c = await TestClient.join(server.port);
  await a.client.readUntil((l) => l.includes(c.name));
  await b.client.readUntil((l) => l.includes(c.name));
  await a.client.send("hello everyone!");
  assert.equal(await b.client.readLine(), `[${a.name}]: hello everyone!`);
  assert.equal(await c.client.readUntil((l) => l.startsWith("[")), `[${a.name}]: hello everyone!`);
  assert.deepEqual(await a.client.linesBeforeProbe(), [], "the sender gets no echo");
  await Promise.all([a.client.close(), b.client.close(), c.client.close()]);
  await server.stop();
});

Deno.test("CRLF lines arrive without the CR, and replies never use CRLF", async () => {
  const server = startServer();
  const a = await TestClient.join(server.port);
  const b = await TestClient.join(server.port);
  await a.client.readUntil((l) => l.includes(b.name));
  await a.client.writeAll(new TextEncoder().encode("hi there!\r\n"));
  const line = await b.client.readUntil((l) => l.startsWith("["));
  assert.equal(line, `[${a.name}]: hi there!`);
  assert.ok(!line.includes("\r"));
  await Promise.all([a.client.close(), b.client.close()]);
  await server.stop();
});

Deno.test("a client that disconnects (EOF) is announced as left to everyone else", async () => {
  const server = startServer();
  const a = await TestClient.join(server.port);
  const b = await TestClient.join(server.port);
  await a.client.readUntil((l) => l.includes(b.name));
  await b.client.close();
  assert.equal(await a.client.readLine(), `* ${b.name} left the chat`);
  await a.client.close();
  await server.stop();
  assert.ok(server.logs.includes(`[server] ${b.name} left`));
});

Deno.test("a client whose connection resets is announced as left", async () => {
  const server = startServer();
  const a = await TestClient.join(server.port);
  const quiet = await TestClient.connect(server.port, { read: false });
  await a.client.readUntil((l) => l === "* user2 joined the chat");
  await closeWithReset(quiet.conn); // its unread join line makes the close a reset
  await quiet.close();
  assert.equal(await a.client.readLine(), "* user2 left the chat");
  await a.client.close();
  await server.stop();
});

Deno.test("a message sent right before a half-close is delivered, then the leave", async () => {
  const server = startServer();
  const a = await TestClient.join(server.port);
  const b = await TestClient.join(server.port);
  await a.client.readUntil((l) => l.includes(b.name));
  await b.client.send("last words");
  await b.client.closeWrite();
  assert.equal(await a.client.readLine(), `[${b.name}]: last words`);
  assert.equal(await a.client.readLine(), `* ${b.name} left the chat`);
  assert.equal(await b.client.waitForEof(), true, "the server closes its side too");
  await Promise.all([a.client.close(), b.client.close()]);
  await server.stop();
});

/** The server's log, its start said once: with workers (the suite's second
 * pass), each worker starts its own ChatServer and says so. */
function chatLog(server: TestServer): string[] {
  const started = "[server] ChatServer started";
  return server.logs.filter((l, i, all) => l !== started || all.indexOf(l) === i);
}

Deno.test("the server log shows starts, peers with ports, joins and leaves by current name", async () => {
  const server = startServer();
  const a = await TestClient.join(server.port);
  await a.client.send("/nick alice");
  await a.client.readLine();
  await a.client.close();
  await server.waitForLog((l) => l === "[server] alice left");
  await server.stop();
  const port = (a.client.conn.localAddr as Deno.NetAddr).port;
  assert.deepEqual(chatLog(server).slice(0, 5), [
    "[server] ChatServer started",
    `New connection from 127.0.0.1:${port} as user1`,
    "[server] user1 joined",
    "[server] user1 is now known as alice",
    "[server] alice left",
  ]);
});

Deno.test("a client that never reads neither slows others down nor grows memory past its budget", async () => {
  const budget = 256 * 1024;
  const server = await startServerProcess([
    "--flood-rate",
    "0",
    "--send-queue-bytes",
    String(budget),
    "--metrics-port",
    "0",
  ]);
  const metricsUrl = /Metrics at (\S+)/.exec(
    await server.waitForLog((l) => l.startsWith("Metrics at")),
  )![1]!;
  const sleeper = await TestClient.connect(server.port, { read: false });
  const a = await TestClient.join(server.port);
  const b = await TestClient.join(server.port);
  await a.client.readUntil((l) => l.includes(b.name));
  const before = await rssBytes(server.pid);
  const payload = "x".repeat(1000);
  let received = 0;
  for (let round = 0; round < 20; round++) {
    // 20 rounds of 500 lines: ~10 MB sent toward the sleeper, which reads none.
    const batch = Array.from({ length: 500 }, (_, i) => `${round}:${i} ${payload}`).join("\n");
    await a.client.send(batch);
    for (let i = 0; i < 500; i++) {
      await b.client.readUntil((l) => l.startsWith(`[${a.name}]: `), 10_000);
      received++;
    }
  }
  assert.equal(received, 10_000, "the reader got every line while the sleeper slept");
  await a.client.readUntil((l) => l === "* user1 left the chat", 10_000);
  const growth = (await rssBytes(server.pid)) - before;
  console.log(`slow reader: server RSS ${before >> 20} MiB before, grew ${growth >> 10} KiB`);
  // The exact bound: no client's queue ever held more than the hard cap,
  // four times its budget (an unbounded queue would show the whole ~10 MB).
  const text = await (await fetch(metricsUrl)).text();
  const deepest = Number(/^marquee_send_queue_high_water_bytes (\d+)$/m.exec(text)![1]);
  assert.ok(deepest > budget / 2 && deepest <= 4 * budget, `deepest queue ${deepest} bytes`);
  // A loose sanity bound on the process as a whole: the reader's 10 MB pass
  // through and wait for the collector, so RSS cannot be held to the budget.
  assert.ok(growth < 32 * 1024 * 1024, `server RSS grew by ${growth} bytes`);
  await Promise.all([sleeper.close(), a.client.close(), b.client.close()]);
  const status = await server.stop();
  assert.equal(status.code, 0);
  assert.ok(server.stdout.includes("[server] user1 disconnected: not reading fast enough"));
});

Deno.test("a 10 MB line without a newline is discarded with a notice and the connection survives", async () => {
  const server = startServer();
  const a = await TestClient.join(server.port);
  const b = await TestClient.join(server.port);
  await a.client.readUntil((l) => l.includes(b.name));
  const chunk = new Uint8Array(1024 * 1024).fill(0x61);
  for (let i = 0; i < 10; i++) await a.client.writeAll(chunk);
  await a.client.send(" tail of the giant line");
  assert.equal(await a.client.readLine(), "! line too long (max 4096 bytes)");
  await a.client.send("after the giant");
  assert.equal(await b.client.readUntil((l) => l.startsWith("[")), `[${a.name}]: after the giant`);
  assert.deepEqual(await a.client.linesBeforeProbe(), [], "one notice per over-long line");
  await Promise.all([a.client.close(), b.client.close()]);
  await server.stop();
});

Deno.test("graceful shutdown tells every client and closes every connection", async () => {
  const server = startServer();
  const clients = await Promise.all([1, 2, 3].map(() => TestClient.join(server.port)));
  await clients[0]?.client.readUntil((l) => l === "* user3 joined the chat");
  await server.stop();
  for (const { client } of clients) {
    assert.equal(await client.readUntil((l) => l.startsWith("* server")), "* server shutting down");
    assert.equal(await client.waitForEof(), true);
    await client.close();
  }
});

Deno.test("one server keeps serving after a giant line, garbage, a reset mid-line and a flood", async () => {
  const server = startServer();
  const { client: giant } = await TestClient.join(server.port);
  await giant.writeAll(new Uint8Array(5 * 1024 * 1024).fill(0x61));
  await giant.send("");
  assert.equal(await giant.readLine(), "! line too long (max 4096 bytes)");
  const garbage = crypto.getRandomValues(new Uint8Array(65536));
  const { client: noise } = await TestClient.join(server.port);
  await noise.writeAll(garbage);
  const rude = await TestClient.connect(server.port, { read: false });
  await rude.writeAll(new TextEncoder().encode("half a li"));
  await closeWithReset(rude.conn);
  const { client: flooder } = await TestClient.join(server.port);
  await flooder.writeAll(new TextEncoder().encode("flood\n".repeat(10_000)));
  assert.equal(await flooder.readUntil((l) => l.startsWith("!")), "! slow down");
  await assertChatWorks(server.port);
  await Promise.all([giant, noise, rude, flooder].map((c) => c.close()));
  await server.stop();
});

/** The lines of the code block that follows `heading` in `file` (the
 * README unless told). */
function readmeBlock(heading: string, file = "../README.md"): string[] {
  const readme = Deno.readTextFileSync(new URL(file, import.meta.url));
  const start = readme.indexOf("```", readme.indexOf(heading)) + 3;
  const block = readme.slice(readme.indexOf("\n", start) + 1, readme.indexOf("```", start));
  return block.split("\n").filter((l) => l !== "");
}

Deno.test("the README's example session happens exactly as written, in that order", async () => {
  // Flood control off: the replay's probes are extra lines no person types.
  // History on, as `deno task chat` has it (a fresh data directory).
  const server = startServer({ floodRate: 0 }, { welcome: true, history: true });
  await replayTranscript(server.port, [
    ["terminal 2", readmeBlock("Terminal 2, the first client")],
    ["terminal 3", readmeBlock("Terminal 3, the second client")],
  ], server.settle);
  await server.waitForLog((l) => l === "[server] alice left");
  await server.stop();
  const withoutPorts = (l: string) => l.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:PORT");
  const readmeLog = readmeBlock("Terminal 1, the server").map(withoutPorts);
  assert.deepEqual(
    chatLog(server).map(withoutPorts),
    readmeLog.slice(2),
    "log after the startup lines",
  );
});

Deno.test("the protocol's second session (more commands) happens exactly as written", async () => {
  const server = startServer({ floodRate: 0 }, { welcome: true, history: true });
  const protocol = "../docs/protocol.md";
  await replayTranscript(server.port, [
    ["the first client", readmeBlock("The first client:", protocol)],
    ["the second client", readmeBlock("The second client:", protocol)],
  ], server.settle);
  await server.stop();
});

Deno.test("an over-long line is logged as a warning with its event and user", async () => {
  const server = await startServerProcess(["--log-format", "json", "--log-level", "warn"]);
  try {
    const { client, name } = await TestClient.join(server.port);
    await client.send("x".repeat(5_000));
    assert.equal(
      await client.readUntil((l) => l.startsWith("!")),
      "! line too long (max 4096 bytes)",
    );
    const line = await server.waitForLog((l) => l.includes("line_too_long"));
    const entry = JSON.parse(line);
    assert.deepEqual([entry.level, entry.event, entry.user], ["warn", "line_too_long", name]);
    await client.close();
  } finally {
    await server.stop();
  }
});
