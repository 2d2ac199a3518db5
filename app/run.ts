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
import { RedisBroker } from "../cluster/redis_broker.ts";
import { formatAddress, runChat } from "./app.ts";
import type { Log } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { SqliteHistory } from "../store/sqlite_history.ts";
import { SqliteCommunity } from "../store/sqlite_community.ts";
import { ScryptPasswords } from "../store/passwords.ts";
import { firstLine, StartupError } from "../net/mod.ts";

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
): Promise<void> {
  const redisCa = files.redisCa;
  logStart(config, listeners, log);
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) return;
    log("[server] shutting down", { event: "shutdown" });
    controller.abort();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const metrics = config.metrics ? new Metrics() : undefined;
  const broker = config.redis === "" ? undefined : new RedisBroker({
    url: config.redis,
    ca: redisCa,
    log,
    onDropped: metrics && ((fault) => Metrics.bump(metrics.droppedEvents, fault)),
  });
  // Linked servers share one history in Redis; a lone server keeps its own.
  const onDropped = metrics && ((lines: number) => (metrics.historyDropped += lines));
  const store = config.history === undefined
    ? undefined
    : broker
    ? broker.history({ ...config.history, log, onDropped })
    : openHistory(config, log, onDropped);
  // Linked servers share accounts and rooms in Redis too.
  let community: SqliteCommunity | undefined;
  try {
    community = config.accounts && !broker ? openCommunity(config) : undefined;
  } catch (error) {
    await store?.close();
    throw error;
  }
  const people = {
    store: broker && config.accounts ? broker.community() : community,
    passwords: new ScryptPasswords(),
    operators: files.operators,
  };
  try {
    await runChat({
      listener: listeners.tcp,
      tlsListener: listeners.tls,
      signal: controller.signal,
      limits: config.limits,
      broker,
      log,
      metrics,
      metricsAddress: config.metrics,
      webAddress: config.web,
      allowedOrigins: config.allowedOrigins,
      history: store && { store, onJoin: config.history?.onJoin ?? 0 },
      people,
      onReady: ({ metricsPort, webPort }) => logEndpoints(config, log, metricsPort, webPort),
    });
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    await store?.close();
    await community?.close();
  }
  log("[server] stopped", { event: "stop" });
}

function logStart(config: Config, listeners: Listeners, log: Log): void {
  const address = listeners.tcp.addr;
  log(`Chat server started on ${formatAddress(address)}`, { event: "start" });
  log(`Connect with: nc ${connectHost(config.host)} ${address.port}`, { event: "start" });
  if (listeners.tls) log(`TLS on ${formatAddress(listeners.tls.addr)}`, { event: "start" });
}

function logEndpoints(config: Config, log: Log, metricsPort?: number, webPort?: number): void {
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

/** Opens the history store in the data directory (creating both), or
 * throws a one-line `StartupError`; none with `--history off`. */
function openHistory(
  config: Config,
  log: Log,
  onDropped?: (lines: number) => void,
): SqliteHistory | undefined {
  if (config.history === undefined) return undefined;
  const { dataDir, keep, days } = config.history;
  makeDataDir(dataDir, "--history off");
  try {
    return SqliteHistory.open({
      path: `${dataDir}/history.db`,
      keep,
      days,
      log,
      onDropped,
    });
  } catch (error) {
    throw new StartupError(firstLine(error));
  }
}

/** Creates the data directory, or throws a one-line `StartupError` saying
 * what to do (`instead`: the flag that needs no directory). */
function makeDataDir(dataDir: string, instead: string): void {
  try {
    Deno.mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new StartupError(
        `Cannot use the data directory ${dataDir}: run with --allow-read=${dataDir} --allow-write=${dataDir}, or ${instead}`,
      );
    }
    throw new StartupError(`Cannot create the data directory ${dataDir}: ${firstLine(error)}`);
  }
}

/** Opens the account store in the data directory, or throws a one-line
 * `StartupError`. */
function openCommunity(config: Config): SqliteCommunity {
  makeDataDir(config.dataDir, "--accounts off");
  try {
    return SqliteCommunity.open(`${config.dataDir}/community.db`);
  } catch (error) {
    throw new StartupError(firstLine(error));
  }
}
