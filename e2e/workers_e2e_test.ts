/**
 * `--workers`, as the binary runs it: several Deno Workers in one process,
 * sharing its ports, one chat. (The whole behaviour suite also runs against
 * in-process workers linked the same way: `MARQUEE_TEST_WORKERS=2`.)
 */

import assert from "node:assert/strict";
import { TestClient } from "../testing/chat_client.ts";
import { RawWebSocket } from "../testing/raw_websocket.ts";
import { runToExit, startServerProcess } from "../testing/server_process.ts";
import { runWorkers, WORKER_START_TIMEOUT_MS } from "../app/workers.ts";
import { parseConfig } from "../cli/flags.ts";
import { StartupError } from "../net/mod.ts";
import { CRASH_CHANNEL } from "../testing/crash_channel.ts";
import { pollUntil } from "../testing/within.ts";

/** Joins `n` clients; with two workers and SO_REUSEPORT spreading the
 * connections, some land on each. */
async function joinMany(port: number, n: number) {
  const joined = [];
  for (let i = 0; i < n; i++) joined.push(await TestClient.join(port));
  return joined;
}

Deno.test("--workers 2 is one chat: one userN sequence, everyone hears everyone", async () => {
  const server = await startServerProcess(["--workers", "2", "--flood-rate", "0"]);
  try {
    await server.waitForLog((l) => l === "[server] 2 workers");
    const joined = await joinMany(server.port, 8);
    assert.deepEqual(
      joined.map((j) => j.name),
      Array.from({ length: 8 }, (_, i) => `user${i + 1}`),
    );
    const last = joined.at(-1)!;
    await last.client.send("hello from the last");
    for (const { client } of joined.slice(0, -1)) {
      assert.equal(
        await client.readUntil((l) => l.startsWith("[")),
        `[${last.name}]: hello from the last`,
      );
    }
    await Promise.all(joined.map((j) => j.client.close()));
  } finally {
    await server.stop();
  }
});

Deno.test("with --workers, a name goes to one user however many ask at once", async () => {
  const server = await startServerProcess(["--workers", "2", "--flood-rate", "0"]);
  try {
    await server.waitForLog((l) => l === "[server] 2 workers");
    const joined = await joinMany(server.port, 6);
    await Promise.all(joined.map((j) => j.client.send("/nick sam")));
    // Each hears its own answer: its rename, or a refusal.
    const answers = await Promise.all(
      joined.map(({ client, name }) =>
        client.readUntil((l) => l.startsWith("!") || l === `* ${name} is now known as sam`)
      ),
    );
    const winners = answers.filter((a) => a.endsWith("is now known as sam"));
    const refused = answers.filter((a) => a.startsWith("! "));
    assert.equal(winners.length, 1, answers.join("\n"));
    assert.equal(refused.length, 5, answers.join("\n"));
    await Promise.all(joined.map((j) => j.client.close()));
  } finally {
    await server.stop();
  }
});

Deno.test("with --workers, the per-address limit counts connections on every worker", async () => {
  const server = await startServerProcess([
    "--workers",
    "2",
    "--max-per-address",
    "4",
    "--limit-loopback",
  ]);
  try {
    await server.waitForLog((l) => l === "[server] 2 workers");
    const joined = await joinMany(server.port, 4);
    const fifth = await TestClient.connect(server.port);
    assert.equal(await fifth.readLine(), "! too many connections from your address");
    await fifth.close();
    await Promise.all(joined.map((j) => j.client.close()));
  } finally {
    await server.stop();
  }
});

