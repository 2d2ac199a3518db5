/**
 * A connection in memory, for session tests on a fake clock: the test
 * feeds what the client sends and reads what the server wrote.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A connection in memory: the test feeds what the client sends and reads
 * what the server wrote. */
export class MemoryConn {
  readonly telnet = false;
  written = "";
  closed = false;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  /** The client sends `text`. */
  send(text: string): void {
    this.#chunks.push(encoder.encode(text));
    this.#wake?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended || this.closed) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks.shift() as Uint8Array;
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#chunks.unshift(chunk.subarray(n));
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    this.written += decoder.decode(bytes);
    return Promise.resolve(bytes.length);
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }
}
