/**
 * The history store's writer: a Deno Worker that owns the connection that
 * writes `history.db`, so that inserting, indexing and pruning lines never
 * runs on the chat's thread (`history_thread.ts` is the other end).
 *
 * It takes batches in order and writes each in one transaction. A file
 * that another connection holds locked (`SQLITE_BUSY`, after SQLite's own
 * wait) delays the batch, which is tried again, rather than dropping it;
 * any other failure drops the batch and says why.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { SqliteHistory } from "./sqlite_history.ts";
import type { HistoryLine } from "../chat/ports.ts";

/** What the chat's thread tells the writer. */
export type ToWriter =
  | { type: "open"; path: string; keep: number; days: number; shared: boolean }
  | { type: "write"; seq: number; lines: HistoryLine[] }
  | { type: "close" };

/** What the writer tells the chat's thread. */
export type FromWriter =
  | { type: "written"; seq: number }
  | { type: "failed"; seq: number; why: string }
  | { type: "closed" };

/** How long a locked file waits before a batch is tried again (besides
 * SQLite's own `busy_timeout`), and how many times. */
const BUSY_RETRY_MS = 100;
const BUSY_RETRIES = 50;

const queue: ToWriter[] = [];
let store: SqliteHistory | undefined;
let openFailed = "not opened";
let draining = false;

self.onmessage = (event: MessageEvent<ToWriter>) => {
  queue.push(event.data);
  if (!draining) void drain();
};

/** Handles the messages in order, one at a time; batches that queued up
 * meanwhile are written together, in one transaction. */
async function drain(): Promise<void> {
  draining = true;
  for (let message = queue.shift(); message !== undefined; message = queue.shift()) {
    if (message.type !== "write") {
      await handle(message);
      continue;
    }
    const batches = [message];
    while (queue[0]?.type === "write") batches.push(queue.shift() as typeof message);
    const lines = batches.length === 1 ? message.lines : batches.flatMap((b) => b.lines);
    const outcome = await write(lines);
    for (const { seq } of batches) post({ ...outcome, seq });
  }
  draining = false;
}

async function handle(message: ToWriter): Promise<void> {
  switch (message.type) {
    case "open":
      try {
        store = SqliteHistory.open({ ...message, log: () => {}, autoFlush: false });
      } catch (error) {
        openFailed = reason(error);
      }
      return;
    case "write":
      return post({ ...await write(message.lines), seq: message.seq });
    case "close":
      store?.close();
      post({ type: "closed" });
      return self.close();
    default: {
      const unknown: never = message; // every message is handled above
      throw new Error(`unknown message ${JSON.stringify(unknown)}`);
    }
  }
}

/** What became of a batch. */
type Outcome = { type: "written" } | { type: "failed"; why: string };

/** Writes one batch, waiting out a lock. */
async function write(lines: HistoryLine[]): Promise<Outcome> {
  if (store === undefined) return { type: "failed", why: openFailed };
  for (let attempt = 0;; attempt++) {
    try {
      store.write(lines);
      return { type: "written" };
    } catch (error) {
      if (!isBusy(error) || attempt >= BUSY_RETRIES) return { type: "failed", why: reason(error) };
      await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
    }
  }
}

/** Whether SQLite said another connection holds the file (`SQLITE_BUSY`). */
function isBusy(error: unknown): boolean {
  return error instanceof Error && /database is locked|SQLITE_BUSY/i.test(error.message);
}

function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

function post(message: FromWriter): void {
  self.postMessage(message);
}
