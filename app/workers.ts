/**
 * `--workers N`: N chat servers in one process, one per Deno Worker, each
 * on its own thread, that together are one chat.
 *
 * They are linked servers, as processes linked through Redis are, with
 * cheaper links: each pair of workers has a `MessageChannel` for chat
 * events, and the hub here on the main thread hands out `userN` numbers and
 * names and admits connections against one set of limits (`cluster/hub.ts`).
 * With `--redis`, each worker is in addition a server of the Redis cluster.
 *
 * The main thread binds every port first (so a taken port is the usual
 * one-line error, and port 0 becomes one port for all), lets go of them,
 * and each worker binds the same ports with SO_REUSEPORT: the kernel
 * spreads new connections over the workers listening. It serves the metrics endpoint
 * itself, adding up what each worker reports, and turns SIGINT and SIGTERM
 * into each worker's graceful shutdown.
 *
 * @module
 */

import { unreachable } from "../actors/unreachable.ts";
import type { Config } from "../cli/flags.ts";
import { bindListeners, type Listeners } from "../cli/listen.ts";
import { Hub, wireWorkers, type WorkerPorts } from "../cluster/hub.ts";
import { workerId } from "../cluster/port_broker.ts";
import {
  Admission,
  describeError,
  refusalResponse,
  serve,
  serveHttpConn,
  StartupError,
} from "../net/mod.ts";
import { listenHttp, metricsRoute } from "./http.ts";
import type { Log } from "./log.ts";
import { combineFigures, Metrics } from "./metrics.ts";
import { logEndpoints, logStart, type WorkerReport } from "./run.ts";
import { lockDataDir, openCommunity, openHistory } from "./compose.ts";
import { NumberFile } from "../store/number_file.ts";
import type { FromWorker, ToWorker } from "./worker.ts";
import { Outcome, Reports } from "./worker_parts.ts";

/** How long past the shutdown timeout the main thread waits for a worker
 * to finish its own shutdown before ending it. */
const STOP_MARGIN_MS = 2_000;

/** How long the workers may take to start: well under a second is usual.
 * A worker that never answers fails the start, in one line that says how
 * far it got, rather than leaving the process announced and not listening. */
export const WORKER_START_TIMEOUT_MS = 20_000;

/** Options for {@linkcode runWorkers}. */
export interface RunWorkersOptions {
  /** Default {@linkcode WORKER_START_TIMEOUT_MS}. */
  startTimeoutMs?: number;
  /** Stops the chat as SIGINT or SIGTERM do (tests, which must not signal
   * their own process). */
  signal?: AbortSignal;
  /** The module each worker runs (default `worker.ts`; a test wraps it). */
  workerModule?: URL;
}

/** One running worker, as the main thread sees it. */
interface Running {
  name: string;
  worker: Worker;
  /** Settles when it has stopped (or died). */
  stopped: Promise<void>;
  /** Settles once it accepts users; rejects with its one-line failure. */
  ready: Promise<void>;
  /** How far its start got, for the error if it never becomes ready. */
  step: "loading" | "starting" | "ready";
  /** Set once it is being stopped: a worker that loads only now is not
   * started (it would bind ports that are being let go). */
  stopping: boolean;
  /** Asks for its figures. */
  report(): Promise<WorkerReport | undefined>;
}

/**
 * Runs the chat as `config.workers` workers until SIGINT or SIGTERM, then
 * stops each gracefully. Rejects with a one-line error if one cannot start,
 * with every worker stopped and every port closed.
 */
export async function runWorkers(
  config: Config,
  log: Log,
  files: { redisCa?: string; operators?: Map<string, string> } = {},
  options: RunWorkersOptions = {},
): Promise<void> {
  const own = await bindListeners({ ...config, reusePort: true });
  const web = bindWeb(config, own);
  const shared = sharedPorts(config, own, web);
  // The ports are known and free: let go of them before the workers take
  // them, so that no connection waits on a socket nobody accepts from.
  const addrs = {
    tcp: own.tcp.addr,
    tls: own.tls?.addr,
    irc: own.irc?.addr,
    ircTls: own.ircTls?.addr,
  };
  closeAll(own, web);
  const lock = prepareStores(config, log);
  try {
    await runAll(config, { shared, files, log, options, addrs });
  } finally {
    lock?.close();
  }
}

