/**
 * The operator-facing side over real sockets: the metrics endpoint scraped
 * over HTTP, the browser client's page and WebSocket, TLS, and JSON logs.
 */

import assert from "node:assert/strict";
import { startServer, TestClient } from "../testing/chat_client.ts";
import { IrcClient } from "../testing/irc_client.ts";
import { runToExit, startServerProcess } from "../testing/server_process.ts";
import { haveTool } from "../testing/tools.ts";
import { within } from "../testing/within.ts";

async function scrape(port: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

Deno.test("the metrics endpoint reports connections, lines, bytes, kicks and queues", async () => {
  const server = startServer({ floodKickMs: 200 }, { metrics: true });
  const { metricsPort } = await server.ready;
  const a = await TestClient.join(server.port);
  const b = await TestClient.join(server.port);
  await a.client.readUntil((l) => l.includes(b.name));
  await a.client.send("counted");
  await b.client.readUntil((l) => l.startsWith("["));
  const before = await scrape(metricsPort!);
  assert.equal(before.get("marquee_connections_open"), 2);
  assert.equal(before.get("marquee_users"), 2);
  assert.equal(before.get("marquee_rooms"), 1);
  assert.ok(before.get("marquee_lines_in_total")! >= 1);
  assert.ok(before.get("marquee_lines_out_total")! >= 4, "joins, roster and the chat line");
  assert.ok(before.get("marquee_bytes_out_total")! > 0);
  assert.ok(before.get("marquee_send_queue_high_water_bytes")! > 0);
  assert.ok(before.has("marquee_event_loop_lag_seconds"));

  // A flooder gets kicked; the kick is counted by reason.
  const deadline = Date.now() + 3_000;
  while (!a.client.closedByServer && Date.now() < deadline) {
    await a.client.send("spam").catch(() => {});
    await new Promise((r) => setTimeout(r, 2));
  }
  await b.client.readUntil((l) => l === `* ${a.name} left the chat`);
  const after = await scrape(metricsPort!);
  assert.equal(after.get('marquee_kicks_total{reason="flooding"}'), 1);
  assert.equal(after.get("marquee_connections_open"), 1);
  assert.equal(after.get("marquee_connections_accepted_total"), 2);

  const missing = await fetch(`http://127.0.0.1:${metricsPort}/other`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  await Promise.all([a.client.close(), b.client.close()]);
  await server.stop();
});

Deno.test("the web client page is served with a strict content security policy", async () => {
  const server = startServer({}, { web: true });
  const { webPort } = await server.ready;
  const response = await fetch(`http://127.0.0.1:${webPort}/`);
  const html = await response.text();
  assert.equal(response.status, 200);
  const hash = async (text: string) =>
    btoa(String.fromCharCode(
      ...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))),
    ));
  const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)![1]!;
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
  assert.equal(
    response.headers.get("content-security-policy"),
    `default-src 'none'; script-src 'sha256-${await hash(script)}'; ` +
      `style-src 'sha256-${await hash(style)}'; connect-src 'self'; base-uri 'none'; ` +
      "form-action 'none'; frame-ancestors 'none'",
  );
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal((html.match(/<script/g) ?? []).length, 1, "one script, the hashed one");
  assert.ok(!/\son[a-z]+=/.test(html), "no inline event handlers (the CSP would block them)");
  assert.match(html, /<label for="line">/);
  assert.match(html, /role="log"/);
  assert.ok(html.includes("textContent"), "lines are rendered as text, never as HTML");
  assert.ok(!html.includes("innerHTML"));
  await server.stop();
});

