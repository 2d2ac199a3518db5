/**
 * The test of `main.ts` itself, as the program runs: flags, then listeners,
 * then the chat, then a signal, then the exit code; and the tasks that
 * start it. The chat's behaviour over sockets is tested in `e2e/`.
 */

import assert from "node:assert/strict";
import { TestClient } from "./testing/chat_client.ts";
import { runToExit, startServerProcess } from "./testing/server_process.ts";

const runMain = (args: string[], env: Record<string, string> = {}) => runToExit(args, { env });

Deno.test("SIGTERM and SIGINT shut the process down with exit code 0", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const server = await startServerProcess();
    const a = await TestClient.join(server.port);
    const status = await server.stop(signal);
    assert.equal(
      await a.client.readUntil((l) => l.startsWith("* server")),
      "* server shutting down",
    );
    assert.equal(status.code, 0);
    await a.client.close();
  }
});

Deno.test("SIGTERM exits within the shutdown timeout although a client never reads its queue", async () => {
  const server = await startServerProcess([
    "--shutdown-timeout",
    "1",
    "--flood-rate",
    "0",
    "--send-queue-bytes",
    String(64 * 1024 * 1024),
  ]);
  const sleeper = await TestClient.connect(server.port, { read: false });
  const { client: reader } = await TestClient.join(server.port);
  const { client: sender } = await TestClient.join(server.port);
  await reader.readUntil((l) => l === "* user3 joined the chat");
  // 20 MB toward the sleeper: far more than the kernel's buffers hold, so
  // its queue cannot drain, and the server must give up on it at the deadline.
  await sender.writeAll(new TextEncoder().encode(`${"z".repeat(4000)}\n`.repeat(5000)));
  await reader.readUntil((l) => l.startsWith("[user3]: z"), 10_000);
  const signalledAt = performance.now();
  const status = await server.stop("SIGTERM");
  const took = performance.now() - signalledAt;
  assert.equal(status.code, 0);
  assert.ok(took < 1_000 + 2_000, `exited ${took.toFixed(0)} ms after SIGTERM`);
  assert.ok(took >= 900, `exited after ${took.toFixed(0)} ms: the deadline was not waited for`);
  assert.equal(await reader.readUntil((l) => l.startsWith("* server")), "* server shutting down");
  await Promise.all([sleeper.close(), reader.close(), sender.close()]);
});

Deno.test("the startup lines show the real port when started with --port 0", async () => {
  const server = await startServerProcess();
  await server.waitForLog((l) => l.startsWith("[server] ChatServer started"));
  assert.equal(server.stdout[0], `Chat server started on 127.0.0.1:${server.port}`);
  assert.equal(server.stdout[1], `Connect with: nc localhost ${server.port}`);
  assert.ok(server.port > 0);
  await server.stop();
});

Deno.test("a bad flag or port gives a one-line error and exit code 2", async () => {
  for (
    const args of [["--bogus"], ["--port", "99999"], ["--port", "abc"], ["--flood-rate", "-1"]]
  ) {
    const result = await runMain(args);
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.match(result.stderr, /^marquee: /);
  }
  const env = await runMain([], { CHAT_PORT: "nope" });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /CHAT_PORT/);
});

Deno.test("a port already in use gives a one-line error and exit code 2", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const result = await runMain(["--port", String((taken.addr as Deno.NetAddr).port)]);
  taken.close();
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^marquee: Cannot listen on .*address already in use\n$/);
});

Deno.test("--help lists every flag with its environment variable", async () => {
  const result = await runMain(["--help"]);
  assert.equal(result.code, 0);
  for (const flag of ["--host", "--port", "--flood-rate", "--max-line-bytes", "CHAT_PORT"]) {
    assert.ok(result.stdout.includes(flag), flag);
  }
});

Deno.test("deno task compile bakes in exactly the runtime flags of deno task chat", () => {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("./deno.json", import.meta.url))).tasks;
  const flags = (task: string) =>
    task.split(" ").filter((w) =>
      w.startsWith("--allow-") || w.startsWith("--v8-flags=") || w.startsWith("--unstable-")
    ).sort();
  assert.deepEqual(flags(tasks.compile), flags(tasks.chat));
  assert.ok(!/\s-A\b|--allow-all/.test(tasks.chat), "no blanket permissions");
  assert.match(tasks.compile, /main\.ts$/, "the binary's entry point is main.ts, as in the tests");
  // The binary may read its certificates from one documented place only.
  // The binary reads its certificates from one documented place, and keeps
  // its history in one: nothing else on disk.
  const files = flags(tasks.chat).filter((f) => /^--allow-(read|write)/.test(f));
  // Besides: its own modules, which each worker of --workers loads.
  assert.deepEqual(files, [
    "--allow-read=/etc/marquee,./marquee-data,./actors,./app,./chat,./cli,./cluster,./irc,./net,./store",
    "--allow-write=./marquee-data",
  ]);
  assert.match(tasks.compile, /--include app\/worker\.ts /, "the binary carries the worker");
  const readme = Deno.readTextFileSync(new URL("./README.md", import.meta.url));
  for (const place of ["`/etc/marquee`", "`./marquee-data`"]) {
    assert.ok(readme.includes(place), `the README names ${place}`);
  }
});

Deno.test("deno task chat may read every environment variable the config knows", async () => {
  const { FLAGS, envName } = await import("./cli/flags.ts");
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("./deno.json", import.meta.url))).tasks;
  const allowed = /--allow-env=(\S+)/.exec(tasks.chat)?.[1]?.split(",") ?? [];
  for (const flag of FLAGS) assert.ok(allowed.includes(envName(flag.flag)), envName(flag.flag));
});

Deno.test("deno task chat fetches no test-only package: the browser test's live in its own config and lockfile", () => {
  const read = (path: string) => Deno.readTextFileSync(new URL(path, import.meta.url));
  const config = JSON.parse(read("./deno.json"));
  for (const file of ["./deno.json", "./deno.lock"]) {
    assert.ok(!read(file).includes("playwright"), `${file} names no playwright package`);
  }
  assert.ok(config.exclude.includes("e2e/web_client_e2e_test.ts"), "left to its own config");
  assert.match(config.tasks.test, /--config e2e\/browser\.json [^&]*e2e\/web_client_e2e_test\.ts/);
  const browser = JSON.parse(read("./e2e/browser.json"));
  assert.ok(String(browser.imports["playwright-core"]).startsWith("npm:playwright-core@"));
  assert.equal(browser.lock, "browser.lock");
  // The same compiler and format rules as everything else.
  assert.deepEqual(browser.compilerOptions, config.compilerOptions);
  assert.deepEqual(browser.fmt, config.fmt);
});
