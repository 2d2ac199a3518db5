/**
 * The web, WebSocket and TLS edges tried as an attacker would, over real
 * loopback sockets: each must keep the promise the chat port keeps (nothing
 * one client sends hurts anyone else, nothing ends the process).
 */

import assert from "node:assert/strict";
import { assertChatWorks, rssBytes, startServer, TestClient } from "../testing/chat_client.ts";
import { rawRequest, RawWebSocket, upgradeHead } from "../testing/raw_websocket.ts";
import { messageOf, startServerProcess } from "../testing/server_process.ts";
import { within } from "../testing/within.ts";

const encoder = new TextEncoder();
const MiB = 1024 * 1024;

function webPortOf(line: string): number {
  return Number(/:(\d+)\/$/.exec(messageOf(line))?.[1]);
}

Deno.test("running out of descriptors on the web port is survived and logged", async () => {
  const server = await startServerProcess(["--http-port", "0"], { fdLimit: 128 });
  try {
    const webPort = webPortOf(await server.waitForLog((l) => l.startsWith("Web client at")));
    const conns: Deno.Conn[] = [];
    for (let i = 0; i < 160; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: webPort }));
    }
    await server.waitForLog((l) => l.includes("Accept failed (Too many open files"));
    for (const conn of conns) conn.close();
    await assertChatWorks(server.port);
    const page = await fetch(`http://127.0.0.1:${webPort}/`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const status = await server.stopWithin(5_000);
    assert.equal(status.code, 0);
  } finally {
    await server.stop("SIGKILL");
  }
});

Deno.test("a request whose headers trickle in is closed at the header timeout", async () => {
  const server = startServer({}, { web: true, httpTimeouts: { headerTimeoutMs: 300 } });
  const { webPort } = await server.ready;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: webPort! });
  let closed = false;
  const eof = conn.read(new Uint8Array(1024)).catch(() => null).finally(() => (closed = true));
  await conn.write(encoder.encode("GET / HTTP/1.1\r\n"));
  // One header line every 50 ms for up to 2.5 s: never a complete request.
  for (let i = 0; i < 50 && !closed; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await conn.write(encoder.encode(`x-slow-${i}: 1\r\n`)).catch(() => {});
  }
  assert.ok(closed, "the server hung up on a request that never finished");
  assert.equal(await eof, null);
  conn.close();
  await server.stop();
});

Deno.test("an idle keep-alive connection is closed at the idle timeout", async () => {
  const server = startServer({}, { web: true, httpTimeouts: { idleTimeoutMs: 200 } });
  const { webPort } = await server.ready;
  const { conn, status } = await rawRequest(webPort!, "HEAD / HTTP/1.1\r\nhost: x\r\n\r\n");
  assert.equal(status, 200);
  const eof = conn.read(new Uint8Array(1024)).catch(() => null);
  assert.equal(await within(eof, 5_000, "the idle connection was never closed"), null);
  conn.close();
  await server.stop();
});

Deno.test("HTTP connections count against the per-address limit like chat ones", async () => {
  const server = startServer({ maxConnectionsPerAddress: 2, exemptLoopback: false }, { web: true });
  const { webPort } = await server.ready;
  const idle = [
    await Deno.connect({ hostname: "127.0.0.1", port: webPort! }),
    await Deno.connect({ hostname: "127.0.0.1", port: webPort! }),
  ];
  const chat = await TestClient.connect(server.port);
  assert.equal(await chat.readLine(), "! too many connections from your address");
  for (const conn of idle) conn.close();
  await chat.close();
  await server.stop();
});

Deno.test("HEAD / answers the page's headers without a body", async () => {
  const server = startServer({}, { web: true });
  const { webPort } = await server.ready;
  const response = await fetch(`http://127.0.0.1:${webPort}/`, { method: "HEAD" });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  assert.equal(await response.text(), "");
  await server.stop();
});

Deno.test("a malformed upgrade gets 400 and no stack trace in the log", async () => {
  const server = await startServerProcess(["--http-port", "0", "--log-format", "json"]);
  try {
    const webPort = webPortOf(
      await server.waitForLog((l) => messageOf(l).startsWith("Web client at")),
    );
    const noKey = upgradeHead(webPort, { "sec-websocket-key": undefined });
    const noConnection = upgradeHead(webPort, { connection: undefined });
    for (const head of [noKey, noConnection]) {
      const { conn, status } = await rawRequest(webPort, head);
      assert.equal(status, 400);
      conn.close();
    }
    const status = await server.stopWithin(5_000);
    assert.equal(status.code, 0);
    for (const line of server.stdout) assert.doesNotThrow(() => JSON.parse(line), line);
  } finally {
    await server.stop("SIGKILL");
  }
});

