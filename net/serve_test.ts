import assert from "node:assert/strict";
import { Admission } from "./admission.ts";
import { type Ending, serve } from "./serve.ts";
import { within } from "../testing/within.ts";

/** Starts `serve` on a loopback port with `handler`; returns what a test needs. */
function serving(handler: (conn: Deno.Conn, ending: Ending) => void) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const controller = new AbortController();
  const admission = new Admission({ log: () => {} });
  const logged: string[] = [];
  const done = serve(listener, {
    signal: controller.signal,
    admission,
    handler,
    log: (line) => void logged.push(line),
  });
  const port = (listener.addr as Deno.NetAddr).port;
  return { done, controller, admission, logged, port };
}

Deno.test("serve resolves only once every connection it handed out has ended", async () => {
  let handed!: (value: { conn: Deno.Conn; ending: Ending }) => void;
  const handedOut = new Promise<{ conn: Deno.Conn; ending: Ending }>((r) => (handed = r));
  const server = serving((conn, ending) => handed({ conn, ending }));
  const client = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const { conn, ending } = await within(handedOut, 2_000, "the connection was never handed out");
  server.controller.abort();
  let resolved = false;
  server.done.then(() => (resolved = true));
  // The accept loop has stopped; serve must still wait for the connection.
  await new Promise((r) => setTimeout(r, 0));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(resolved, false, "serve resolved while a connection was still open");
  assert.equal(server.admission.open, 1);
  conn.close();
  client.close();
  ending.end();
  await within(server.done, 2_000, "serve never resolved after the last connection ended");
  assert.equal(server.admission.open, 0);
});

/** Connects once, waits for the handler to have run, does `meanwhile`,
 * then stops `server` and waits for it. */
async function connectThenStopAfter(
  server: ReturnType<typeof serving>,
  handled: Promise<void>,
  meanwhile: () => void,
) {
  const client = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await within(handled, 2_000, "the handler never ran");
  meanwhile();
  client.close();
  server.controller.abort();
  await within(server.done, 2_000, "serve never resolved");
}

function connectThenStop(server: ReturnType<typeof serving>, handled: Promise<void>) {
  return connectThenStopAfter(server, handled, () => {});
}

Deno.test("serve counts a connection's end once, even when its handler ends it twice and then throws", async () => {
  const endings: Ending[] = [];
  let second!: () => void;
  const bothHandled = new Promise<void>((r) => (second = r));
  const server = serving((conn, ending) => {
    endings.push(ending);
    if (endings.length === 1) {
      conn.close();
      ending.end();
      ending.end();
      throw new Error("handler broke after ending");
    }
    second();
  });
  const first = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  // The second connection is still open: one place taken, whatever the first did.
  await connectThenStopAfter(server, bothHandled, () => {
    assert.equal(server.admission.open, 1);
    endings[1]?.end();
  });
  first.close();
  assert.equal(server.admission.open, 0);
  assert.deepEqual(server.logged, []);
});

Deno.test("serve logs a handler that throws before ending, and frees its place", async () => {
  let failed!: () => void;
  const handled = new Promise<void>((r) => (failed = r));
  const server = serving((conn) => {
    conn.close();
    failed();
    throw new Error("handler broke");
  });
  await connectThenStop(server, handled);
  assert.equal(server.admission.open, 0);
  assert.ok(server.logged.some((line) => line.includes("handler broke")), server.logged.join("\n"));
});
