import assert from "node:assert/strict";
import { createLog } from "./log.ts";

Deno.test("text logs print the message alone, as docs/protocol.md shows it", () => {
  const lines: string[] = [];
  const log = createLog({ write: (l) => lines.push(l) });
  log("[server] alice left", { event: "leave", user: "alice", reason: "quit" });
  assert.deepEqual(lines, ["[server] alice left"]);
});

Deno.test("json logs carry timestamp, level, message and fields on one line", () => {
  const lines: string[] = [];
  const log = createLog({
    format: "json",
    write: (l) => lines.push(l),
    now: () => new Date("2026-11-26T00:00:00Z"),
  });
  log("[server] user3 disconnected: flooding", { event: "kick", user: "user3", level: "warn" });
  assert.deepEqual(JSON.parse(lines[0]!), {
    ts: "2026-11-26T00:00:00.000Z",
    level: "warn",
    msg: "[server] user3 disconnected: flooding",
    event: "kick",
    user: "user3",
  });
});

Deno.test("lines below the chosen level are dropped", () => {
  const lines: string[] = [];
  const log = createLog({ level: "warn", write: (l) => lines.push(l) });
  log("joined");
  log("kicked", { level: "warn" });
  log("debug detail", { level: "debug" });
  assert.deepEqual(lines, ["kicked"]);
});

Deno.test("createLog writes start and stop lines whatever the level: they say where the server is", () => {
  for (const format of ["text", "json"] as const) {
    const lines: string[] = [];
    const log = createLog({ format, level: "error", write: (l) => lines.push(l) });
    log("Chat server started on 127.0.0.1:4242", { event: "start" });
    log("[server] alice left", { event: "leave" });
    log("[server] stopped", { event: "stop" });
    assert.equal(lines.length, 2, format);
    assert.ok(lines[0]!.includes("127.0.0.1:4242"));
  }
});
