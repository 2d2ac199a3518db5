/**
 * Every limit the chat enforces, with its default, in one place: the
 * per-session ones (line length, flood control, send queue, idle time,
 * shutdown drain) and the admission ones (connections in all and per
 * address). `docs/protocol.md` ("Limits") says what each one does to a
 * client that reaches it; `cli/flags.ts` exposes each as a flag.
 *
 * @module
 */

import {
  type AdmissionLimits,
  DEFAULT_CONNECTS_PER_MINUTE,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_QUEUED_BYTES,
} from "../net/mod.ts";
import { DEFAULT_FLOOD_BURST, DEFAULT_FLOOD_KICK_MS, DEFAULT_FLOOD_RATE } from "./rate_limit.ts";
import type { SessionLimits } from "./session.ts";

/** How long queued lines may drain at shutdown before sockets are closed:
 * long enough for any reader that is reading, short enough that a stuck
 * one cannot hold the process up. */
export const DEFAULT_SHUTDOWN_FLUSH_MS = 5_000;

/** Every limit: a session's, and admission's. */
export interface ChatLimits extends SessionLimits, Required<AdmissionLimits> {}

/** The defaults. */
export const DEFAULT_LIMITS: Readonly<ChatLimits> = {
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  floodRate: DEFAULT_FLOOD_RATE,
  floodBurst: DEFAULT_FLOOD_BURST,
  floodKickMs: DEFAULT_FLOOD_KICK_MS,
  maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES,
  idleTimeoutMs: 0,
  flushMs: DEFAULT_SHUTDOWN_FLUSH_MS,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  connectsPerMinute: DEFAULT_CONNECTS_PER_MINUTE,
  exemptLoopback: true,
};
