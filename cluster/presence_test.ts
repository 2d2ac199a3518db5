import assert from "node:assert/strict";
import { HEARTBEAT_MS, Presence, PRESENCE_TIMEOUT_MS } from "./presence.ts";
import { FakeClock } from "../testing/fake_clock.ts";

Deno.test("Presence takes a server for dead after three missed heartbeats, once", () => {
  const clock = new FakeClock();
  const presence = new Presence();
  presence.heard("a", clock.now());
  presence.heard("b", clock.now());
  clock.advance(2 * HEARTBEAT_MS);
  presence.heard("b", clock.now());
  clock.advance(PRESENCE_TIMEOUT_MS - 2 * HEARTBEAT_MS - 1);
  assert.deepEqual(presence.expire(clock.now()), []);
  clock.advance(1);
  assert.deepEqual(presence.expire(clock.now()), ["a"]);
  assert.deepEqual(presence.expire(clock.now()), [], "a lost server is reported once");
  clock.advance(2 * HEARTBEAT_MS);
  assert.deepEqual(presence.expire(clock.now()), ["b"]);
});

Deno.test("Presence forgets a server that said goodbye", () => {
  const clock = new FakeClock();
  const presence = new Presence();
  presence.heard("a", clock.now());
  presence.forget("a");
  clock.advance(PRESENCE_TIMEOUT_MS * 2);
  assert.deepEqual(presence.expire(clock.now()), []);
});

Deno.test("Presence restarts every clock when our own link comes back", () => {
  const clock = new FakeClock();
  const presence = new Presence();
  presence.heard("a", clock.now());
  clock.advance(PRESENCE_TIMEOUT_MS * 5); // our link was down all along
  presence.restartClocks(clock.now());
  assert.deepEqual(presence.expire(clock.now()), []);
  clock.advance(PRESENCE_TIMEOUT_MS);
  assert.deepEqual(presence.expire(clock.now()), ["a"]);
});
