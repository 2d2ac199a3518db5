/**
 * The accept loop: takes connections from a listener until an `AbortSignal`
 * fires, applies the connection limits, and hands each accepted connection
 * to a handler, which says when that connection is over.
 *
 * Every connection goes through `Admission` (shared with the other
 * listeners); refusals (server full, too many from one address) get a
 * one-line `! ` notice and are closed without reaching the handler, so
 * they use no user number. Accept errors other than "the listener was closed" (running out of
 * file descriptors, say) are logged and retried with backoff: a transient
 * failure must not end the server.
 *
 * `serve` resolves only after the listener is closed and every handler has
 * settled, so callers (and tests) know nothing is left running.
 *
 * @module
 */

import { Admission, type Gate } from "./admission.ts";
import { describeError } from "./describe_error.ts";

/** First pause after a failed accept; doubles up to the maximum. */
const ACCEPT_BACKOFF_MIN_MS = 5;
/** Longest pause between accept retries: long enough to let descriptors
 * free up, short enough that service resumes promptly. */
const ACCEPT_BACKOFF_MAX_MS = 1_000;

const encoder = new TextEncoder();

/** How a handler says that its connection is over: once (an error, if
 * given, is logged). An object rather than a promise: every idle
 * connection holds it for its whole life. */
export interface Ending {
  end(error?: unknown): void;
}

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** Stops accepting when aborted. */
  signal: AbortSignal;
  /** Runs a connection, and calls `ending.end()` once it is over. */
  handler: (conn: Deno.Conn, ending: Ending) => void;
  /** The limits and refusal path, shared with other listeners (default:
   * this listener's own, with the default limits). */
  admission?: Gate;
  /** Where log lines go (default: console.log). */
  log?: (line: string, fields?: Record<string, string | number>) => void;
  /** What a refused connection gets before it is closed (default: the
   * reason as a `! ` line; HTTP sends a 503; TLS nothing, since a notice
   * would wait for a handshake that may never come). */
  refusal?: (reason: string) => Uint8Array | undefined;
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
 *   handler: (conn, ending) => {
 *     conn.close();
 *     ending.end();
 *   },
 * });
 * controller.abort();
 * await done;
 * ```
 */
export async function serve(
  listener: Deno.Listener<Deno.Conn>,
  options: ServeOptions,
): Promise<void> {
  const { signal } = options;
  const log = options.log ?? console.log;
  const admission = options.admission ?? new Admission({ log });
  const context: AcceptContext = {
    admission,
    options,
    log,
    pending: new Set(),
    open: new Set(),
    drained: undefined,
  };

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
      log(`Accept failed (${describeError(error)}); retrying in ${backoff} ms`, {
        level: "error",
        event: "accept_error",
      });
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, ACCEPT_BACKOFF_MAX_MS);
      continue;
    }
    admit(conn, context, signal);
  }
  signal.removeEventListener("abort", closeListener);
  closeListener();
  // Admissions still being asked for and refusals first: they may open
  // connections. Then every open connection.
  await Promise.all([...context.pending]);
  if (context.open.size > 0) await new Promise<void>((resolve) => (context.drained = resolve));
}

/** Admits `conn` (or refuses it) and starts it; an admission the hub
 * answers later keeps the connection waiting until it has. */
function admit(conn: Deno.Conn, context: AcceptContext, signal: AbortSignal): void {
  const { admission } = context;
  const host = (conn.remoteAddr as Deno.NetAddr).hostname;
  const answer = admission.admit(host);
  if (typeof answer !== "object") {
    start(conn, host, answer, context);
    return;
  }
  const asked = answer.catch(() => "server busy").then((refusal) => {
    if (refusal !== undefined || !signal.aborted) return start(conn, host, refusal, context);
    // Admitted, but the chat began to stop meanwhile: give the place back.
    admission.release(host);
    return start(conn, host, "server shutting down", context);
  });
  track(context.pending, asked);
}

/** What `start` needs from its accept loop. */
interface AcceptContext {
  admission: Gate;
  options: ServeOptions;
  log: NonNullable<ServeOptions["log"]>;
  /** Refusals being sent, and connections waiting for admission. */
  pending: Set<Promise<void>>;
  /** Connections handed to the handler and not yet over. */
  open: Set<Slot>;
  /** Called when the last open connection ends, once the loop waits. */
  drained: (() => void) | undefined;
}

/** Runs an admitted connection, or refuses it with its notice. */
function start(
  conn: Deno.Conn,
  host: string,
  refusal: string | undefined,
  context: AcceptContext,
): Promise<void> | undefined {
  if (refusal !== undefined) {
    const { options } = context;
    const notice = options.refusal ? options.refusal(refusal) : encoder.encode(`! ${refusal}\n`);
    return track(context.pending, refuse(conn, notice));
  }
  const slot = new Slot(host, context);
  context.open.add(slot);
  try {
    context.options.handler(conn, slot);
  } catch (error) {
    slot.end(error);
  }
}

/** One connection handed to the handler: its `end` gives its place back. */
class Slot implements Ending {
  readonly #host: string;
  readonly #context: AcceptContext;
  #ended = false;

  constructor(host: string, context: AcceptContext) {
    this.#host = host;
    this.#context = context;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const context = this.#context;
    if (error !== undefined) {
      context.log(`Connection handler failed: ${describeError(error)}`, {
        level: "error",
        event: "error",
      });
    }
    context.admission.release(this.#host);
    context.open.delete(this);
    if (context.open.size === 0) context.drained?.();
  }
}

function track(running: Set<Promise<void>>, promise: Promise<void>): Promise<void> {
  running.add(promise);
  promise.finally(() => running.delete(promise));
  return promise;
}

async function refuse(conn: Deno.Conn, notice: Uint8Array | undefined): Promise<void> {
  try {
    // A fresh socket's send buffer is empty, so this short write completes.
    if (notice !== undefined) await conn.write(notice);
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
