import assert from "node:assert/strict";
import { Histogram } from "./histogram.ts";

Deno.test("Histogram percentiles are within 1% of the exact values", () => {
  const h = new Histogram();
  for (let v = 1; v <= 100_000; v++) h.record(v);
  for (const p of [50, 90, 99, 99.9]) {
    const exact = (p / 100) * 100_000;
    assert.ok(Math.abs(h.percentile(p) - exact) / exact < 0.011, `p${p}`);
  }
  assert.equal(h.count, 100_000);
  assert.equal(h.max, 100_000);
});

Deno.test("Histogram of nothing reports zero", () => {
  assert.equal(new Histogram().percentile(99), 0);
});
