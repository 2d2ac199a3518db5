/**
 * The HTTP side: what the metrics endpoint (`--metrics-port`, Prometheus
 * text at `/metrics`, on loopback unless told otherwise) and the browser
 * client (`--http-port`: the page at `/`, its WebSocket at `/ws`) answer.
 * The connections themselves are accepted and admitted like chat ones
 * (`app.ts`) and read by `net/http_conn.ts`; this module only routes.
 *
 * @module
 */

import {
  acceptKey,
  describeListenError,
  type Ending,
  framedBy,
  framer,
  type HttpAnswer,
  type HttpRequest,
  isValidKey,
  StartupError,
  textResponse,
  WebSocketConn,
} from "../net/mod.ts";
import { WEB_PAGE, WEB_PAGE_CSP } from "./web_page.ts";
import { jsonFrame } from "../chat/render.ts";
import type { LiveFigures, Metrics } from "./metrics.ts";

/** The subprotocol the page asks for: events as JSON instead of lines. */
export const JSON_SUBPROTOCOL = "marquee.json";

/** Connections whose frames carry JSON events (the page asked for them):
 * each write's objects as one array, each frame built once per payload. */
const JsonWebSocketConn = framedBy(framer(jsonFrame));

/** Where to listen. */
export interface HttpAddress {
  hostname: string;
  port: number;
  /** Share the port with the other workers of this process (`--workers`). */
  reusePort?: boolean;
}

/** Binds an HTTP port at once, so a taken port is a one-line startup error
 * rather than a failure halfway through. */
export function listenHttp(address: HttpAddress): Deno.Listener<Deno.Conn> {
  try {
    const { hostname, port, reusePort } = address;
    return Deno.listen({ hostname, port, reusePort } as Deno.TcpListenOptions);
  } catch (error) {
    const where = `${address.hostname}:${address.port}`;
    throw new StartupError(`Cannot listen on ${where}: ${describeListenError(error)}`);
  }
}

/** Answers `GET /metrics` in Prometheus' text format. */
export function metricsRoute(
  metrics: Metrics,
  figures: () => Promise<LiveFigures>,
): (request: HttpRequest) => Promise<HttpAnswer> {
  return async (request) => {
    if (request.path !== "/metrics") {
      return textResponse(404, "Not found: the metrics are at /metrics\n");
    }
    return {
      type: "response",
      status: 200,
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      body: metrics.render(await figures()),
    };
  };
}

/** Options for {@linkcode webRoute}. */
export interface WebRouteOptions {
  /** Runs an upgraded WebSocket (as a chat session); `json` when it asked
   * for events as JSON (the page does; other clients get lines). */
  onSocket: (socket: WebSocketConn, json: boolean, ending: Ending) => void;
  /** Origins allowed besides the page's own (`*`: any). */
  allowedOrigins?: readonly string[];
  /** Names the page is reached by, besides localhost and IP addresses. */
  publicHosts?: readonly string[];
}

/** The page's headers: it runs only its own script and style (by hash: no
 * 'unsafe-inline'), loads nothing else, and cannot be framed. */
const PAGE_HEADERS: Record<string, string> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": WEB_PAGE_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/** Answers the browser client's requests: the page and its WebSocket. */
export function webRoute(
  options: WebRouteOptions,
): (request: HttpRequest) => HttpAnswer | Promise<HttpAnswer> {
  return (request) => {
    if (request.path === "/") {
      return { type: "response", status: 200, headers: PAGE_HEADERS, body: WEB_PAGE };
    }
    if (request.path === "/ws") return upgrade(request, options);
    return textResponse(404, "Not found\n");
  };
}

function upgrade(request: HttpRequest, options: WebRouteOptions): HttpAnswer {
  const headers = request.headers;
  if (headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return textResponse(426, "Expected a WebSocket upgrade\n", { upgrade: "websocket" });
  }
  const key = headers.get("sec-websocket-key");
  const connection = (headers.get("connection") ?? "").toLowerCase().split(",").map((s) =>
    s.trim()
  );
  const host = headers.get("host");
  if (
    request.method !== "GET" || !connection.includes("upgrade") || !isValidKey(key) ||
    host === undefined
  ) {
    return textResponse(400, "Bad WebSocket upgrade request\n");
  }
  if (headers.get("sec-websocket-version") !== "13") {
    // RFC 6455 section 4.2.2: say which version this server speaks.
    return textResponse(426, "WebSocket version 13 only\n", { "sec-websocket-version": "13" });
  }
  if (!hostAllowed(host, options.publicHosts ?? [], options.allowedOrigins ?? [])) {
    return textResponse(
      403,
      "WebSocket connections are accepted for this server's own names only\n",
    );
  }
  if (!originAllowed(headers.get("origin"), host, options.allowedOrigins ?? [])) {
    return textResponse(403, "WebSocket connections are accepted from this server's page only\n");
  }
  const offered = (headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  const json = offered.includes(JSON_SUBPROTOCOL);
  return {
    type: "upgrade",
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-accept": acceptKey(key),
      ...(json ? { "sec-websocket-protocol": JSON_SUBPROTOCOL } : {}),
    },
    run: (conn, leftover, ending) =>
      options.onSocket(
        new (json ? JsonWebSocketConn : WebSocketConn)(conn, leftover),
        json,
        ending,
      ),
  };
}

/**
 * Whether `host` (a request's `Host`) names this server: localhost, an IP
 * address, a name given with `--public-host`, or the host of an origin
 * given with `--ws-origins`. Any other name is a DNS rebinding: a page of
 * evil.example whose name was pointed at this server would otherwise be
 * of the same origin as the server's own page.
 */
export function hostAllowed(
  host: string,
  publicHosts: readonly string[],
  allowedOrigins: readonly string[],
): boolean {
  const name = host.toLowerCase().replace(/:\d+$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(name) || /^\[[0-9a-f:.]+\]$/.test(name)) return true;
  if (publicHosts.some((h) => h.toLowerCase() === name)) return true;
  return allowedOrigins.some((origin) => {
    try {
      return new URL(origin).hostname.toLowerCase() === name;
    } catch {
      return false;
    }
  });
}

/**
 * Whether a WebSocket from `origin` may talk to this server: no `Origin`
 * (not a browser: nc-style tools, scripts), the page's own origin (its
 * host equal to `Host`), or one the operator allowed. A browser always
 * sends `Origin`, so another site's page cannot open a session in a
 * visitor's name.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes("*") || allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" and other opaque origins
  }
}
