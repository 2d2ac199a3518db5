/**
 * The network layer: bytes in (capped lines), bytes out (bounded queues),
 * accepting and admitting connections, and a WebSocket seen as a byte
 * connection. It knows nothing about chat.
 *
 * @module
 */

export {
  Admission,
  type AdmissionLimits,
  type AdmissionOptions,
  CONNECT_BURST,
  DEFAULT_CONNECTS_PER_MINUTE,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  type Gate,
  isLoopback,
  reportRefusal,
} from "./admission.ts";
export { describeError, describeListenError, firstLine, StartupError } from "./describe_error.ts";
export {
  type ByteReader,
  DEFAULT_MAX_LINE_BYTES,
  type LineEvent,
  LineSplitter,
  readLines,
  TelnetFilter,
} from "./line_splitter.ts";
export {
  type ByteWriter,
  DEFAULT_MAX_QUEUED_BYTES,
  Outbox,
  type OutboxCloseReason,
} from "./outbox.ts";
export { type Ending, serve, type ServeOptions } from "./serve.ts";
export { WORKER_WRITES_IN_FLIGHT, WriteSlots } from "./write_slots.ts";
export { Writes } from "./writes.ts";
export {
  type HttpAnswer,
  type HttpConnOptions,
  type HttpRequest,
  refusalResponse,
  serveHttpConn,
  textResponse,
} from "./http_conn.ts";
export {
  acceptKey,
  framedBy,
  type Framer,
  framer,
  isValidKey,
  MAX_MESSAGE_BYTES,
  WebSocketConn,
} from "./websocket_conn.ts";
