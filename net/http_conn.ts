/**
 * A small HTTP/1.1 server for one connection: enough for the two routes the
 * chat serves (the page and its WebSocket, or `/metrics`), with the limits
 * `Deno.serve` does not offer. We own this layer so that every HTTP
 * connection is accepted by `serve` (admitted, counted and capped like a
 * chat connection, with the same accept-error backoff), and so that a slow
 * or silent client cannot hold a descriptor for long:
 *
 * - the request's headers must arrive within {@linkcode HEADER_TIMEOUT_MS}
 *   of its first byte, and be at most {@linkcode MAX_HEADER_BYTES};
 * - a kept-alive connection waits {@linkcode IDLE_TIMEOUT_MS} for the next
 *   request, and a new one as long for its first;
 * - a response must be written within {@linkcode WRITE_TIMEOUT_MS}.
 *
 * Only `GET` and `HEAD` without a body are served. Anything this parser
 * does not fully understand (a body, `Transfer-Encoding`, folded headers,
 * a malformed line) gets a 400 and the connection is closed, so no request
 * can be read two ways (no smuggling).
 *
 * @module
 */

import type { Ending } from "./serve.ts";

/** Time for a request's headers to arrive once it has begun: a browser
 * sends them in one packet; ten seconds forgives any real network. */
export const HEADER_TIMEOUT_MS = 10_000;
/** Time a connection may sit between requests (and before its first): long
 * enough for a page to ask for its WebSocket on the same connection, short
 * enough that idle connections do not pile up. */
export const IDLE_TIMEOUT_MS = 5_000;
/** Time to write one response to a client that does not read. */
export const WRITE_TIMEOUT_MS = 10_000;
/** Largest request head (request line and headers). */
export const MAX_HEADER_BYTES = 16 * 1024;

/** Bytes per read of a request head: a browser's upgrade request fits;
 * small, because every connection allocates it. */
const READ_CHUNK_BYTES = 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A parsed request head. */
export interface HttpRequest {
  method: string;
  path: string;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Map<string, string>;
}

/** A plain response. */
export interface HttpResponse {
  type: "response";
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** What a route answers: a response, or a protocol switch. */
export type HttpAnswer =
  | HttpResponse
  | {
    type: "upgrade";
    /** Headers of the `101 Switching Protocols` response. */
    headers: Record<string, string>;
    /** Runs the connection from here on; `leftover` holds bytes the client
     * sent after the request head. It ends `ending` once it is over. */
    run: (conn: Deno.Conn, leftover: Uint8Array, ending: Ending) => void;
  };

/** Options for {@linkcode serveHttpConn}. */
export interface HttpConnOptions {
  /** Answers one request. */
  route: (request: HttpRequest) => HttpAnswer | Promise<HttpAnswer>;
  /** Aborting it closes the connection unless it was upgraded (shutdown
   * does not wait for idle keep-alive connections). */
  signal?: AbortSignal;
  /** Overrides of the timeouts (tests use short ones). */
  headerTimeoutMs?: number;
  idleTimeoutMs?: number;
}

/** A plain-text response. */
export function textResponse(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    type: "response",
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
    body: text,
  };
}

/** The bytes of a response that is sent before anything is read: the
 * refusal of a connection over the limits. */
export function refusalResponse(reason: string): Uint8Array {
  return encoder.encode(
    head(503, { "content-type": "text/plain; charset=utf-8" }, reason.length + 1, true) + reason +
      "\n",
  );
}

/**
 * Serves requests on `conn` until the client closes, a timeout or an error
 * ends it, or a route upgrades it. Never throws; closes `conn` unless an
 * upgrade took it over.
 */
export function serveHttpConn(conn: Deno.Conn, options: HttpConnOptions, ending: Ending): void {
  // Not awaited by anyone: the connection says it is over through
  // `ending`, and an upgraded one hands `ending` on, so that no promise of
  // this exchange stays with an idle WebSocket.
  void exchange(conn, options, ending);
}

/** The requests and answers, until the connection closes or is upgraded;
 * ends `ending` once the connection is over. */
