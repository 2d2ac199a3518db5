/**
 * A small actor runtime: bounded mailboxes, typed addresses, lifecycle hooks,
 * streams as message sources, timers owned by the actor, and supervision.
 * It knows nothing about chat and could be published on its own.
 *
 * @module
 */

export { Actor, type ActorRef, spawn, type SpawnOptions } from "./actor.ts";
export { type Clock, REAL_CLOCK, type TimerHandle } from "./clock.ts";
export { Address, type AskOptions, AskTimeoutError, DEFAULT_ASK_TIMEOUT_MS } from "./address.ts";
export {
  type AddStreamOptions,
  Context,
  type PushSink,
  type PushSource,
  type StreamEndHandler,
} from "./context.ts";
export {
  DEFAULT_MAILBOX_CAPACITY,
  Mailbox,
  MailboxClosedError,
  type MailboxOptions,
} from "./mailbox.ts";
export {
  DEFAULT_MAX_RESTARTS,
  DEFAULT_RESTART_WINDOW_MS,
  type Directive,
  type SupervisionPolicy,
  Supervisor,
} from "./supervision.ts";
export { unreachable } from "./unreachable.ts";