Deno.test("with --workers, the metrics endpoint adds up every worker", async () => {
  const server = await startServerProcess(["--workers", "2", "--metrics-port", "0"]);
  try {
    const url = /Metrics at (\S+)/.exec(
      await server.waitForLog((l) => l.startsWith("Metrics")),
    )![1]!;
    await server.waitForLog((l) => l === "[server] 2 workers");
    const joined = await joinMany(server.port, 6);
    await joined.at(-1)!.client.send("counted once");
    await joined[0]!.client.readUntil((l) => l.includes("counted once"));
    const text = await (await fetch(url)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    assert.equal(value("marquee_users"), 6);
    assert.equal(value("marquee_remote_users"), 0, "no other process");
    assert.equal(value("marquee_connections_accepted_total"), 6);
    assert.equal(value("marquee_lines_in_total"), 1);
    await Promise.all(joined.map((j) => j.client.close()));
  } finally {
    await server.stop();
  }
});

Deno.test("with --workers, the web port is shared too: browsers and nc users are one chat", async () => {
  const server = await startServerProcess(["--workers", "2", "--http-port", "0"]);
  try {
    const page = /Web client at (\S+)/.exec(
      await server.waitForLog((l) => l.startsWith("Web")),
    )![1]!;
    await server.waitForLog((l) => l === "[server] 2 workers");
    assert.match(await (await fetch(page)).text(), /<title>/);
    const webPort = Number(new URL(page).port);
    const sockets: RawWebSocket[] = [];
    for (let i = 0; i < 4; i++) sockets.push(await RawWebSocket.open(webPort));
    const { client, name } = await TestClient.join(server.port);
    await client.send("to the browsers");
    for (const socket of sockets) {
      assert.equal(
        await socket.readUntil((l) => l.startsWith("[")),
        `[${name}]: to the browsers`,
      );
    }
    for (const socket of sockets) socket.close();
    await client.close();
  } finally {
    await server.stop();
  }
});

Deno.test("SIGTERM stops every worker: everyone is told, and the process exits 0", async () => {
  const server = await startServerProcess(["--workers", "2"]);
  await server.waitForLog((l) => l === "[server] 2 workers");
  const joined = await joinMany(server.port, 6);
  const status = server.stopWithin(8_000, "SIGTERM");
  for (const { client } of joined) {
    assert.equal(
      await client.readUntil((l) => l.includes("shutting down")),
      "* server shutting down",
    );
  }
  assert.equal((await status).code, 0);
  await Promise.all(joined.map((j) => j.client.close()));
  assert.ok(server.stdout.includes("[server] stopped"));
});

Deno.test("--workers 0 and a taken port are one line each and exit code 2", async () => {
  const zero = await runToExit(["--workers", "0"]);
  assert.equal(zero.code, 2);
  assert.equal(zero.stderr, 'marquee: Invalid --workers "0": it must be at least 1\n');
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const run = await runToExit(["--workers", "2", "--port", String(taken.addr.port)]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^marquee: Cannot listen on 127\.0\.0\.1:\d+: [^\n]+\n$/);
  } finally {
    taken.close();
  }
});

/** A two-worker config for `runWorkers` in this process: a port that was
 * free a moment ago, a fresh data directory, no shutdown wait, and `extra`
 * flags. */
async function twoWorkers(extra: string[] = []) {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const dataDir = await Deno.makeTempDir();
  const config = parseConfig([
    ...["--workers", "2", "--port", String(port), "--data-dir", dataDir],
    ...["--shutdown-timeout", "0", ...extra],
  ], () => undefined);
  return { port, dataDir, config };
}

