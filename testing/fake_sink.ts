/**
 * A `Sink` (what the chat server writes a user's lines to) that keeps the
 * lines in memory, so the chat domain is tested without sockets. Reading
 * waits for the next line (an event), never for time.
 *
 * @module
 */

import type { Sink } from "../chat/registry.ts";

const decoder = new TextDecoder();

/**
 * Collects lines pushed to it.
 *
 * @example
 * ```ts
 * import { FakeSink } from "./fake_sink.ts";
 * const sink = new FakeSink();
 * sink.push(new TextEncoder().encode("* hello\n"));
 * await sink.nextLine(); // "* hello"
 * ```
 */
export class FakeSink implements Sink {
  readonly #lines: string[] = [];
  #partial = "";
  #wake: (() => void) | undefined;
  highWater = 0;
  closed = false;

  push(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    const parts = (this.#partial + decoder.decode(bytes)).split("\n");
    this.#partial = parts.pop() as string;
    this.#lines.push(...parts);
    this.#wake?.();
    return true;
  }

  close(): Promise<void> {
    this.closed = true;
    this.#wake?.();
    return Promise.resolve();
  }

  /** What came after the last newline: a JSON face's objects, which are
   * not lines. */
  get partial(): string {
    return this.#partial;
  }

  /** Lines received and not read yet. */
  get unread(): readonly string[] {
    return this.#lines;
  }

  /** The next line, waiting up to `ms` for it. */
  async nextLine(ms = 2_000): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (this.#lines.length === 0) {
        if (this.closed) throw new Error("Cannot read a line: the sink is closed");
        await new Promise<void>((resolve, reject) => {
          this.#wake = resolve;
          timer = setTimeout(() => reject(new Error(`No line within ${ms} ms`)), ms);
        });
        clearTimeout(timer);
      }
      return this.#lines.shift() as string;
    } finally {
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /** The next `n` lines. */
  async nextLines(n: number): Promise<string[]> {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(await this.nextLine());
    return lines;
  }
}
