/**
 * The accept loop: takes connections from a listener until an `AbortSignal`
 * fires, applies the connection limits, and hands each accepted connection
 * to a handler whose promise tracks that connection's life.
 *
 * Refusals (server full, too many from one address) get a one-line `! `
 * notice and are closed without reaching the handler, so they use no user
 * number. Accept errors other than "the listener was closed" (running out of
 * file descriptors, say) are logged and retried with backoff: a transient
 * failure must not end the server.
 *
 * `serve` resolves only after the listener is closed and every handler has
 * settled, so callers (and tests) know nothing is left running.
 *
 * @module
 */

/** Connections served at once by default before new ones are refused. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Connections from one remote address by default; a crowd behind one NAT
 * fits, a script opening sockets in a loop does not. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 100;

/** First pause after a failed accept; doubles up to the maximum. */
const ACCEPT_BACKOFF_MIN_MS = 5;
/** Longest pause between accept retries: long enough to let descriptors
 * free up, short enough that service resumes promptly. */
const ACCEPT_BACKOFF_MAX_MS = 1_000;

const encoder = new TextEncoder();

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** Stops accepting when aborted. */
  signal: AbortSignal;
  /** Runs a connection; its promise settles when the connection is done. */
  handler: (conn: Deno.Conn) => Promise<void>;
  /** Limits shared with other listeners (default: this listener's own). */
  admission?: Admission;
  /** Most connections at once (default 10,000). */
  maxConnections?: number;
  /** Most connections per remote address, loopback exempt (default 100). */
  maxConnectionsPerAddress?: number;
  /** Whether loopback clients skip the per-address limit (default true):
   * a local proxy or test tool is not one person. */
  exemptLoopback?: boolean;
  /** Called for each refused connection, with the reason. */
  onRefuse?: (reason: string) => void;
  /** Where log lines go (default: console.log). */
  log?: (line: string, fields?: Record<string, string | number>) => void;
}

/** Whether `hostname` is a loopback address (exempt from the per-address limit). */
export function isLoopback(hostname: string): boolean {
  return hostname.startsWith("127.") || hostname === "::1" ||
    hostname.startsWith("::ffff:127.");
}

/**
 * Accepts connections from `listener` until `options.signal` aborts, then
 * closes the listener and waits for every handler to settle.
 *
 * @example
 * ```ts
 * import { serve } from "./serve.ts";
 * const controller = new AbortController();
 * const listener = Deno.listen({ port: 0 });
 * const done = serve(listener, {
 *   signal: controller.signal,
 *   handler: async (conn) => conn.close(),
 * });
 * controller.abort();
 * await done;
 * ```
 */
export async function serve(
  listener: Deno.Listener<Deno.Conn>,
  options: ServeOptions,
): Promise<void> {
  const { signal, handler } = options;
  const log = options.log ?? console.log;
  const admission = options.admission ?? new Admission(options);
  const running = new Set<Promise<void>>();

  const closeListener = (): void => {
    try {
      listener.close();
    } catch {
      // Already closed.
    }
  };
  signal.addEventListener("abort", closeListener, { once: true });

  let backoff = ACCEPT_BACKOFF_MIN_MS;
  while (!signal.aborted) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
      backoff = ACCEPT_BACKOFF_MIN_MS;
    } catch (error) {
      if (signal.aborted || error instanceof Deno.errors.BadResource) break;
      log(`Accept failed (${describe(error)}); retrying in ${backoff} ms`, { level: "error" });
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, ACCEPT_BACKOFF_MAX_MS);
      continue;
    }
    const host = (conn.remoteAddr as Deno.NetAddr).hostname;
    const refusal = admission.admit(host);
    if (refusal !== undefined) {
      log(`Refused ${host}: ${refusal}`, {
        level: "warn",
        event: "refuse",
        peer: host,
        reason: refusal,
      });
      options.onRefuse?.(refusal);
      track(running, refuse(conn, `! ${refusal}\n`));
      continue;
    }
    const release = (error?: unknown): void => {
      if (error !== undefined) log(`Connection handler failed: ${describe(error)}`);
      admission.release(host);
      running.delete(run);
    };
    const run: Promise<void> = handler(conn).then(() => release(), release);
    running.add(run);
  }
  signal.removeEventListener("abort", closeListener);
  closeListener();
  await Promise.all([...running]);
}

/**
 * The connection limits, shared by every way in (plain TCP, TLS, WebSocket)
 * so that 10,000 means 10,000 in all.
 *
 * @example
 * ```ts
 * import { Admission } from "./serve.ts";
 * const admission = new Admission({ maxConnections: 1 });
 * admission.admit("10.0.0.1"); // undefined: admitted
 * admission.admit("10.0.0.2"); // "server full"
 * admission.release("10.0.0.1");
 * ```
 */
export class Admission {
  readonly #max: number;
  readonly #maxPerAddress: number;
  readonly #exemptLoopback: boolean;
  readonly #perAddress = new Map<string, number>();
  #open = 0;

  constructor(options: {
    maxConnections?: number;
    maxConnectionsPerAddress?: number;
    exemptLoopback?: boolean;
  } = {}) {
    this.#max = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#maxPerAddress = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    this.#exemptLoopback = options.exemptLoopback ?? true;
  }

  /** Admits a connection from `host`, or returns why not (the refusal line). */
  admit(host: string): string | undefined {
    if (this.#open >= this.#max) return "server full";
    const fromHost = this.#perAddress.get(host) ?? 0;
    if (fromHost >= this.#maxPerAddress && !(this.#exemptLoopback && isLoopback(host))) {
      return "too many connections from your address";
    }
    this.#open++;
    this.#perAddress.set(host, fromHost + 1);
    return undefined;
  }

  /** Gives back the place of a connection from `host` that has ended. */
  release(host: string): void {
    this.#open--;
    const left = (this.#perAddress.get(host) ?? 1) - 1;
    if (left === 0) this.#perAddress.delete(host);
    else this.#perAddress.set(host, left);
  }
}

function track(running: Set<Promise<void>>, promise: Promise<void>): void {
  running.add(promise);
  promise.finally(() => running.delete(promise));
}

async function refuse(conn: Deno.Conn, notice: string): Promise<void> {
  try {
    // A fresh socket's send buffer is empty, so this short write completes.
    await conn.write(encoder.encode(notice));
  } catch {
    // The client is already gone; closing is all that is left.
  }
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
