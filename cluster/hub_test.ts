import assert from "node:assert/strict";
import type { BrokerListener, ClusterEvent } from "../chat/ports.ts";
import { Hub, wireWorkers } from "./hub.ts";
import { PortBroker } from "./port_broker.ts";

/** Two workers' brokers on one hub, as `--workers 2` wires them (the
 * channels are real MessageChannels; only the isolates are missing). */
function twoWorkers(limits: ConstructorParameters<typeof Hub>[0] = {}) {
  const hub = new Hub(limits);
  const [a, b] = wireWorkers(hub, ["w1", "w2"]).map((ports) => new PortBroker(ports)) as [
    PortBroker,
    PortBroker,
  ];
  const heard = { w1: [] as ClusterEvent[], w2: [] as ClusterEvent[] };
  const lost: string[] = [];
  const listener = (into: ClusterEvent[]): BrokerListener => ({
    event: (event) => into.push(event),
    link: () => {},
    serverLost: (server) => lost.push(server),
    nameLost: () => {},
  });
  return {
    hub,
    a,
    b,
    heard,
    lost,
    start: async () => {
      await a.start(listener(heard.w1));
      await b.start(listener(heard.w2));
    },
    close: async () => {
      await a.close();
      await b.close();
      hub.close();
    },
  };
}

/** Resolves once `check` holds, polling each macrotask (messages between
 * ports arrive as macrotasks). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !check(); i++) await new Promise((r) => setTimeout(r, 0));
  assert.ok(check(), "never happened");
}

Deno.test("workers draw user numbers from one sequence", async () => {
  const w = twoWorkers();
  const numbers = [
    await w.a.nextUserNumber(),
    await w.b.nextUserNumber(),
    await w.a.nextUserNumber(),
  ];
  assert.deepEqual(numbers, [1, 2, 3]);
  await w.close();
});

Deno.test("a name goes to one worker; its holder keeps it, and releasing frees it", async () => {
  const w = twoWorkers();
  const [first, second] = await Promise.all([w.a.claimName("bob"), w.b.claimName("bob")]);
  assert.deepEqual([first, second], [true, false]);
  assert.equal(await w.a.claimName("bob"), true, "a change of case of its own name");
  w.a.releaseName("bob");
  assert.equal(await w.b.claimName("bob"), true);
  await w.close();
});

Deno.test("an event published by one worker reaches the other in order, and not itself", async () => {
  const w = twoWorkers();
  await w.start();
  for (let i = 0; i < 5; i++) w.a.publish({ type: "say", server: "w1", id: 1, text: `line ${i}` });
  await until(() => w.heard.w2.length === 5);
  const texts = w.heard.w2.map((e) => (e.type === "say" ? e.text : ""));
  assert.deepEqual(texts, ["line 0", "line 1", "line 2", "line 3", "line 4"]);
  assert.equal(w.heard.w1.length, 0);
  await w.close();
});

Deno.test("limits per address hold across workers", async () => {
  const w = twoWorkers({ maxConnectionsPerAddress: 2, exemptLoopback: false });
  const refusals: string[] = [];
  const gateA = w.a.admission({ onRefuse: (reason) => refusals.push(reason) });
  const gateB = w.b.admission({ onRefuse: (reason) => refusals.push(reason) });
  assert.equal(await gateA.admit("10.0.0.1"), undefined);
  assert.equal(await gateB.admit("10.0.0.1"), undefined);
  assert.equal(await gateA.admit("10.0.0.1"), "too many connections from your address");
  assert.deepEqual(refusals, ["too many connections from your address"]);
  gateB.release("10.0.0.1");
  assert.equal(
    await gateA.admit("10.0.0.1"),
    undefined,
    "the place given back on the other worker",
  );
  await w.close();
});

Deno.test("a worker that dies gives back its names and places, and the others are told", async () => {
  const w = twoWorkers({ maxConnectionsPerAddress: 1, exemptLoopback: false });
  await w.start();
  assert.equal(await w.a.claimName("alice"), true);
  assert.equal(await w.a.admission().admit("10.0.0.1"), undefined);
  w.hub.detach("w1");
  await until(() => w.lost.length === 1);
  assert.deepEqual(w.lost, ["w1"]);
  assert.equal(await w.b.claimName("alice"), true);
  assert.equal(await w.b.admission().admit("10.0.0.1"), undefined);
  await w.close();
});

Deno.test("a closed worker's link says goodbye and answers no more questions", async () => {
  const w = twoWorkers();
  await w.start();
  await w.a.close();
  await until(() => w.heard.w2.some((e) => e.type === "bye"));
  await assert.rejects(w.a.nextUserNumber(), /closed/);
  await w.close();
});

Deno.test("with a store, the hub's numbers go on after a restart, a block of 64 ahead", async () => {
  const kept = new Map<string, number>();
  const store = { load: () => kept.get("n") ?? 0, reserve: (n: number) => void kept.set("n", n) };
  const first = twoWorkers({ numbers: store });
  await first.start();
  assert.deepEqual([await first.a.nextUserNumber(), await first.b.nextUserNumber()], [1, 2]);
  await first.close();
  const again = twoWorkers({ numbers: store });
  await again.start();
  assert.equal(await again.a.nextUserNumber(), 65, "past every number the first run reserved");
  await again.close();
});

Deno.test("a hub whose store fails refuses a number instead of handing one out twice", async () => {
  let writable = true;
  const store = {
    load: () => 0,
    reserve: () => {
      if (!writable) throw new Error("disk full");
    },
  };
  const { a, start, close } = twoWorkers({ numbers: store });
  await start();
  for (let i = 1; i <= 64; i++) assert.equal(await a.nextUserNumber(), i);
  writable = false;
  await assert.rejects(a.nextUserNumber(), /no user number available/);
  await close();
});
