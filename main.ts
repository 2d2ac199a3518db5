/**
 * Entry point: flags, listener, signals, logging. Nothing else lives here.
 *
 * Exit codes: 0 after a graceful shutdown, 2 for a bad flag or an address
 * that cannot be listened on (one line on stderr, never a stack trace).
 *
 * @module
 */

import { formatAddress, runChat } from "./chat/app.ts";
import { RedisBroker } from "./chat/broker.ts";
import { createLog } from "./chat/log.ts";
import { Metrics } from "./chat/metrics.ts";
import { ConfigError, parseConfig, usage } from "./config.ts";

/** Runs the server with `args`; resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  let config;
  try {
    config = parseConfig(args, (name) => Deno.env.get(name));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`marquee: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (config.help) {
    console.log(usage());
    return 0;
  }

  const log = createLog({ format: config.logFormat, level: config.logLevel });
  const fail = (message: string): number => {
    console.error(`marquee: ${message}`);
    return 2;
  };

  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({
      hostname: config.host,
      port: config.port,
      reusePort: config.reusePort,
    } as Deno.TcpListenOptions);
  } catch (error) {
    return fail(`Cannot listen on ${config.host}:${config.port}: ${listenError(error)}`);
  }
  const listeners: Deno.Listener<Deno.Conn>[] = [listener];
  const closeAll = (): void => listeners.forEach((l) => l.close());

  let tlsListener: Deno.TlsListener | undefined;
  if (config.tls) {
    const { cert, key, port } = config.tls;
    let pem: { cert: string; key: string };
    try {
      pem = { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) };
    } catch (error) {
      closeAll();
      if (error instanceof Deno.errors.NotCapable) {
        return fail(`Cannot read ${cert} and ${key}: run with --allow-read=${cert},${key}`);
      }
      return fail(`Cannot read the TLS files: ${firstLine(error)}`);
    }
    try {
      tlsListener = Deno.listenTls({ hostname: config.host, port, ...pem });
      listeners.push(tlsListener);
    } catch (error) {
      closeAll();
      return fail(`Cannot serve TLS on ${config.host}:${port}: ${listenError(error)}`);
    }
  }
  // HTTP endpoints start inside runChat; check their ports are free first so
  // a taken one is a one-line error here, not a failure halfway through.
  for (const address of [config.metrics, config.web]) {
    if (address === undefined || address.port === 0) continue;
    try {
      Deno.listen(address).close();
    } catch (error) {
      closeAll();
      return fail(`Cannot listen on ${address.hostname}:${address.port}: ${listenError(error)}`);
    }
  }

  const address = listener.addr as Deno.NetAddr;
  log(`Chat server started on ${formatAddress(address)}`, { event: "start" });
  log(`Connect with: nc ${connectHost(config.host)} ${address.port}`);
  if (tlsListener) {
    log(`TLS on ${formatAddress(tlsListener.addr as Deno.NetAddr)}`, { event: "start" });
  }

  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) return;
    log("[server] shutting down", { event: "shutdown" });
    controller.abort();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const broker = config.redis === "" ? undefined : new RedisBroker({ url: config.redis, log });
  try {
    await runChat({
      listener,
      tlsListener,
      signal: controller.signal,
      limits: config.limits,
      broker,
      log,
      metrics: config.metrics ? new Metrics() : undefined,
      metricsAddress: config.metrics,
      webAddress: config.web,
      onReady: ({ metricsPort, webPort }) => {
        if (metricsPort !== undefined) {
          log(`Metrics at http://${hostFor(config.metrics!.hostname)}:${metricsPort}/metrics`);
        }
        if (webPort !== undefined) {
          log(`Web client at http://${hostFor(config.web!.hostname)}:${webPort}/`);
        }
      },
    });
  } catch (error) {
    // Startup failures we can explain (Redis unreachable) get one line.
    return fail(firstLine(error));
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
  log("[server] stopped", { event: "stop" });
  return 0;
}

function hostFor(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] as string : String(error);
}

function connectHost(host: string): string {
  return ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost"].includes(host) ? "localhost" : host;
}

function listenError(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) return "address already in use";
  if (error instanceof Deno.errors.AddrNotAvailable) return "address not available on this machine";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return firstLine(error);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
