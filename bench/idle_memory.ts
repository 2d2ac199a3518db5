/**
 * `deno task bench:idle`: what one more idle connection costs the server's
 * JavaScript heap, for plain TCP and for the browser's WebSocket, measured
 * in one run the same way.
 *
 * The chat runs in this process (so its heap can be read after a full
 * garbage collection); the idle clients are held by a child process. For
 * each transport a fresh chat takes a first group of clients, the heap is
 * read, the rest join, and the heap is read again: the difference divided
 * by the clients added is the cost of one connection, with everything that
 * does not grow with connections (compiled code, tables sized once) left
 * out. RSS per connection, which also counts the runtime's own socket
 * state, is the bench's scenario C.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { runChat } from "../app/app.ts";
import { RawWebSocket } from "../testing/raw_websocket.ts";

type Transport = "tcp" | "ws";

/** One transport's figures. */
export interface IdleCost {
  transport: Transport;
  clients: number;
  /** Heap used per connection added, in bytes. */
  heapPerConnection: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Measures `clients` idle connections of each transport. */
async function measure(
  transport: Transport,
  clients: number,
  snapshot?: string,
): Promise<IdleCost> {
  const controller = new AbortController();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let ready: (webPort: number) => void = () => {};
  const webPort = new Promise<number>((resolve) => (ready = resolve));
  const done = runChat({
    listener,
    signal: controller.signal,
    log: () => {},
    limits: { maxConnections: clients + 10 },
    webAddress: { hostname: "127.0.0.1", port: 0 },
    onReady: (info) => ready(info.webPort ?? 0),
  });
  const port = transport === "ws" ? await webPort : listener.addr.port;
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      import.meta.filename ?? "",
      "--hold",
      transport,
      `${port}`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = holder.stdin.getWriter();
  const replies = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const hold = async (n: number): Promise<number> => {
    await writer.write(new TextEncoder().encode(`${n}\n`));
    const { value } = await replies.read();
    if (value === undefined || !value.startsWith("held")) throw new Error("the holder failed");
    // Let the joins' fan-out drain before the heap is read.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const heap = heapAfterGc();
    if (snapshot !== undefined) writeHeapSnapshot(`${snapshot}-${transport}-${n}.heapsnapshot`);
    return heap;
  };
  const first = Math.floor(clients / 5);
  const before = await hold(first);
  const after = await hold(clients - first);
  await writer.close();
  await holder.status;
  await replies.cancel();
  controller.abort();
  await done;
  return {
    transport,
    clients,
    heapPerConnection: Math.round((after - before) / (clients - first)),
  };
}

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return Deno.memoryUsage().heapUsed;
}

/** The child: opens idle clients as told on stdin, reads what they are
 * sent, and exits when stdin ends. */
async function holdClients(transport: Transport, port: number): Promise<void> {
  const held: { close(): void }[] = [];
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const chunk of lines) {
    for (const text of chunk.split("\n").filter((t) => t !== "")) {
      for (let i = 0; i < Number(text); i++) held.push(await openClient(transport, port));
      await Deno.stdout.write(new TextEncoder().encode("held\n"));
    }
  }
  for (const client of held) client.close();
}

async function openClient(transport: Transport, port: number): Promise<{ close(): void }> {
  if (transport === "ws") {
    const socket = await RawWebSocket.open(port);
    (async () => {
      while (await socket.next()) { /* read and drop */ }
    })().catch(() => {});
    return socket;
  }
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  (async () => {
    const buffer = new Uint8Array(4096);
    while ((await conn.read(buffer)) !== null) { /* read and drop */ }
  })().catch(() => {});
  return conn;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      clients: { type: "string", default: "5000" },
      hold: { type: "string" },
      snapshot: { type: "string" },
    },
    allowPositionals: true,
  });
  if (values.hold !== undefined) {
    await holdClients(values.hold as Transport, Number(Deno.args.at(-1)));
  } else {
    if (gc === undefined) console.error("bench:idle: run with --v8-flags=--expose-gc");
    const clients = Number(values.clients);
    const snapshot = values.snapshot;
    const costs = [await measure("tcp", clients, snapshot), await measure("ws", clients, snapshot)];
    for (const cost of costs) {
      console.log(
        `${cost.transport}: ${cost.heapPerConnection} B of heap per idle connection (${cost.clients} clients)`,
      );
    }
    const [tcp, ws] = costs as [IdleCost, IdleCost];
    console.log(`WebSocket / TCP: ${(ws.heapPerConnection / tcp.heapPerConnection).toFixed(3)}`);
  }
}
