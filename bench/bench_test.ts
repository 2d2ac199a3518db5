import assert from "node:assert/strict";
import { stormLines } from "./bench.ts";

Deno.test("stormLines counts each client's join, welcome, roster and later joins", () => {
  // Three clients: each gets its join and welcome (2), the users before it
  // (0, 1, 2) and the joins after it (2, 1, 0): 4 lines each.
  assert.equal(stormLines(3), 12);
  // Past 50 users the roster stops at 50 and adds "and K more".
  const n = 52;
  let expected = 0;
  for (let before = 0; before < n; before++) {
    const roster = before <= 50 ? before : 51;
    expected += 2 + roster + (n - 1 - before);
  }
  assert.equal(stormLines(n), expected);
  assert.equal(stormLines(52) - stormLines(51), 2 + 51 + 51, "the 52nd sees 50 + 'and 1 more'");
});