Deno.test("a WebSocket user is a session like any other: same names, lines and commands", async () => {
  const server = startServer({}, { web: true });
  const { webPort } = await server.ready;
  const tcp = await TestClient.join(server.port);
  const socket = new WebSocket(`ws://127.0.0.1:${webPort}/ws`);
  const received: string[] = [];
  let notify = () => {};
  socket.onmessage = (event) => {
    received.push(...String(event.data).split("\n").filter((l) => l !== ""));
    notify();
  };
  const next = async (match: (line: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const index = received.findIndex(match);
      if (index !== -1) return received.splice(0, index + 1).at(-1)!;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    throw new Error(`No such line; got ${JSON.stringify(received)}`);
  };
  await new Promise((resolve) => (socket.onopen = resolve));
  assert.equal(await next(() => true), "* user2 joined the chat");
  assert.equal(await next(() => true), `* ${tcp.name} joined the chat`);
  await tcp.client.readUntil((l) => l === "* user2 joined the chat");
  socket.send("/nick webby");
  assert.equal(await next((l) => l.includes("known as")), "* user2 is now known as webby");
  socket.send("hello from the web \x1b[31m<b>");
  assert.equal(
    await tcp.client.readUntil((l) => l.startsWith("[")),
    "[webby]: hello from the web <b>",
  );
  await tcp.client.send("hello websocket");
  assert.equal(await next((l) => l.startsWith("[")), `[${tcp.name}]: hello websocket`);
  const closed = new Promise((resolve) => (socket.onclose = resolve));
  socket.close();
  await closed;
  assert.equal(await tcp.client.readUntil((l) => l.includes("left")), "* webby left the chat");
  await tcp.client.close();
  await server.stop();
});

async function makeCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const { success, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      // A leaf certificate, not a CA: rustls refuses a CA as a server's own.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
  return { cert, key };
}

const HAVE_OPENSSL = haveTool({
  name: "openssl",
  command: "openssl",
  args: ["version"],
  needed: "the TLS tests (they make a throwaway certificate)",
});

/** A test that needs a throwaway certificate (and so openssl): `fn` gets
 * the PEM files' paths and texts; they are removed afterwards. */
const tlsTest = (
  name: string,
  fn: (files: { cert: string; key: string }, pem: { cert: string; key: string }) => Promise<void>,
) =>
  Deno.test({
    name,
    ignore: !HAVE_OPENSSL,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      try {
        const files = await makeCertificate(dir);
        const pem = {
          cert: await Deno.readTextFile(files.cert),
          key: await Deno.readTextFile(files.key),
        };
        await fn(files, pem);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

tlsTest("the same chat is served over TLS alongside plain TCP", async (_files, pem) => {
  const server = startServer({}, { tls: pem });
  const plain = await TestClient.join(server.port);
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port: server.tlsPort!,
    caCerts: [pem.cert],
  });
  const secure = TestClient.wrap(conn);
  assert.equal(await secure.readLine(), "* user2 joined the chat");
  await secure.readUntil((l) => l === `* ${plain.name} joined the chat`);
  await secure.send("over tls");
  assert.equal(await plain.client.readUntil((l) => l.startsWith("[")), "[user2]: over tls");
  await plain.client.send("over tcp");
  assert.equal(await secure.readUntil((l) => l.startsWith("[")), `[${plain.name}]: over tcp`);
  await Promise.all([plain.client.close(), secure.close()]);
  await server.stop();
});

tlsTest("IRC is served over TLS too, by the program as users run it", async (files, pem) => {
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/marquee-data`);
  await Deno.copyFile(files.cert, `${cwd}/marquee-data/cert.pem`);
  await Deno.copyFile(files.key, `${cwd}/marquee-data/key.pem`);
  const server = await startServerProcess([
    ...["--tls-port", "0", "--irc-tls-port", "0"],
    ...["--tls-cert", "./marquee-data/cert.pem", "--tls-key", "./marquee-data/key.pem"],
  ], { cwd });
  try {
    const line = await server.waitForLog((l) => l.startsWith("IRC over TLS on "));
    const port = Number(/:(\d+)$/.exec(line)![1]);
    const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [pem.cert] });
    const irc = IrcClient.wrap(conn);
    await irc.send("NICK secure");
    await irc.send("USER secure 0 * :Over TLS");
    assert.equal(
      await irc.readUntil((l) => / 001 /.test(l)),
      ":marquee 001 secure :Welcome to the Marquee IRC network, secure",
    );
    await irc.close();
  } finally {
    await server.stop();
    await Deno.remove(cwd, { recursive: true });
  }
});

tlsTest(
  "the per-address limit counts TCP, WebSocket and TLS connections together",
  async (_, pem) => {
    const server = startServer(
      { maxConnectionsPerAddress: 2, exemptLoopback: false },
      { tls: pem, web: true },
    );
    const { webPort } = await server.ready;
    const tcp = await TestClient.join(server.port);
    const socket = new WebSocket(`ws://127.0.0.1:${webPort}/ws`);
    const first = new Promise<string>((resolve) => {
      socket.onmessage = (event) => resolve(String(event.data));
    });
    assert.match(await first, /^\* user2 joined the chat/);
    const conn = await Deno.connectTls({
      hostname: "localhost",
      port: server.tlsPort!,
      caCerts: [pem.cert],
    });
    // A refused TLS client is closed before its handshake, so without a
    // notice: waiting for a handshake is what a hostile client exploits.
    const third = TestClient.wrap(conn);
    assert.ok(await third.waitForEof());
    assert.deepEqual(third.buffered, []);
    assert.ok(server.logs.includes("Refused 127.0.0.1: too many connections from your address"));
    await third.close();
    const closed = new Promise((resolve) => (socket.onclose = resolve));
    socket.close();
    await closed;
    await tcp.client.close();
    await server.stop();
  },
);

tlsTest(
  "TLS without permission to read the key gives a one-line error and exit code 2",
  async ({ cert, key }) => {
    const args = ["--port", "0", "--tls-port", "0", "--tls-cert", cert, "--tls-key", key];
    const result = await runToExit(args);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `marquee: Cannot read ${cert} and ${key}: run with --allow-read=${cert},${key}\n`,
    );
  },
);

Deno.test("--log-format json writes one JSON object per line with connect and leave reasons", async () => {
  const server = await startServerProcess(["--log-format", "json"]);
  const { client, name } = await TestClient.join(server.port);
  await client.send("/quit bye");
  await client.waitForEof();
  await client.close();
  await server.waitForLog((l) => l.includes('"event":"leave"'));
  await server.stop();
  const entries = server.stdout.map((line) => JSON.parse(line));
  const connect = entries.find((e) => e.event === "connect");
  assert.equal(connect.user, name);
  assert.match(connect.peer, /^127\.0\.0\.1:\d+$/);
  assert.equal(connect.level, "info");
  assert.match(connect.ts, /^\d{4}-\d\d-\d\dT/);
  const leave = entries.find((e) => e.event === "leave");
  assert.deepEqual([leave.user, leave.reason, leave.msg], [name, "quit", `[server] ${name} left`]);
});

tlsTest("silent TLS connections announce nobody and do not hold up shutdown", async (_, pem) => {
  const server = startServer({ flushMs: 2_000 }, { tls: pem });
  const { client: watcher } = await TestClient.join(server.port);
  const silent: Deno.Conn[] = [];
  for (let i = 0; i < 20; i++) {
    silent.push(await Deno.connect({ hostname: "127.0.0.1", port: server.tlsPort! }));
  }
  assert.deepEqual(await watcher.linesBeforeProbe(), [], "no join for a bare connection");
  const started = Date.now();
  await within(server.stop(), 3_000, "shutdown waited for handshakes");
  console.log(`stopped ${Date.now() - started} ms after the signal with 20 silent TLS connections`);
  for (const conn of silent) conn.close();
  await watcher.close();
});

tlsTest(
  "a password sent over TLS gets no warning; over plain TCP it does, once",
  async (_, pem) => {
    const server = startServer({}, { tls: pem, accounts: {} });
    try {
      const conn = await Deno.connectTls({
        hostname: "localhost",
        port: server.tlsPort!,
        caCerts: [pem.cert],
      });
      const secure = TestClient.wrap(conn);
      await secure.readLine();
      await secure.send("/nick alice");
      await secure.readUntil((l) => l.endsWith("is now known as alice"));
      await secure.send("/register correct-horse");
      assert.equal(await secure.readLine(), "* you registered alice and are logged in");
      const { client: plain } = await TestClient.join(server.port);
      await plain.send("/login alice wrong-password");
      assert.match(
        await plain.readUntil((l) => !l.includes("joined")),
        /^\* this connection is not encrypted/,
      );
      assert.equal(await plain.readLine(), "! wrong name or password");
      await plain.send("/login alice wrong-password");
      assert.equal(await plain.readLine(), "! wrong name or password", "said once");
      await Promise.all([secure.close(), plain.close()]);
    } finally {
      await server.stop();
    }
  },
);
