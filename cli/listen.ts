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
import { NAME_PATTERN } from "../chat/protocol.ts";
import { isPasswordHash } from "../store/passwords.ts";

/** The listeners the chat is served on. */
export interface Listeners {
  tcp: Deno.TcpListener;
  tls?: Deno.TlsListener;
  /** IRC clients, plain and over TLS. */
  irc?: Deno.TcpListener;
  ircTls?: Deno.TlsListener;
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
  const bound: Listeners = { tcp: listenTcp(config, config.port, "listen") };
  try {
    if (config.irc.port !== undefined) {
      bound.irc = listenTcp(config, config.irc.port, "serve IRC");
    }
    if (config.tls === undefined) return bound;
    const pem = await readPem(config.tls.cert, config.tls.key);
    bound.tls = listenTls(config, config.tls.port, pem, "serve TLS");
    if (config.irc.tlsPort !== undefined) {
      bound.ircTls = listenTls(config, config.irc.tlsPort, pem, "serve IRC over TLS");
    }
    return bound;
  } catch (error) {
    for (const listener of [bound.tcp, bound.irc, bound.tls]) listener?.close();
    throw error;
  }
}

function listenTcp(config: Config, port: number, what: string): Deno.TcpListener {
  const { host: hostname, reusePort } = config;
  return listen(
    () => Deno.listen({ hostname, port, reusePort } as Deno.TcpListenOptions),
    `Cannot ${what} on ${hostname}:${port}`,
  );
}

function listenTls(
  config: Config,
  port: number,
  pem: { cert: string; key: string },
  what: string,
): Deno.TlsListener {
  const { host: hostname, reusePort } = config;
  return listen(
    () =>
      Deno.listenTls(
        { hostname, port, reusePort, ...pem } as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem,
      ),
    `Cannot ${what} on ${hostname}:${port}`,
  );
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

/**
 * Reads the `--operators` file: one `NAME HASH` per line (`#` starts a
 * comment), hashes as `deno task passwd` prints them. Throws a one-line
 * `StartupError` for a file that cannot be read or a line that is wrong.
 */
export async function readOperators(config: Config): Promise<Map<string, string>> {
  const operators = new Map<string, string>();
  if (config.operators === "") return operators;
  let text: string;
  try {
    text = await Deno.readTextFile(config.operators);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new StartupError(
        `Cannot read ${config.operators}: run with --allow-read=${config.operators} (the chat task reads /etc/marquee)`,
      );
    }
    throw new StartupError(`Cannot read ${config.operators}: ${firstLine(error)}`);
  }
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [name, hash, extra] = line.split(/\s+/);
    if (
      name === undefined || hash === undefined || extra !== undefined ||
      !NAME_PATTERN.test(name) || !isPasswordHash(hash)
    ) {
      throw new StartupError(
        `Invalid line ${
          index + 1
        } in ${config.operators}: expected NAME HASH (a hash from deno task passwd)`,
      );
    }
    operators.set(name.toLowerCase(), hash);
  }
  return operators;
}
