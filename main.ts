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

  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({
      hostname: config.host,
      port: config.port,
      reusePort: config.reusePort,
    } as Deno.TcpListenOptions);
  } catch (error) {
    console.error(`marquee: Cannot listen on ${config.host}:${config.port}: ${listenError(error)}`);
    return 2;
  }
  const address = listener.addr as Deno.NetAddr;
  console.log(`Chat server started on ${formatAddress(address)}`);
  console.log(`Connect with: nc ${connectHost(config.host)} ${address.port}`);

  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) return;
    console.log("[server] shutting down");
    controller.abort();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const broker = config.redis === ""
    ? undefined
    : new RedisBroker({ url: config.redis, log: console.log });
  try {
    await runChat({ listener, signal: controller.signal, limits: config.limits, broker });
  } catch (error) {
    // Startup failures we can explain (Redis unreachable) get one line.
    console.error(`marquee: ${error instanceof Error ? error.message : error}`);
    return 2;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
  console.log("[server] stopped");
  return 0;
}

function connectHost(host: string): string {
  return ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost"].includes(host) ? "localhost" : host;
}

function listenError(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) return "address already in use";
  if (error instanceof Deno.errors.AddrNotAvailable) return "address not available on this machine";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message.split("\n")[0] as string : String(error);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
