/**
 * The session actor in memory, on a fake clock: its idle and flood timers
 * fire when the test advances time, with no socket and no real wait.
 */

import assert from "node:assert/strict";
import { Address, Mailbox, spawn } from "../actors/mod.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryConn } from "../testing/memory_conn.ts";
import { pollUntil, within } from "../testing/within.ts";
import type { ChatServerMessage } from "./server.ts";
import { ClientSession, type SessionLimits } from "./session.ts";

const LIMITS: SessionLimits = {
  maxLineBytes: 100,
  floodRate: 2,
  floodBurst: 4,
  floodKickMs: 10_000,
  maxQueuedBytes: 64 * 1024,
  idleTimeoutMs: 60_000,
  flushMs: 10,
};

/** A session on `clock`, talking to a server that is a mailbox the test reads. */
function startSession(clock: FakeClock, limits: Partial<SessionLimits> = {}) {
  const conn = new MemoryConn();
  const server = new Mailbox<ChatServerMessage>({ capacity: 64 });
  const session = spawn(
    new ClientSession({
      conn,
      id: 1,
      name: "user1",
      server: new Address(server),
      limits: { ...LIMITS, ...limits },
      log: () => {},
      address: "127.0.0.1",
      secure: false,
    }),
    { clock },
  );
  /** The next message the server gets, of `type`. */
  const next = async (type: ChatServerMessage["type"]): Promise<ChatServerMessage> => {
    for await (const message of server) if (message.type === type) return message;
    throw new Error(`the server never got ${type}`);
  };
  return { conn, server, session, next };
}

Deno.test("a client silent for the idle timeout is told and disconnected, and not a moment before", async () => {
  const clock = new FakeClock(1_000_000);
  const { conn, next, session } = startSession(clock);
  await within(next("join"), 5_000, "the session registers");
  clock.advance(59_000);
  await Promise.resolve();
  assert.equal(conn.written, "", "not idle yet");
  clock.advance(15_000);
  const leave = await within(next("leave"), 5_000, "the session leaves");
  assert.equal(leave.type === "leave" && leave.cause, "kicked: idle too long");
  await within(session.done, 5_000, "the session stops");
  assert.equal(conn.written, "! disconnected: idle too long\n");
});

Deno.test("a line resets the idle clock", async () => {
  const clock = new FakeClock(1_000_000);
  const { conn, next, session } = startSession(clock);
  await within(next("join"), 5_000, "the session registers");
  clock.advance(50_000);
  conn.send("still here\n");
  await within(next("say"), 5_000, "the line reaches the server");
  clock.advance(50_000);
  assert.equal(conn.written, "", "50 s after the line is not idle");
  clock.advance(30_000);
  await within(next("leave"), 5_000, "then it is");
  await within(session.done, 5_000, "the session stops");
});

Deno.test("a flood is slowed first, then disconnected once it has lasted the kick time", async () => {
  const clock = new FakeClock(1_000_000);
  const { conn, next, session } = startSession(clock);
  await within(next("join"), 5_000, "the session registers");
  conn.send("a\nb\nc\nd\ne\nf\n");
  for (let i = 0; i < 4; i++) await within(next("say"), 5_000, "the burst goes through");
  await pollUntil("the flooder is told to slow down", () => conn.written.includes("! slow down\n"));
  for (let second = 0; second < 11 && !conn.closed; second++) {
    clock.advance(1_000);
    conn.send("x\ny\nz\nw\nv\n");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const leave = await within(next("leave"), 5_000, "the flooder is disconnected");
  assert.equal(leave.type === "leave" && leave.cause, "kicked: flooding");
  await within(session.done, 5_000, "the session stops");
  assert.match(conn.written, /! disconnected: flooding\n$/);
});
