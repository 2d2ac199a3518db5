/**
 * Shows the runtime behaviour behind `net/write_slots.ts`: issues N writes
 * to N idle loopback sockets at once and prints how many have completed
 * after each turn of the event loop, turns counted with immediates (as the
 * Outbox starts its writes) and then with zero-delay timers.
 *
 * With Deno 2.9.6, 1,000 writes: 128 complete in the first turn and 256 by
 * the second (tokio's budget of 128 operations per poll), then, counted with
 * immediates, nothing more for hundreds of turns; counted with timers, 128
 * more each turn. A server whose turns keep an immediate pending, as a busy
 * one's do, leaves writes past the budget waiting.
 *
 *     deno run --allow-net=127.0.0.1 --allow-run bench/write_budget.ts [N]
 *
 * The sockets' far ends are read by a child Deno process, so that no read
 * in this one shares the budget.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** The child: connects `n` clients, prints a line, reads until each ends. */
const SINK = `
const [port, n] = Deno.args.map(Number);
const conns = [];
for (let i = 0; i < n; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
console.log("connected");
await Promise.all(conns.map(async (c) => { for await (const _ of c.readable) {} }));
`;

type Turn = () => Promise<void>;
const immediate: Turn = () => new Promise((resolve) => setImmediate(resolve));
const timer: Turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Completions seen after each turn until all `conns` writes are done. */
async function countTurns(conns: Deno.Conn[], turn: Turn, maxTurns = 2_000): Promise<number[]> {
  const bytes = new Uint8Array(64);
  let done = 0;
  for (const conn of conns) conn.write(bytes).then(() => done++);
  const seen: number[] = [];
  while (done < conns.length && seen.length < maxTurns) {
    await turn();
    seen.push(done);
  }
  // Whatever is still pending completes before the next count starts.
  while (done < conns.length) await timer();
  return seen;
}

function describe(seen: number[]): string {
  const shown = seen.slice(0, 12).join(" ");
  return `${shown}${seen.length > 12 ? " ..." : ""} (${seen.length} turns)`;
}

async function main(n: number): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", SINK, String(port), String(n)],
    stdout: "piped",
  }).spawn();
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) conns.push(await listener.accept());
  const reader = child.stdout.getReader();
  await reader.read(); // "connected"
  reader.releaseLock();
  console.log(`${n} writes issued at once; completed after each turn:`);
  console.log(`  counted with immediates: ${describe(await countTurns(conns, immediate))}`);
  console.log(`  counted with timers:     ${describe(await countTurns(conns, timer))}`);
  for (const conn of conns) conn.close();
  listener.close();
  await child.status;
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 1_000);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    console.error("write_budget: N is a number of sockets from 1 to 10,000");
    Deno.exit(2);
  }
  await main(n);
}
