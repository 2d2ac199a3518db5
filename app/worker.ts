/**
 * One worker of `--workers`: a Deno Worker that runs a whole chat server
 * (`runServer`) on the ports the main thread opened, shared with the other
 * workers (SO_REUSEPORT), linked to them through the hub (`workers.ts`).
 *
 * It speaks to the main thread in a few messages: `loaded` goes out once
 * it can hear; `start` (its config and channels) and `stop` come in;
 * `ready`, `failed` (one line), `stopped` and `report` (for the metrics
 * endpoint) go out.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { Config } from "../cli/flags.ts";
import { bindListeners } from "../cli/listen.ts";
import type { WorkerPorts } from "../cluster/hub.ts";
import { unreachable } from "../actors/unreachable.ts";
import { firstLine } from "../net/mod.ts";
import { createLog } from "./log.ts";
import { runServer, type WorkerReport } from "./run.ts";

/** What the main thread tells a worker. */
export type ToWorker =
  | {
    type: "start";
    config: Config;
    files: { redisCa?: string; operators: [string, string][] };
    channels: WorkerPorts;
  }
  | { type: "stop" }
  | { type: "report"; id: number };

/** What a worker tells the main thread. */
export type FromWorker =
  | { type: "loaded" }
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "stopped" }
  | { type: "report"; id: number; report: WorkerReport | undefined };

const stop = new AbortController();
let report: (() => Promise<WorkerReport>) | undefined;

function tell(message: FromWorker): void {
  self.postMessage(message);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "start":
      return void start(message);
    case "stop":
      return stop.abort();
    case "report":
      return void (report?.() ?? Promise.resolve(undefined)).then(
        (figures) => tell({ type: "report", id: message.id, report: figures }),
        () => tell({ type: "report", id: message.id, report: undefined }),
      );
    default:
      return unreachable(message);
  }
};

// Messages sent before the handler above was set would be lost (the module
// loads asynchronously): the main thread sends `start` only after this.
tell({ type: "loaded" });

async function start(message: Extract<ToWorker, { type: "start" }>): Promise<void> {
  const { config, files, channels } = message;
  const log = createLog({ format: config.logFormat, level: config.logLevel });
  let ready = false;
  try {
    const listeners = await bindListeners(config);
    await runServer(config, listeners, log, {
      redisCa: files.redisCa,
      operators: new Map(files.operators),
    }, {
      ports: channels,
      signal: stop.signal,
      onReady: (read) => {
        report = read;
        ready = true;
        tell({ type: "ready" });
      },
    });
    tell({ type: "stopped" });
  } catch (error) {
    tell(ready ? { type: "stopped" } : { type: "failed", message: firstLine(error) });
  }
}
