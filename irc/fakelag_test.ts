import assert from "node:assert/strict";
import { FakeLag } from "./fakelag.ts";

Deno.test("fakelag lets a burst through, then spaces lines at the rate instead of dropping them", () => {
  const lag = new FakeLag({ rate: 2, burst: 3 });
  assert.deepEqual([0, 0, 0].map((t) => lag.delay(t)), [0, 0, 0], "the burst");
  assert.equal(lag.delay(0), 500, "the fourth waits one line's cost");
  assert.equal(lag.delay(0), 1000);
  assert.equal(lag.delay(10_000), 0, "after a pause the client is on time again");
});

Deno.test("fakelag with rate 0 never delays", () => {
  const lag = new FakeLag({ rate: 0, burst: 1 });
  for (let i = 0; i < 100; i++) assert.equal(lag.delay(0), 0);
});
