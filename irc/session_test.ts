/**
 * The IRC session actor in memory, on a fake clock: registration's time
 * limit and fakelag fire when the test advances time, with no socket and
 * no real wait.
 */

import assert from "node:assert/strict";
import { Address, Mailbox, spawn } from "../actors/mod.ts";
import type { ChatServerMessage } from "../chat/server.ts";
import type { SessionLimits } from "../chat/session.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryConn } from "../testing/memory_conn.ts";
import { pollUntil, within } from "../testing/within.ts";
import { IrcSession, REGISTRATION_TIMEOUT_MS } from "./session.ts";

const LIMITS: SessionLimits = {
  maxLineBytes: 4096,
  floodRate: 2,
  floodBurst: 2,
  maxQueuedBytes: 64 * 1024,
  idleTimeoutMs: 0,
  flushMs: 10,
};

function startSession(clock: FakeClock) {
  const conn = new MemoryConn();
  const server = new Mailbox<ChatServerMessage>({ capacity: 64 });
  const session = spawn(
    new IrcSession({
      conn,
      id: 1,
      server: new Address(server),
      limits: LIMITS,
      log: () => {},
      address: "127.0.0.1",
      secure: false,
    }),
    { clock },
  );
  return { conn, session };
}

Deno.test("a client that never registers is told why and closed when its time is up", async () => {
  const clock = new FakeClock(1_000_000);
  const { conn, session } = startSession(clock);
  conn.send("CAP LS 302\r\n");
  await pollUntil("CAP LS is answered", () => conn.written.includes(" CAP * LS "));
  clock.advance(REGISTRATION_TIMEOUT_MS - 1_000);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(!conn.written.includes("ERROR"), "not yet");
  clock.advance(2_000);
  await within(session.done, 5_000, "the session stops");
  assert.match(conn.written, /ERROR :registration timed out\r\n$/);
});

Deno.test("fakelag: lines past the burst wait for the clock, in order, and none is dropped", async () => {
  const clock = new FakeClock(1_000_000);
  const { conn, session } = startSession(clock);
  conn.send("PING a\r\nPING b\r\nPING c\r\nPING d\r\n");
  const pongs = () => [...conn.written.matchAll(/PONG marquee :(\w)/g)].map((m) => m[1]);
  await pollUntil("the burst is answered", () => pongs().length === 2);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(pongs(), ["a", "b"], "the third waits");
  clock.advance(500);
  await pollUntil("one line's cost later, the third", () => pongs().length === 3);
  clock.advance(500);
  await pollUntil("and then the fourth", () => pongs().length === 4);
  assert.deepEqual(pongs(), ["a", "b", "c", "d"]);
  session.stop();
  await within(session.done, 5_000, "the session stops");
});
