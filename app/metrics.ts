/**
 * Counters for the metrics endpoint, in Prometheus' text format.
 *
 * Everything here is a plain number bumped on paths that already run (a
 * fan-out adds its recipient count once, not once per recipient), so the
 * counters cost nothing measurable. Gauges that describe live state (users,
 * rooms, the deepest send queue) are asked of the ChatServer at scrape time.
 *
 * @module
 */

import type { ChatMetrics } from "../chat/ports.ts";
import type { LiveFigures } from "../chat/server.ts";

export type { LiveFigures } from "../chat/server.ts";

/**
 * The server's counters.
 *
 * @example
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * const metrics = new Metrics();
 * metrics.linesIn++;
 * metrics.render({ users: 0, remoteUsers: 0, rooms: 1, queueHighWaterBytes: 0 });
 * ```
 */
/** {@linkcode Metrics}' counters as plain data (labelled ones as pairs). */
export interface MetricsSnapshot {
  connectionsAccepted: number;
  connectionsOpen: number;
  refused: [string, number][];
  linesIn: number;
  linesOut: number;
  bytesOut: number;
  kicks: [string, number][];
  droppedEvents: [string, number][];
  historyDropped: number;
  queueHighWaterBytes: number;
  eventLoopLagMs: number;
  eventLoopLagMaxMs: number;
}

/**
 * The live figures of one process from its workers' (`--workers`): each
 * worker counts the others' users as remote, so remote users are the
 * first worker's, less the users of the workers beside it.
 */
export function combineFigures(workers: LiveFigures[]): LiveFigures {
  const users = workers.reduce((sum, w) => sum + w.users, 0);
  const first = workers[0] ?? { users: 0, remoteUsers: 0, rooms: 0, queueHighWaterBytes: 0 };
  return {
    users,
    remoteUsers: first.remoteUsers - (users - first.users),
    // Every worker knows every room.
    rooms: first.rooms,
    queueHighWaterBytes: Math.max(0, ...workers.map((w) => w.queueHighWaterBytes)),
  };
}

export class Metrics implements ChatMetrics {
  connectionsAccepted = 0;
  connectionsOpen = 0;
  /** Connections refused, by reason. */
  readonly refused = new Map<string, number>();
  /** Lines received from clients (after hygiene, before flood control). */
  linesIn = 0;
  /** Lines queued to clients, counted per recipient. */
  linesOut = 0;
  /** Bytes queued to clients, counted per recipient. */
  bytesOut = 0;
  /** Clients disconnected by the server, by reason. */
  readonly kicks = new Map<string, number>();
  /** Events from other servers dropped as malformed, by fault. */
  readonly droppedEvents = new Map<string, number>();
  /** Room lines the history store dropped (failing or behind). */
  historyDropped = 0;
  /** Deepest send queue of any client that has left, in bytes. */
  queueHighWaterBytes = 0;
  /** How late the last event-loop probe fired, and the worst so far. */
  eventLoopLagMs = 0;
  eventLoopLagMaxMs = 0;

  /** Adds one to `map[key]`. */
  /** The counters as plain data: what a worker sends the main thread. */
  snapshot(): MetricsSnapshot {
    return {
      connectionsAccepted: this.connectionsAccepted,
      connectionsOpen: this.connectionsOpen,
      refused: [...this.refused],
      linesIn: this.linesIn,
      linesOut: this.linesOut,
      bytesOut: this.bytesOut,
      kicks: [...this.kicks],
      droppedEvents: [...this.droppedEvents],
      historyDropped: this.historyDropped,
      queueHighWaterBytes: this.queueHighWaterBytes,
      eventLoopLagMs: this.eventLoopLagMs,
      eventLoopLagMaxMs: this.eventLoopLagMaxMs,
    };
  }

  /** Adds a worker's counters: sums, and the highest of each high-water
   * mark and lag (the slowest worker is the one to see). */
  add(other: MetricsSnapshot): void {
    this.connectionsAccepted += other.connectionsAccepted;
    this.connectionsOpen += other.connectionsOpen;
    this.linesIn += other.linesIn;
    this.linesOut += other.linesOut;
    this.bytesOut += other.bytesOut;
    this.historyDropped += other.historyDropped;
    for (
      const [from, into] of [
        [other.refused, this.refused],
        [other.kicks, this.kicks],
        [other.droppedEvents, this.droppedEvents],
      ] as const
    ) {
      for (const [key, n] of from) into.set(key, (into.get(key) ?? 0) + n);
    }
    this.queueHighWaterBytes = Math.max(this.queueHighWaterBytes, other.queueHighWaterBytes);
    this.eventLoopLagMs = Math.max(this.eventLoopLagMs, other.eventLoopLagMs);
    this.eventLoopLagMaxMs = Math.max(this.eventLoopLagMaxMs, other.eventLoopLagMaxMs);
  }

