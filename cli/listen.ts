/**
 * Binding the chat's listeners (plain TCP, and TLS if asked for) before
 * anything else starts, with errors a user can act on: a taken port, an
 * address this machine does not have, a key file the process may not read.
 * Each becomes a `StartupError`: one line on stderr and exit code 2. (The
 * HTTP endpoints bind inside `runChat`, with the same kind of error.)
 *
 * @module
 */

import type { Config } from "./flags.ts";
import { describeListenError, firstLine, StartupError } from "../net/mod.ts";

/** The listeners the chat is served on. */
export interface Listeners {
  tcp: Deno.TcpListener;
  tls?: Deno.TlsListener;
}

/**
 * Binds every chat listener `config` asks for, or throws a `StartupError`
 * with nothing left open.
 *
 * @example
 * ```ts
 * import { bindListeners } from "./listen.ts";
 * import { parseConfig } from "./flags.ts";
 * const { tcp } = await bindListeners(parseConfig(["--port", "0"], () => undefined));
 * tcp.close();
 * ```
 */
export async function bindListeners(config: Config): Promise<Listeners> {
  const tcp = listen(() =>
    Deno.listen({
      hostname: config.host,
      port: config.port,
      reusePort: config.reusePort,
    } as Deno.TcpListenOptions), `Cannot listen on ${config.host}:${config.port}`);
  if (config.tls === undefined) return { tcp };
  try {
    const { cert, key, port } = config.tls;
    const pem = await readPem(cert, key);
    const tls = listen(
      () => Deno.listenTls({ hostname: config.host, port, ...pem }),
      `Cannot serve TLS on ${config.host}:${port}`,
    );
    return { tcp, tls };
  } catch (error) {
    tcp.close();
    throw error;
  }
}

function listen<L>(open: () => L, failure: string): L {
  try {
    return open();
  } catch (error) {
    throw new StartupError(`${failure}: ${describeListenError(error)}`);
  }
}

/**
 * Reads the `--redis-ca` file, if one is given, or throws a `StartupError`
 * naming it (and the permission it needs).
 */
export async function readRedisCa(config: Config): Promise<string | undefined> {
  if (config.redisCa === "") return undefined;
  try {
    return await Deno.readTextFile(config.redisCa);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new StartupError(
        `Cannot read ${config.redisCa}: run with --allow-read=${config.redisCa}`,
      );
    }
    throw new StartupError(`Cannot read ${config.redisCa}: ${firstLine(error)}`);
  }
}

async function readPem(cert: string, key: string): Promise<{ cert: string; key: string }> {
  try {
    return { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) };
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new StartupError(
        `Cannot read ${cert} and ${key}: run with --allow-read=${cert},${key}`,
      );
    }
    throw new StartupError(`Cannot read the TLS files: ${firstLine(error)}`);
  }
}
