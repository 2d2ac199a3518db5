/**
 * A `--workers` worker for tests: the real one (`app/worker.ts`), which
 * throws an uncaught error, as a bug would, when its number (1 for the
 * first worker) is posted on the broadcast channel `crash_channel.ts` names.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import "../app/worker.ts";
import { CRASH_CHANNEL } from "./crash_channel.ts";

const channel = new BroadcastChannel(CRASH_CHANNEL);
channel.onmessage = (event: MessageEvent<number>) => {
  // Workers are named after their servers, which end in -wN (port_broker.ts).
  if (!self.name.endsWith(`-w${event.data}`)) return;
  channel.close();
  // Thrown from a timer, not from this handler, so that nothing catches it.
  setTimeout(() => {
    throw new Error(`worker ${self.name} crashed on purpose`);
  });
};