  static bump(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  lineIn(): void {
    this.linesIn++;
  }

  kicked(reason: string): void {
    Metrics.bump(this.kicks, reason);
  }

  queueHighWater(bytes: number): void {
    if (bytes > this.queueHighWaterBytes) this.queueHighWaterBytes = bytes;
  }

  /** Counts `bytes` queued to `recipients` clients. */
  sent(bytes: Uint8Array, recipients: number): void {
    if (recipients === 0) return;
    let lines = 0;
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++;
    this.linesOut += lines * recipients;
    this.bytesOut += bytes.length * recipients;
  }

  /** The Prometheus text exposition of every metric. */
  render(live: LiveFigures): string {
    const values = this.#values(live);
    const out: string[] = [];
    for (const [name, [type, help]] of Object.entries(METRICS)) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      const value = values[name as MetricName];
      const rows: [string, number][] = typeof value === "number" ? [["", value]] : value;
      for (const [labels, n] of rows) out.push(`${name}${labels} ${n}`);
    }
    return out.join("\n") + "\n";
  }

  /** Each metric's value now: one number, or one per label. */
  #values(live: LiveFigures): Record<MetricName, number | [string, number][]> {
    return {
      marquee_connections_accepted_total: this.connectionsAccepted,
      marquee_connections_open: this.connectionsOpen,
      marquee_connections_refused_total: labelled(this.refused),
      marquee_users: live.users,
      marquee_remote_users: live.remoteUsers,
      marquee_rooms: live.rooms,
      marquee_lines_in_total: this.linesIn,
      marquee_lines_out_total: this.linesOut,
      marquee_bytes_out_total: this.bytesOut,
      marquee_kicks_total: labelled(this.kicks),
      marquee_cluster_events_dropped_total: labelled(this.droppedEvents),
      marquee_history_dropped_total: this.historyDropped,
      marquee_send_queue_high_water_bytes: Math.max(
        this.queueHighWaterBytes,
        live.queueHighWaterBytes,
      ),
      marquee_event_loop_lag_seconds: this.eventLoopLagMs / 1000,
      marquee_event_loop_lag_max_seconds: this.eventLoopLagMaxMs / 1000,
    };
  }
}

/** Every metric, in exposition order: its type and help text. */
const METRICS = {
  marquee_connections_accepted_total: ["counter", "Connections accepted."],
  marquee_connections_open: ["gauge", "Connections open now."],
  marquee_connections_refused_total: ["counter", "Connections refused, by reason."],
  marquee_users: ["gauge", "Users online on this server."],
  marquee_remote_users: ["gauge", "Users online on linked servers."],
  marquee_rooms: ["gauge", "Rooms, lobby included."],
  marquee_lines_in_total: ["counter", "Lines received from clients."],
  marquee_lines_out_total: ["counter", "Lines queued to clients, per recipient."],
  marquee_bytes_out_total: ["counter", "Bytes queued to clients, per recipient."],
  marquee_kicks_total: ["counter", "Clients disconnected by the server, by reason."],
  marquee_cluster_events_dropped_total: [
    "counter",
    "Events from other servers dropped as malformed, by fault.",
  ],
  marquee_history_dropped_total: ["counter", "Room lines the history store dropped."],
  marquee_send_queue_high_water_bytes: ["gauge", "Deepest send queue seen, in bytes."],
  marquee_event_loop_lag_seconds: ["gauge", "Event-loop lag at the last probe."],
  marquee_event_loop_lag_max_seconds: ["gauge", "Worst event-loop lag seen."],
} as const;

type MetricName = keyof typeof METRICS;

/** `{reason="..."}`-labelled values of a map (quotes dropped from keys). */
function labelled(map: Map<string, number>): [string, number][] {
  return [...map].map(([key, value]) => [`{reason="${key.replaceAll('"', "")}"}`, value]);
}