/** Starts the workers, serves until the signal, stops them. */
async function runAll(
  config: Config,
  run: {
    shared: Config;
    files: { redisCa?: string; operators?: Map<string, string> };
    log: Log;
    options: { workerModule?: URL; startTimeoutMs?: number; signal?: AbortSignal };
    /** Where the chat listens, for the start lines once every worker is up. */
    addrs: Parameters<typeof logStart>[1];
  },
): Promise<void> {
  const { shared, files, log, options } = run;
  // A lone process with a data directory keeps its workers' user numbers
  // there, as a lone server keeps its own (see compose.ts).
  const dataDir = config.accounts ? config.dataDir : config.history?.dataDir;
  const numbers = config.redis === "" && dataDir !== undefined
    ? new NumberFile(`${dataDir}/user-numbers`)
    : undefined;
  let hub: Hub;
  try {
    hub = new Hub({ ...config.limits, numbers });
  } catch (error) {
    throw new StartupError(`Cannot keep the user numbers in ${dataDir}: ${describeError(error)}`);
  }
  // One prefix per process: a worker's siblings are those that share it.
  const prefix = crypto.randomUUID().slice(0, 8);
  const names = Array.from({ length: config.workers }, (_, i) => workerId(prefix, i + 1));
  const module = options.workerModule ?? new URL("./worker.ts", import.meta.url);
  const workers = wireWorkers(hub, names).map((channels) =>
    spawnWorker(module, channels, shared, files, hub, log)
  );
  try {
    await allReady(workers, options.startTimeoutMs ?? WORKER_START_TIMEOUT_MS);
  } catch (error) {
    await stopAll(workers, config.limits.flushMs, log);
    hub.close();
    throw new StartupError(describeError(error));
  }
  logStart(config, run.addrs, log);
  await serveUntilSignal(config, shared, workers, log, options.signal);
  await stopAll(workers, config.limits.flushMs, log);
  hub.close();
  log("[server] stopped", { event: "stop" });
}

/** Resolves once every worker is ready; rejects with the first failure, or
 * with which worker was late and how far it got after `timeoutMs`. */
function allReady(workers: Running[], timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const worker = workers.find((w) => w.step !== "ready") ?? workers[0];
      const where = worker?.step === "loading"
        ? "its code never loaded"
        : "it never said it was ready";
      reject(new Error(`worker ${worker?.name} did not start within ${timeoutMs} ms (${where})`));
    }, timeoutMs);
  });
  return Promise.race([Promise.all(workers.map((w) => w.ready)), late])
    .then(() => {}).finally(() => clearTimeout(timer));
}

/** Binds the web port, shared, before any worker does. */
function bindWeb(config: Config, own: Listeners): Deno.Listener | undefined {
  try {
    return config.web && listenHttp({ ...config.web, reusePort: true });
  } catch (error) {
    closeAll(own, undefined);
    throw error;
  }
}

/** `config` with the ports the main thread got (port 0 becomes a real one,
 * the same for every worker). */
function sharedPorts(config: Config, own: Listeners, web: Deno.Listener | undefined): Config {
  const port = (listener: Deno.Listener) => (listener.addr as Deno.NetAddr).port;
  return {
    ...config,
    reusePort: true,
    port: port(own.tcp),
    tls: config.tls && own.tls && { ...config.tls, port: port(own.tls) },
    irc: {
      ...config.irc,
      port: own.irc && port(own.irc),
      tlsPort: own.ircTls && port(own.ircTls),
    },
    web: config.web && web && { ...config.web, port: port(web) },
  };
}

/** Takes the data directory for this process (its workers share it), and
 * opens the SQLite stores once, here, so that their files are made and
 * migrated before several workers open them at once. */
function prepareStores(config: Config, log: Log): Deno.FsFile | undefined {
  if (config.redis !== "" || (!config.accounts && !config.history)) return undefined;
  const lock = config.accounts
    ? lockDataDir(config.dataDir, "--accounts off")
    : lockDataDir(config.history?.dataDir, "--history off");
  try {
    if (config.accounts) openCommunity(config.dataDir).close();
    // The workers share it: opened here as they will open it.
    if (config.history) openHistory(config.history, log, undefined, true).close();
  } catch (error) {
    lock?.close();
    throw error;
  }
  return lock;
}

function closeAll(own: Listeners, web: Deno.Listener | undefined): void {
  for (const listener of [own.tcp, own.tls, own.irc, own.ircTls, web]) {
    try {
      listener?.close();
    } catch {
      // Already closed.
    }
  }
}

