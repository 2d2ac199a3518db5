/**
 * What the main thread keeps of one worker besides the worker itself: how
 * its start ends (`Outcome`) and the figures asked of it (`Reports`).
 *
 * @module
 */

import type { WorkerReport } from "./run.ts";
import type { ToWorker } from "./worker.ts";

/** How long a scrape waits for a worker's figures. */
const REPORT_TIMEOUT_MS = 2_000;

/** How a worker's start ends: ready, or failed; and when it has stopped. */
export class Outcome {
  readonly ready: Promise<void>;
  readonly stopped: Promise<void>;
  isReady!: () => void;
  failed!: (error: Error) => void;
  stop!: () => void;

  constructor() {
    this.ready = new Promise((resolve, reject) => [this.isReady, this.failed] = [resolve, reject]);
    this.stopped = new Promise((resolve) => (this.stop = resolve));
  }
}

/** Figures asked of a worker, each answered or given up after a while. */
export class Reports {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, (report: WorkerReport | undefined) => void>();
  #lastId = 0;

  constructor(worker: Worker) {
    this.#worker = worker;
  }

  ask(): Promise<WorkerReport | undefined> {
    return new Promise((resolve) => {
      const id = ++this.#lastId;
      this.#waiting.set(id, resolve);
      this.#worker.postMessage({ type: "report", id } satisfies ToWorker);
      setTimeout(() => this.#waiting.delete(id) && resolve(undefined), REPORT_TIMEOUT_MS);
    });
  }

  answered(id: number, report: WorkerReport | undefined): void {
    this.#waiting.get(id)?.(report);
    this.#waiting.delete(id);
  }
}
