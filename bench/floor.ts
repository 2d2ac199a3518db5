/**
 * The runtime floor: the least a Deno server must do to serve the
 * benchmark's scenarios, measured beside Marquee so that a ratio to the C
 * server can be split into what Deno's socket API costs and what our chat
 * costs.
 *
 * It speaks only what the load generator needs (a join line for everyone
 * when a client connects, each line to every other client as
 * `[userN]: text`, a leave line when one goes), on the same pieces Marquee's
 * TCP path uses: `Deno.listen`, the {@linkcode LineSplitter} and the
 * {@linkcode Outbox} with its write slots. It has none of the chat: no
 * actors, sessions, names, commands, rooms, limits, accounts or logs. Not a
 * server to run: `deno task bench --compare --floor` runs it. A floor for
 * the scenarios A, B and D only: it announces each join to everyone in a
 * line of its own and reads into 16 KiB, so in C it is slower and bigger
 * than Marquee, whose joins go out in batches and whose read buffers start
 * small.
 *
 * Usage: `deno run --allow-net=127.0.0.1 bench/floor.ts PORT`
 *
 * @module
 */

import { type LineEvent, LineSplitter } from "../net/line_splitter.ts";
import { Outbox } from "../net/outbox.ts";
import { Writes } from "../net/writes.ts";

const encoder = new TextEncoder();

/** One connected client. */
interface Client {
  readonly id: number;
  readonly outbox: Outbox;
}

/** The whole chat: everyone, and the next number to give. */
export class Floor {
  readonly #clients = new Set<Client>();
  /** One for every outbox, as a chat has. */
  readonly #writes = new Writes();
  #nextId = 1;

  /** Serves one connection until it closes. */
  async serve(conn: Deno.TcpConn): Promise<void> {
    conn.setNoDelay(true);
    const client: Client = {
      id: this.#nextId++,
      outbox: new Outbox(conn, { writes: this.#writes }),
    };
    this.#clients.add(client);
    this.#broadcast(encoder.encode(`* user${client.id} joined the chat\n`));
    try {
      await this.#readLines(conn, client);
    } catch {
      // Reset by the peer: it is gone either way.
    }
    this.#clients.delete(client);
    client.outbox.close();
    this.#broadcast(encoder.encode(`* user${client.id} left the chat\n`));
  }

  async #readLines(conn: Deno.TcpConn, client: Client): Promise<void> {
    const splitter = new LineSplitter();
    const buffer = new Uint8Array(16 * 1024);
    const events: LineEvent[] = [];
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return;
      splitter.push(buffer.subarray(0, n), events);
      for (const event of events) {
        if (event.type === "line" && event.text !== "") {
          this.#broadcast(encoder.encode(`[user${client.id}]: ${event.text}\n`), client);
        }
      }
      events.length = 0;
    }
  }

  #broadcast(bytes: Uint8Array, except?: Client): void {
    for (const client of this.#clients) if (client !== except) client.outbox.push(bytes);
  }
}

if (import.meta.main) {
  const port = Number(Deno.args[0]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error("usage: floor.ts PORT");
    Deno.exit(2);
  }
  const floor = new Floor();
  for await (const conn of Deno.listen({ hostname: "127.0.0.1", port })) floor.serve(conn);
}