/** Starts one worker and wires its messages. */
function spawnWorker(
  module: URL,
  channels: WorkerPorts,
  config: Config,
  files: { redisCa?: string; operators?: Map<string, string> },
  hub: Hub,
  log: Log,
): Running {
  // Named after its server, so that Deno's own report of an uncaught error
  // says which worker it was.
  const worker = new Worker(module.href, { type: "module", name: channels.server });
  const start: ToWorker = {
    type: "start",
    config,
    files: { redisCa: files.redisCa, operators: [...(files.operators ?? [])] },
    channels,
  };
  const outcome = new Outcome();
  const reports = new Reports(worker);
  const running: Running = {
    name: channels.server,
    worker,
    step: "loading",
    stopping: false,
    ready: outcome.ready,
    stopped: outcome.stopped,
    report: () => reports.ask(),
  };
  const sendStart = () => worker.postMessage(start, [channels.hub, ...channels.peers]);
  worker.onmessage = (event: MessageEvent<FromWorker>) =>
    heard(running, event.data, { sendStart, outcome, reports });
  worker.onerror = (event: ErrorEvent) => {
    // A worker that dies takes its users with it; the others go on, and
    // are told as linked servers are told of a server that fell silent.
    event.preventDefault();
    log(`[server] worker ${channels.server} failed: ${event.message}`, {
      level: "error",
      event: "error",
    });
    hub.detach(channels.server);
    outcome.failed(new Error(event.message));
    outcome.stop();
  };
  running.ready.catch(() => {});
  return running;
}

/** What a worker told the main thread. */
function heard(
  running: Running,
  message: FromWorker,
  to: { sendStart: () => void; outcome: Outcome; reports: Reports },
): void {
  switch (message.type) {
    case "loaded":
      if (running.stopping) return;
      running.step = "starting";
      return to.sendStart();
    case "ready":
      running.step = "ready";
      return to.outcome.isReady();
    case "failed":
      to.outcome.failed(new Error(message.message));
      return to.outcome.stop();
    case "stopped":
      return to.outcome.stop();
    case "report":
      return to.reports.answered(message.id, message.report);
    default:
      return unreachable(message);
  }
}

function tell(worker: Worker, message: ToWorker): void {
  worker.postMessage(message);
}

/** Says where the chat is, serves the metrics endpoint if asked, and waits
 * for SIGINT or SIGTERM (or `signal`). */
async function serveUntilSignal(
  config: Config,
  shared: Config,
  workers: Running[],
  log: Log,
  signal: AbortSignal | undefined,
): Promise<void> {
  log(`[server] ${workers.length} workers`, { event: "start", workers: workers.length });
  const stop = new AbortController();
  const metrics = config.metrics && listenHttp(config.metrics);
  const metricsPort = metrics && (metrics.addr as Deno.NetAddr).port;
  logEndpoints(config, log, metricsPort, shared.web?.port);
  const serving = metrics ? serveMetrics(metrics, config, workers, stop.signal, log) : undefined;
  await signalled(log, signal);
  stop.abort();
  await serving;
}

/** Serves `/metrics`, adding up every worker's counters and figures. */
function serveMetrics(
  listener: Deno.Listener,
  config: Config,
  workers: Running[],
  signal: AbortSignal,
  log: Log,
): Promise<void> {
  const route = async (request: Parameters<ReturnType<typeof metricsRoute>>[0]) => {
    const reports = (await Promise.all(workers.map((w) => w.report())))
      .filter((r): r is WorkerReport => r !== undefined);
    const total = new Metrics();
    for (const report of reports) if (report.metrics) total.add(report.metrics);
    const figures = combineFigures(reports.map((r) => r.figures));
    return metricsRoute(total, () => Promise.resolve(figures))(request);
  };
  return serve(listener, {
    signal,
    admission: new Admission({ ...config.limits, log }),
    log,
    refusal: refusalResponse,
    handler: (conn, ending) => serveHttpConn(conn, { signal, route }, ending),
  });
}

/** Resolves on the first SIGINT or SIGTERM, or once `abort` aborts. */
function signalled(log: Log, abort: AbortSignal | undefined): Promise<void> {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    const onSignal = (): void => {
      for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
      abort?.removeEventListener("abort", onSignal);
      log("[server] shutting down", { event: "shutdown" });
      resolve();
    };
    for (const signal of signals) Deno.addSignalListener(signal, onSignal);
    if (abort?.aborted) onSignal();
    else abort?.addEventListener("abort", onSignal);
  });
}

/** Asks every worker to stop and waits until each has, or until the
 * shutdown timeout (and a margin) has passed: a worker that hangs must not
 * hold the process. Then ends them all. */
async function stopAll(workers: Running[], flushMs: number, log: Log): Promise<void> {
  for (const running of workers) {
    running.stopping = true;
    tell(running.worker, { type: "stop" });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), flushMs + STOP_MARGIN_MS);
  });
  const stopped = Promise.all(workers.map((w) => w.stopped));
  if ((await Promise.race([stopped, deadline])) === "late") {
    log("[server] a worker did not stop in time; ending it", { level: "warn", event: "shutdown" });
  }
  clearTimeout(timer);
  for (const running of workers) running.worker.terminate();
}
