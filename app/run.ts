/**
 * Running the server as a process: from a parsed configuration and bound
 * listeners to a graceful stop. Startup lines, signals (SIGINT and SIGTERM
 * start the shutdown path), the Redis link if asked for, metrics, and the
 * closing line.
 *
 * @module
 */

import type { Config } from "../cli/flags.ts";
import type { Listeners } from "../cli/listen.ts";
import { formatAddress, runChat } from "./app.ts";
import type { Log } from "./log.ts";
import { type LiveFigures, Metrics, type MetricsSnapshot } from "./metrics.ts";
import type { WorkerPorts } from "../cluster/hub.ts";
import { ScryptPasswords } from "../store/passwords.ts";
import { WORKER_WRITES_IN_FLIGHT } from "../net/mod.ts";
import { compose } from "./compose.ts";

/**
 * Serves the chat on `listeners` until SIGINT or SIGTERM, then shuts down
 * gracefully. Rejects if the chat cannot start (Redis unreachable, an HTTP
 * port taken), with the listeners closed.
 */
export async function runServer(
  config: Config,
  listeners: Listeners,
  log: Log,
  files: { redisCa?: string; operators?: Map<string, string> } = {},
  worker?: AsWorker,
): Promise<void> {
  const controller = new AbortController();
  const stopSignals = worker ? listenTo(worker.signal, controller) : onSignals(log, controller);
  const metrics = config.metrics ? new Metrics() : undefined;
  // Linked servers share history, accounts and rooms in Redis; a lone
  // server keeps its own files (and the workers of one process share them).
  const parts = compose({
    redis: config.redis === ""
      ? undefined
      : { url: config.redis, ca: files.redisCa, ephemeral: config.redisEphemeral },
    history: config.history,
    accounts: config.accounts ? { dataDir: config.dataDir } : undefined,
  }, { log, metrics, ports: worker?.ports });
  try {
    await runChat({
      listener: listeners.tcp,
      tlsListener: listeners.tls,
      ircListener: listeners.irc,
      ircTlsListener: listeners.ircTls,
      ircName: config.irc.name,
      signal: controller.signal,
      limits: config.limits,
      broker: parts.broker,
      admission: parts.admission,
      log,
      metrics,
      // The main thread serves the metrics of every worker.
      metricsAddress: worker ? undefined : config.metrics,
      webAddress: worker && config.web ? { ...config.web, reusePort: true } : config.web,
      allowedOrigins: config.allowedOrigins,
      publicHosts: config.publicHosts,
      history: parts.history && { store: parts.history, onJoin: config.history?.onJoin ?? 0 },
      people: {
        store: parts.community,
        passwords: new ScryptPasswords(),
        operators: files.operators,
      },
      // Each worker lends more write slots than one isolate alone (see
      // net/write_slots.ts).
      writesInFlight: worker ? WORKER_WRITES_IN_FLIGHT : undefined,
      onReady: ({ metricsPort, webPort, figures }) => {
        if (!worker) {
          // Once everything is up (stores, Redis, every port): a start that
          // fails never reads as started.
          logStart(config, {
            tcp: listeners.tcp.addr,
            tls: listeners.tls?.addr,
            irc: listeners.irc?.addr,
            ircTls: listeners.ircTls?.addr,
          }, log);
          return logEndpoints(config, log, metricsPort, webPort);
        }
        worker.onReady(async () => ({ metrics: metrics?.snapshot(), figures: await figures() }));
      },
    });
  } finally {
    stopSignals();
    await parts.close();
  }
  if (!worker) log("[server] stopped", { event: "stop" });
}

/** How a worker of `--workers` runs its chat (see `workers.ts`). */
export interface AsWorker {
  /** Its channels to the hub and to the other workers. */
  ports: WorkerPorts;
  /** Aborted by the main thread: stop gracefully. */
  signal: AbortSignal;
  /** Called once it accepts users, with how to read its figures. */
  onReady: (report: () => Promise<WorkerReport>) => void;
}

/** What a worker tells the main thread's metrics endpoint. */
export interface WorkerReport {
  metrics: MetricsSnapshot | undefined;
  figures: LiveFigures;
}

/** SIGINT and SIGTERM start the shutdown path; returns how to stop
 * listening for them. */
function onSignals(log: Log, controller: AbortController): () => void {
  const onSignal = (): void => {
    if (controller.signal.aborted) return;
    log("[server] shutting down", { event: "shutdown" });
    controller.abort();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  return () => {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  };
}

/** Aborts `controller` when `signal` does. */
function listenTo(signal: AbortSignal, controller: AbortController): () => void {
  const abort = () => controller.abort();
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  return () => signal.removeEventListener("abort", abort);
}

/** The lines that say where the chat is served. */
export function logStart(
  config: Config,
  addresses: { tcp: Deno.NetAddr; tls?: Deno.NetAddr; irc?: Deno.NetAddr; ircTls?: Deno.NetAddr },
  log: Log,
): void {
  log(`Chat server started on ${formatAddress(addresses.tcp)}`, { event: "start" });
  log(`Connect with: nc ${connectHost(config.host)} ${addresses.tcp.port}`, { event: "start" });
  if (addresses.tls) log(`TLS on ${formatAddress(addresses.tls)}`, { event: "start" });
  if (addresses.irc) log(`IRC on ${formatAddress(addresses.irc)}`, { event: "start" });
  if (addresses.ircTls) {
    log(`IRC over TLS on ${formatAddress(addresses.ircTls)}`, { event: "start" });
  }
}

/** The lines that say where the HTTP endpoints are. */
export function logEndpoints(
  config: Config,
  log: Log,
  metricsPort?: number,
  webPort?: number,
): void {
  if (metricsPort !== undefined && config.metrics) {
    log(`Metrics at http://${hostFor(config.metrics.hostname)}:${metricsPort}/metrics`, {
      event: "start",
    });
  }
  if (webPort !== undefined && config.web) {
    log(`Web client at http://${hostFor(config.web.hostname)}:${webPort}/`, { event: "start" });
  }
}

function hostFor(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

function connectHost(host: string): string {
  return ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost"].includes(host) ? "localhost" : host;
}
