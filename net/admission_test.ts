import assert from "node:assert/strict";
import { Admission, CONNECT_BURST, isLoopback } from "./admission.ts";
import { FakeClock } from "../testing/fake_clock.ts";

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

Deno.test("Admission limits the connection rate per address after a burst, and refills it", () => {
  const clock = new FakeClock();
  const { admission, refusals } = withRecorder({ connectsPerMinute: 60, now: clock.now });
  for (let i = 0; i < CONNECT_BURST; i++) {
    assert.equal(admission.admit("10.0.0.1"), undefined);
    admission.release("10.0.0.1");
  }
  assert.equal(admission.admit("10.0.0.1"), "connecting too often: wait a minute");
  assert.equal(admission.admit("10.0.0.2"), undefined, "other addresses are unaffected");
  assert.equal(admission.admit("127.0.0.1"), undefined, "loopback is exempt by default");
  clock.advance(1_000); // one token back at 60 a minute
  assert.equal(admission.admit("10.0.0.1"), undefined);
  assert.equal(admission.admit("10.0.0.1"), "connecting too often: wait a minute");
  assert.deepEqual(refusals, Array(2).fill("connecting too often: wait a minute"));
});

Deno.test("Admission applies the connection rate to loopback when the exemption is off", () => {
  const { admission } = withRecorder({
    exemptLoopback: false,
    connectsPerMinute: 60,
    now: () => 0,
  });
  for (let i = 0; i < CONNECT_BURST; i++) {
    admission.release(admission.admit("127.0.0.1") ?? "127.0.0.1");
  }
  assert.equal(admission.admit("127.0.0.1"), "connecting too often: wait a minute");
});
