import assert from "node:assert/strict";
import { redactUrl } from "./redis_broker.ts";

Deno.test("redactUrl hides a password and leaves everything else as it was", () => {
  assert.equal(redactUrl("redis://app:hunter2@10.0.0.5:6379/0"), "redis://app:***@10.0.0.5:6379/0");
  assert.equal(redactUrl("redis://:hunter2@127.0.0.1:6379"), "redis://:***@127.0.0.1:6379");
  assert.equal(redactUrl("rediss://cache.example:6380"), "rediss://cache.example:6380");
  assert.equal(redactUrl("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
});
