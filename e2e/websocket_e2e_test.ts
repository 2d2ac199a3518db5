/**
 * The browser client's WebSocket edge over real sockets: admission shared
 * with TCP, refusals logged and counted, the upgrade rules, and both of the
 * WebSocket's caps (inbound 64 KiB, outbound 1 MiB).
 */

import assert from "node:assert/strict";
import { within } from "../testing/within.ts";
import { startServer, TestClient } from "../testing/chat_client.ts";

/** Opens a WebSocket to `/ws` and collects what it receives. */
async function openSocket(port: number) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const lines: string[] = [];
  let wake = () => {};
  socket.onmessage = (event) => {
    lines.push(...String(event.data).split("\n").filter((l) => l !== ""));
    wake();
  };
  const closed = new Promise<void>((resolve) => (socket.onclose = () => resolve()));
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const nextLine = async (): Promise<string> => {
    const deadline = Date.now() + 5_000;
    while (lines.length === 0) {
      if (Date.now() > deadline) throw new Error("Cannot read a line from the WebSocket");
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return lines.shift()!;
  };
  return { socket, closed, nextLine };
}

Deno.test("an HTTP connection past the connection limit gets 503 with the reason, logged and counted like TCP", async () => {
  const server = startServer({ maxConnections: 1 }, { web: true, metrics: true });
  const { webPort } = await server.ready;
  const { client } = await TestClient.join(server.port);
  const refused = await fetch(`http://127.0.0.1:${webPort}/`);
  assert.equal(refused.status, 503);
  assert.equal(await refused.text(), "server full\n");
  await assert.rejects(openSocket(webPort!), "a WebSocket is refused the same way");
  assert.ok(server.logs.includes("Refused 127.0.0.1: server full"), server.logs.join("\n"));
  assert.equal(server.metrics!.refused.get("server full"), 2);
  await client.close();
  await server.stop();
});

Deno.test("/ws without an upgrade gets 426, and other paths 404", async () => {
  const server = startServer({}, { web: true });
  const { webPort } = await server.ready;
  const plain = await fetch(`http://127.0.0.1:${webPort}/ws`);
  assert.equal(plain.status, 426);
  assert.equal(await plain.text(), "Expected a WebSocket upgrade\n");
  const missing = await fetch(`http://127.0.0.1:${webPort}/nothing-here`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  await server.stop();
});

Deno.test("a WebSocket message over 64 KiB closes that socket; everyone else chats on", async () => {
  const server = startServer({}, { web: true });
  const { webPort } = await server.ready;
  const { client: watcher } = await TestClient.join(server.port);
  const big = await openSocket(webPort!);
  assert.equal(await big.nextLine(), "* user2 joined the chat");
  await watcher.readUntil((l) => l === "* user2 joined the chat");
  big.socket.send("x".repeat(64 * 1024 + 1));
  await within(big.closed, 5_000, "the server did not close a socket over the inbound cap");
  assert.equal(await watcher.readUntil((l) => l.includes("user2 left")), "* user2 left the chat");
  const { client: other, name } = await TestClient.join(server.port);
  await other.send("still fine");
  assert.equal(await watcher.readUntil((l) => l.startsWith("[")), `[${name}]: still fine`);
  await Promise.all([watcher.close(), other.close()]);
  await server.stop();
});

/** A WebSocket client that completes the handshake and then never reads. */
async function neverReadingSocket(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const request = [
    "GET /ws HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    "",
    "",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(4096);
  const n = await conn.read(buffer);
  const head = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
  assert.match(head, /^HTTP\/1\.1 101 /);
  return conn;
}

Deno.test("a WebSocket that never reads is dropped at its 1 MiB outbound cap", async () => {
  const server = startServer({ floodRate: 0 }, { web: true });
  const { webPort } = await server.ready;
  const sleeper = await neverReadingSocket(webPort!);
  const { client: sender } = await TestClient.join(server.port);
  const line = "y".repeat(4000);
  const batch = new TextEncoder().encode(`${line}\n`.repeat(100));
  let sent = 0;
  // At most 60 MB: far past the cap plus whatever the kernel buffers hold.
  while (!sender.buffered.includes("* user1 left the chat") && sent < 600) {
    await sender.writeAll(batch);
    sent++;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await sender.readUntil((l) => l === "* user1 left the chat");
  console.log(`never-reading WebSocket dropped after ${(sent * batch.length) >> 20} MiB was sent`);
  sleeper.close();
  await sender.close();
  await server.stop();
});

/** Sends an upgrade request to /ws with `headers` (no Host unless given);
 * returns the response head. */
async function upgradeAnswer(port: number, headers: Record<string, string>): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [
    "GET /ws HTTP/1.1",
    ...Object.entries({
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...headers,
    }).map(([name, value]) => `${name}: ${value}`),
    "",
    "",
  ];
  await conn.write(new TextEncoder().encode(lines.join("\r\n")));
  const buffer = new Uint8Array(4096);
  const n = await within(conn.read(buffer), 5_000, "no answer to the upgrade");
  conn.close();
  const text = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
  return text.slice(0, text.indexOf("\r\n\r\n"));
}

Deno.test("/ws answers only a Host naming this server: DNS rebinding, no Host and a wrong version are refused", async () => {
  const server = startServer({}, { web: true, publicHosts: ["chat.example.org"] });
  const port = (await server.ready).webPort!;
  const ask = (host: string | undefined, extra: Record<string, string> = {}) =>
    upgradeAnswer(port, host === undefined ? extra : { Host: host, ...extra });
  const rebound = await ask(`evil.example:${port}`, { Origin: `http://evil.example:${port}` });
  assert.match(rebound, /^HTTP\/1\.1 403 /, "a page from a rebound name");
  assert.match(await ask(undefined), /^HTTP\/1\.1 400 /, "no Host at all");
  const version = await ask(`127.0.0.1:${port}`, { "Sec-WebSocket-Version": "8" });
  assert.match(version, /^HTTP\/1\.1 426 /, "an unknown version");
  assert.match(version, /\r\nsec-websocket-version: 13(\r\n|$)/i, "names the version it speaks");
  for (
    const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "chat.example.org"]
  ) {
    assert.match(await ask(host), /^HTTP\/1\.1 101 /, host);
  }
  await server.stop();
});