async function exchange(
  conn: Deno.Conn,
  options: HttpConnOptions,
  ending: Ending,
): Promise<void> {
  const reader = new HeadReader(conn, options);
  const onAbort = (): void => {
    if (!reader.upgraded) closeQuietly(conn);
  };
  if (options.signal?.aborted) {
    closeQuietly(conn);
    return ending.end();
  }
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const request = await reader.next();
      if (request === "closed") return;
      if (typeof request === "number") {
        await writeResponse(
          conn,
          request,
          textResponse(request, STATUS_TEXT[request] ?? "Bad request"),
          "GET",
          true,
        );
        return;
      }
      const answer = await options.route(request);
      if (answer.type === "upgrade") {
        await writeWithin(conn, encoder.encode(head(101, answer.headers, undefined, false)));
        // Not awaited here: the upgraded connection lives on without this
        // frame, the reader or the request holding memory for its lifetime.
        const leftover = reader.takeLeftover();
        try {
          return answer.run(conn, leftover, ending);
        } catch {
          // The run never started: nobody else will end this connection.
          closeQuietly(conn);
          return ending.end();
        }
      }
      const close = request.headers.get("connection")?.toLowerCase() === "close";
      await writeResponse(conn, answer.status, answer, request.method, close);
      if (close) return;
    }
  } catch {
    // A reset, a timeout closing the socket, a write that never finished:
    // this connection is over, nobody else is affected.
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    if (!reader.upgraded) {
      closeQuietly(conn);
      ending.end();
    }
  }
}

const STATUS_TEXT: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

function head(
  status: number,
  headers: Record<string, string>,
  length: number | undefined,
  close: boolean,
): string {
  let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  if (length !== undefined) text += `content-length: ${length}\r\n`;
  if (close) text += "connection: close\r\n";
  return text + "\r\n";
}

async function writeResponse(
  conn: Deno.Conn,
  status: number,
  answer: HttpResponse,
  method: string,
  close: boolean,
): Promise<void> {
  const body = typeof answer.body === "string"
    ? encoder.encode(answer.body)
    : answer.body ?? new Uint8Array();
  const top = encoder.encode(head(status, answer.headers ?? {}, body.length, close));
  const bytes = method === "HEAD" ? top : concat(top, body);
  await writeWithin(conn, bytes);
}

/** Writes all of `bytes`, or closes the connection if the client does not
 * take them within {@linkcode WRITE_TIMEOUT_MS}. */
async function writeWithin(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), WRITE_TIMEOUT_MS);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
  } finally {
    clearTimeout(timer);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Reads request heads off one connection, with the limits above. */
class HeadReader {
  readonly #conn: Deno.Conn;
  readonly #headerMs: number;
  readonly #idleMs: number;
  #buffered: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  upgraded = false;

  constructor(conn: Deno.Conn, options: HttpConnOptions) {
    this.#conn = conn;
    this.#headerMs = options.headerTimeoutMs ?? HEADER_TIMEOUT_MS;
    this.#idleMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  }

  /** The bytes read past the last head, for the protocol that follows. */
  takeLeftover(): Uint8Array {
    this.upgraded = true;
    const rest = this.#buffered;
    this.#buffered = new Uint8Array(0);
    return rest;
  }

  /** The next request, an error status to answer with, or "closed". */
  async next(): Promise<HttpRequest | number | "closed"> {
    let end = headEnd(this.#buffered);
    let timer = setTimeout(
      () => closeQuietly(this.#conn),
      this.#buffered.length ? this.#headerMs : this.#idleMs,
    );
    try {
      while (end < 0) {
        if (this.#buffered.length >= MAX_HEADER_BYTES) return 431;
        const chunk = new Uint8Array(READ_CHUNK_BYTES);
        let n: number | null;
        try {
          n = await this.#conn.read(chunk);
        } catch {
          return "closed";
        }
        if (n === null) return "closed";
        if (this.#buffered.length === 0) {
          clearTimeout(timer);
          timer = setTimeout(() => closeQuietly(this.#conn), this.#headerMs);
        }
        this.#buffered = concat(this.#buffered, chunk.subarray(0, n));
        end = headEnd(this.#buffered);
      }
    } finally {
      clearTimeout(timer);
    }
    if (end > MAX_HEADER_BYTES) return 431;
    const text = decoder.decode(this.#buffered.subarray(0, end));
    this.#buffered = this.#buffered.slice(end + 4);
    return parseHead(text);
  }
}

/** Where the blank line ending the head starts, or -1. */
function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Parses a request head; any doubt is a 400 or 405. */
export function parseHead(text: string): HttpRequest | number {
  const lines = text.split("\r\n");
  const match = /^([A-Z]+) (\/[^ ]*) HTTP\/1\.[01]$/.exec(lines[0] ?? "");
  if (!match) return 400;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) return 400; // includes folded lines
    headers.set(name.toLowerCase(), line.slice(colon + 1).trim());
  }
  const length = headers.get("content-length");
  if (headers.has("transfer-encoding") || (length !== undefined && length !== "0")) return 400;
  const method = match[1] as string;
  if (method !== "GET" && method !== "HEAD") return 405;
  const path = (match[2] as string).split("?")[0] as string;
  if (lines[0]?.endsWith("1.0")) headers.set("connection", "close");
  return { method, path, headers };
}