Deno.test("workers that are not ready in time fail the start in one line, and let the port go", async () => {
  const { port, dataDir, config } = await twoWorkers();
  const lines: string[] = [];
  try {
    // No worker starts in 1 ms: the deadline, not a worker, ends the start.
    const start = runWorkers(config, (line) => lines.push(line), {}, { startTimeoutMs: 1 });
    await assert.rejects(start, (error: Error) => {
      assert.ok(error instanceof StartupError);
      assert.match(
        error.message,
        /^worker \S+ did not start within 1 ms \(its code never loaded\)$/,
      );
      return true;
    });
    // Every worker is stopped and the port is free again.
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** How long the crash test lets its in-process workers start: their
 * modules are type-checked as they load under `deno test`. */
const TEST_WORKER_START_MS = 4 * WORKER_START_TIMEOUT_MS;

Deno.test("a worker that crashes takes only its own users: the rest are told they left and chat on", async () => {
  // The per-address limit on loopback too, exactly as many as join: the
  // crashed worker's connections must be let go for more to come.
  const { port, dataDir, config } = await twoWorkers(
    ["--limit-loopback", "--max-per-address", "20", "--connects-per-minute", "6000"],
  );
  const logged: string[] = [];
  const stop = new AbortController();
  const running = runWorkers(config, (line) => logged.push(line), {}, {
    signal: stop.signal,
    workerModule: new URL("../testing/crashing_worker.ts", import.meta.url),
    startTimeoutMs: TEST_WORKER_START_MS,
  });
  const crash = new BroadcastChannel(CRASH_CHANNEL);
  try {
    // As long as a start may take: on a fresh cache `deno test` type-checks
    // the worker's modules as it loads them, which took CI over 5 s (6 s
    // here; 0.4 s with --no-check), and once over the 20 s a real start is
    // given (two workers checking at once on two cores). A start that
    // fails ends the wait at once, with its own error.
    let ended = false;
    running.then(() => {}, () => {}).finally(() => ended = true);
    const ready = () => logged.includes("[server] 2 workers");
    await pollUntil("the workers are ready", () => ended || ready(), TEST_WORKER_START_MS);
    if (!ready()) await running;
    assert.ok(ready(), `the workers stopped before they were ready:\n${logged.join("\n")}`);
    // The kernel spreads connections over the two workers at random: with
    // 20, all on one worker is a one-in-half-a-million chance.
    const joined = await joinMany(port, 20);
    for (const { client } of joined) await client.linesBeforeProbe();
    crash.postMessage(1);
    const crashed = /^\[server\] worker \S+-w1 failed: .*crashed on purpose/;
    await pollUntil("the crash is logged", () => logged.some((l) => crashed.test(l)));
    // Each client either is cut off (it was on the crashed worker) or hears
    // of the first of those who were.
    const firstLines = await Promise.all(joined.map((j) => j.client.readLine().catch(() => "")));
    const gone = joined.filter((j, i) => firstLines[i] === "" && j.client.closedByServer);
    const left = joined.filter((_, i) => firstLines[i] !== "");
    assert.equal(gone.length + left.length, joined.length);
    assert.ok(gone.length > 0 && left.length > 0, `${gone.length} gone, ${left.length} left`);
    for (const survivor of left) {
      const told = [firstLines[joined.indexOf(survivor)]!];
      while (told.length < gone.length) told.push(await survivor.client.readLine());
      const names = told.map((line) => /^\* (\S+) left the chat/.exec(line)?.[1] ?? line);
      assert.deepEqual(names.toSorted(), gone.map((j) => j.name).toSorted());
    }
    // Those cut off no longer count against their address: as many can
    // come back. The rest chat on with them (on the surviving worker: the
    // crashed one's listener went with it).
    const back = await joinMany(port, gone.length);
    const newcomer = back.at(-1)!;
    const over = await TestClient.connect(port);
    assert.equal(await over.readLine(), "! too many connections from your address");
    await over.close();
    await left[0]!.client.send("still here");
    for (const { client } of [...left.slice(1), newcomer]) {
      assert.equal(
        await client.readUntil((l) => l.includes("still here")),
        `[${left[0]!.name}]: still here`,
      );
    }
    await Promise.all([...joined, ...back].map((j) => j.client.close()));
  } finally {
    crash.close();
    stop.abort();
    await running;
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a restarted --workers process hands out no user number twice", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "marquee-numbers-" });
  try {
    const first = await startServerProcess(["--workers", "2", "--history", "on"], { cwd });
    await first.waitForLog((l) => l === "[server] 2 workers");
    const before = await joinMany(first.port, 3);
    assert.deepEqual(before.map((j) => j.name), ["user1", "user2", "user3"]);
    await Promise.all(before.map((j) => j.client.close()));
    assert.equal((await first.stop()).code, 0);
    const second = await startServerProcess(["--workers", "2", "--history", "on"], { cwd });
    await second.waitForLog((l) => l === "[server] 2 workers");
    const [after] = await joinMany(second.port, 1);
    assert.equal(after!.name, "user65", "the first run reserved 1-64");
    await after!.client.close();
    await second.stop();
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