Deno.test("a WebSocket from another origin is refused; the page's own and originless ones are not", async () => {
  const server = startServer({}, { web: true, allowedOrigins: ["https://chat.example"] });
  const { webPort } = await server.ready;
  const port = webPort!;
  const cases: [string | undefined, number][] = [
    ["http://evil.example", 403],
    ["null", 403],
    [`http://127.0.0.1:${port + 1}`, 403],
    [`http://127.0.0.1:${port}`, 101],
    ["https://chat.example", 101],
    [undefined, 101],
  ];
  for (const [origin, expected] of cases) {
    const { conn, status } = await rawRequest(port, upgradeHead(port, { origin }));
    assert.equal(status, expected, `Origin: ${origin}`);
    conn.close();
  }
  await server.waitForLog((l) => l.endsWith("left"));
  await server.stop();
});

Deno.test("a WebSocket message past 64 KiB is refused from its header, with 1009, before it is buffered", async () => {
  const server = await startServerProcess(["--http-port", "0"]);
  try {
    const webPort = webPortOf(await server.waitForLog((l) => l.startsWith("Web client at")));
    const before = await rssBytes(server.pid);
    const sockets = await Promise.all(
      Array.from({ length: 10 }, () => RawWebSocket.open(webPort)),
    );
    const codes = await Promise.all(sockets.map(async (socket) => {
      // 20 MB announced, 2 MB of it sent, never finished.
      await socket.sendHeader(0x1, 20 * 1000 * 1000, false);
      await socket.sendPayload(new Uint8Array(2 * MiB).fill(0x61)).catch(() => {});
      return await socket.closeCode();
    }));
    assert.deepEqual(codes, Array(10).fill(1009));
    const growth = (await rssBytes(server.pid)) - before;
    console.log(`ten unfinished 20 MB WebSocket messages: server RSS grew ${growth >> 10} KiB`);
    assert.ok(growth < 10 * MiB, `RSS grew by ${growth} bytes`);
    for (const socket of sockets) socket.close();
    await assertChatWorks(server.port);
  } finally {
    await server.stop();
  }
});

Deno.test("a binary WebSocket frame closes with 1003 and never joins a text line", async () => {
  const server = startServer({}, { web: true });
  const { webPort } = await server.ready;
  const { client: watcher } = await TestClient.join(server.port);
  const socket = await RawWebSocket.open(webPort!);
  await watcher.readUntil((l) => l.endsWith("joined the chat"));
  await socket.send(0x2, encoder.encode("binary-"));
  await socket.sendText("text").catch(() => {});
  assert.equal(await socket.closeCode(), 1003);
  const lines = await watcher.readThrough((l) => l.endsWith("left the chat"));
  assert.ok(!lines.some((l) => l.includes("binary")), lines.join("\n"));
  socket.close();
  await watcher.close();
  await server.stop();
});

Deno.test("a WebSocket that never reads is kicked with the same notice, log line and count as TCP", async () => {
  const server = startServer({ floodRate: 0, maxQueuedBytes: 64 * 1024 }, {
    web: true,
    metrics: true,
  });
  const { webPort } = await server.ready;
  const sleeper = await RawWebSocket.open(webPort!);
  const { client: sender } = await TestClient.join(server.port);
  const batch = encoder.encode(`${"y".repeat(4000)}\n`.repeat(100));
  for (let sent = 0; sent < 600 && !sender.buffered.includes("* user1 left the chat"); sent++) {
    await sender.writeAll(batch);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await sender.readUntil((l) => l === "* user1 left the chat");
  await server.waitForLog((l) => l === "[server] user1 disconnected: not reading fast enough");
  assert.equal(server.metrics!.kicks.get("not reading fast enough"), 1);
  sleeper.close();
  await sender.close();
  await server.stop();
});

Deno.test("empty WebSocket messages cost flood tokens like any line", async () => {
  const server = startServer({ floodRate: 1, floodBurst: 5 }, { web: true });
  const { webPort } = await server.ready;
  const socket = await RawWebSocket.open(webPort!);
  for (let i = 0; i < 10; i++) await socket.sendText("");
  assert.equal(await socket.readUntil((l) => l.startsWith("!")), "! slow down");
  socket.close();
  await server.stop();
});
