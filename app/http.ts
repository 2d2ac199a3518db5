/**
 * The HTTP side: the metrics endpoint (`--metrics-port`, Prometheus text at
 * `/metrics`, on loopback unless told otherwise) and the browser client
 * (`--http-port`: the page at `/`, its WebSocket at `/ws`). Both stop when
 * the chat's signal aborts.
 *
 * @module
 */

import { describeListenError, StartupError } from "../net/mod.ts";
import { WEB_PAGE, WEB_PAGE_CSP } from "./web_page.ts";
import type { LiveFigures, Metrics } from "./metrics.ts";

/** A running HTTP server. */
export interface HttpEndpoint {
  /** The port it listens on (the real one when 0 was asked for). */
  port: number;
  /** Resolves once it has shut down. */
  finished: Promise<void>;
}

/** Where to listen. */
export interface HttpAddress {
  hostname: string;
  port: number;
}

function listen(
  address: HttpAddress,
  signal: AbortSignal,
  handler: (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>,
): HttpEndpoint {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    // Binds at once (a taken port throws here), so a bad address is a
    // one-line startup error rather than a failure halfway through.
    server = Deno.serve(
      { hostname: address.hostname, port: address.port, signal, onListen: () => {} },
      handler,
    );
  } catch (error) {
    const where = `${address.hostname}:${address.port}`;
    throw new StartupError(`Cannot listen on ${where}: ${describeListenError(error)}`);
  }
  return { port: server.addr.port, finished: server.finished };
}

/** Serves `GET /metrics` in Prometheus' text format. */
export function serveMetrics(options: {
  address: HttpAddress;
  signal: AbortSignal;
  metrics: Metrics;
  figures: () => Promise<LiveFigures>;
}): HttpEndpoint {
  return listen(options.address, options.signal, async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method !== "GET" || path !== "/metrics") {
      return new Response("Not found: the metrics are at /metrics\n", { status: 404 });
    }
    const body = options.metrics.render(await options.figures());
    return new Response(body, {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  });
}

/** Serves the browser client; `onSocket` gets each upgraded WebSocket. */
export function serveWeb(options: {
  address: HttpAddress;
  signal: AbortSignal;
  onSocket: (socket: WebSocket, peer: Deno.NetAddr) => void;
}): HttpEndpoint {
  return listen(options.address, options.signal, (request, info) => {
    const path = new URL(request.url).pathname;
    if (path === "/ws") {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("Expected a WebSocket upgrade\n", { status: 426 });
      }
      // Read the peer first: Deno refuses access to it once upgraded.
      const peer = info.remoteAddr;
      const { socket, response } = Deno.upgradeWebSocket(request);
      options.onSocket(socket, peer);
      return response;
    }
    if (path === "/" && request.method === "GET") {
      return new Response(WEB_PAGE, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          // The page runs only its own script and style (by hash: no
          // 'unsafe-inline'), loads nothing else, and cannot be framed.
          "content-security-policy": WEB_PAGE_CSP,
          "x-content-type-options": "nosniff",
          "x-frame-options": "DENY",
          "referrer-policy": "no-referrer",
        },
      });
    }
    return new Response("Not found\n", { status: 404 });
  });
}
