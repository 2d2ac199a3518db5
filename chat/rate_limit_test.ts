import assert from "node:assert/strict";
import { TokenBucket } from "./rate_limit.ts";

Deno.test("TokenBucket allows a burst, then drops with one warning per second", () => {
  const bucket = new TokenBucket({ rate: 10, burst: 20 });
  for (let i = 0; i < 20; i++) assert.equal(bucket.take(0), "ok");
  assert.equal(bucket.take(0), "drop_and_warn");
  assert.equal(bucket.take(10), "drop");
});

Deno.test("TokenBucket warns again after a second of dropping", () => {
  const bucket = new TokenBucket({ rate: 0.5, burst: 1 });
  assert.equal(bucket.take(0), "ok");
  assert.equal(bucket.take(0), "drop_and_warn");
  assert.equal(bucket.take(500), "drop");
  assert.equal(bucket.take(1000), "drop_and_warn");
});

Deno.test("TokenBucket refills at its rate", () => {
  const bucket = new TokenBucket({ rate: 10, burst: 1 });
  assert.equal(bucket.take(0), "ok");
  assert.notEqual(bucket.take(50), "ok");
  assert.equal(bucket.take(150), "ok");
});

Deno.test("TokenBucket disconnects a client that stays over the rate", () => {
  const bucket = new TokenBucket({ rate: 10, burst: 20, kickAfterMs: 5_000 });
  let verdict = "ok";
  for (let t = 0; t <= 6_000 && verdict !== "kick"; t += 10) verdict = bucket.take(t);
  assert.equal(verdict, "kick");
});

Deno.test("TokenBucket forgives a client that slowed down", () => {
  const bucket = new TokenBucket({ rate: 10, burst: 5, kickAfterMs: 1_000 });
  for (let i = 0; i < 10; i++) bucket.take(0);
  assert.equal(bucket.take(5_000), "ok");
  for (let i = 0; i < 10; i++) bucket.take(5_000);
  assert.notEqual(bucket.take(5_500), "kick", "the earlier abuse does not count");
});

Deno.test("TokenBucket with rate 0 never limits", () => {
  const bucket = new TokenBucket({ rate: 0, burst: 1 });
  for (let i = 0; i < 1000; i++) assert.equal(bucket.take(0), "ok");
});
