import assert from "node:assert/strict";
import { Admission, isLoopback } from "./admission.ts";

function withRecorder(options: ConstructorParameters<typeof Admission>[0] = {}) {
  const logs: string[] = [];
  const refusals: string[] = [];
  const admission = new Admission({
    ...options,
    log: (line, fields) => logs.push(`${line} ${JSON.stringify(fields)}`),
    onRefuse: (reason) => refusals.push(reason),
  });
  return { admission, logs, refusals };
}

Deno.test("Admission refuses past the total, logs and counts it, and admits again after a release", () => {
  const { admission, logs, refusals } = withRecorder({ maxConnections: 2 });
  assert.equal(admission.admit("10.0.0.1"), undefined);
  assert.equal(admission.admit("10.0.0.2"), undefined);
  assert.equal(admission.admit("10.0.0.3"), "server full");
  assert.deepEqual(refusals, ["server full"]);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /^Refused 10\.0\.0\.3: server full .*"event":"refuse"/);
  admission.release("10.0.0.1");
  assert.equal(admission.admit("10.0.0.3"), undefined);
  assert.equal(admission.open, 2);
});

Deno.test("Admission limits connections per address, loopback exempt unless told otherwise", () => {
  const exempt = withRecorder({ maxConnectionsPerAddress: 1 });
  assert.equal(exempt.admission.admit("10.0.0.1"), undefined);
  assert.equal(exempt.admission.admit("10.0.0.1"), "too many connections from your address");
  assert.equal(exempt.admission.admit("10.0.0.2"), undefined, "other addresses are unaffected");
  for (let i = 0; i < 3; i++) assert.equal(exempt.admission.admit("127.0.0.1"), undefined);
  const strict = withRecorder({ maxConnectionsPerAddress: 1, exemptLoopback: false });
  assert.equal(strict.admission.admit("127.0.0.1"), undefined);
  assert.equal(strict.admission.admit("127.0.0.1"), "too many connections from your address");
});

Deno.test("Admission's refused() is the one path for refusals decided later", () => {
  const { admission, logs, refusals } = withRecorder();
  admission.refused("10.0.0.9:5000", "no user number available");
  assert.deepEqual(refusals, ["no user number available"]);
  assert.match(logs[0]!, /^Refused 10\.0\.0\.9:5000: no user number available/);
});

Deno.test("isLoopback knows IPv4, IPv6 and mapped loopback addresses", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopback(host), host);
  }
  for (const host of ["10.0.0.1", "::2", "128.0.0.1", "::ffff:10.0.0.1"]) {
    assert.ok(!isLoopback(host), host);
  }
});
