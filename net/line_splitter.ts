/**
 * Turning a socket's bytes into lines without ever holding more than one
 * line's worth of them.
 *
 * `LineSplitter` cuts chunks at LF (dropping a CR before it), decodes each
 * line as UTF-8 (invalid bytes become U+FFFD; a character split across two
 * reads is joined first, because decoding happens per line, not per read),
 * and enforces a length cap while streaming: once a partial line passes the
 * cap it is reported once and the rest of it is skipped up to the next LF,
 * so a client that never sends a newline costs at most `maxLineBytes`.
 *
 * `TelnetFilter` removes telnet negotiation (IAC sequences) before the
 * splitter sees the bytes. 0xFF never occurs in valid UTF-8, so the filter
 * cannot damage text, and it keeps state across reads so a sequence split
 * between two packets is still removed.
 *
 * `readLines` ties both to a reader with a read buffer that starts small and
 * grows only for clients that fill it: an idle connection holds 256 bytes.
 *
 * @module
 */

import { TelnetFilter } from "./telnet.ts";
import type { PushSink, PushSource } from "../actors/mod.ts";

/** Default cap on a line's content in bytes (the LF and a CR before it are
 * not counted): generous for chat, small enough that ten thousand clients
 * each holding a partial line cost 40 MiB at worst. */
export const DEFAULT_MAX_LINE_BYTES = 4096;

/** First read buffer per connection: enough for a typed line, small enough
 * that ten thousand idle connections hold 2.5 MiB of buffers between them. */
const INITIAL_READ_BYTES = 64;
/** Largest read buffer: big reads amortise the per-read cost for clients
 * that send a lot; beyond 64 KiB the gain is gone. */
const MAX_READ_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/** What the splitter produces. */
export type LineEvent =
  | { type: "line"; text: string }
  | { type: "too_long" };

/** Options for {@linkcode LineSplitter} and {@linkcode readLines}. */
export interface LineSplitterOptions {
  /** Longest line content accepted, in bytes. */
  maxLineBytes?: number;
}

/**
 * Incremental, length-capped LF/CRLF splitter.
 *
 * @example
 * ```ts
 * import { LineSplitter, type LineEvent } from "./line_splitter.ts";
 * const splitter = new LineSplitter({ maxLineBytes: 8 });
 * const out: LineEvent[] = [];
 * splitter.push(new TextEncoder().encode("hi\r\nthis is too long\nok\n"), out);
 * // out: line "hi", too_long, line "ok"
 * ```
 */
/** Decoding whole lines keeps no state between calls, so every splitter
 * shares one decoder. */
const decoder = new TextDecoder();

export class LineSplitter {
  readonly #max: number;
  #pending: Uint8Array | undefined;
  #pendingLength = 0;
  #discarding = false;

  constructor(options: LineSplitterOptions = {}) {
    this.#max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Bytes of an unfinished line held right now (never above the cap + 1). */
  get bufferedBytes(): number {
    return this.#pendingLength;
  }

  /** Splits `chunk`, appending complete lines and overflow notices to `out`.
   * The chunk is not retained; it may be reused by the caller afterwards. */
  push(chunk: Uint8Array, out: LineEvent[]): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(LF, start);
      if (this.#discarding) {
        if (newline === -1) return;
        this.#discarding = false;
        start = newline + 1;
        continue;
      }
      const end = newline === -1 ? chunk.length : newline;
      const total = this.#pendingLength + (end - start);
      if (newline === -1) {
        // A CR may still end this line, so one byte over the cap is allowed.
        if (total > this.#max + 1) {
          this.#pendingLength = 0;
          this.#discarding = true;
          out.push({ type: "too_long" });
        } else {
          this.#append(chunk.subarray(start, end));
        }
        return;
      }
      const lastByte = end > start ? chunk[end - 1] : this.#pending?.[this.#pendingLength - 1];
      const length = lastByte === CR && total > 0 ? total - 1 : total;
      if (length > this.#max) {
        out.push({ type: "too_long" });
      } else if (this.#pendingLength === 0) {
        out.push({
          type: "line",
          text: decoder.decode(chunk.subarray(start, start + length)),
        });
      } else {
        this.#append(chunk.subarray(start, end));
        const bytes = (this.#pending as Uint8Array).subarray(0, length);
        out.push({ type: "line", text: decoder.decode(bytes) });
      }
      this.#pendingLength = 0;
      start = newline + 1;
    }
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#pendingLength + bytes.length;
    if (this.#pending === undefined || this.#pending.length < needed) {
      const grown = new Uint8Array(Math.min(this.#max + 1, Math.max(2 * needed, 64)));
      if (this.#pending) grown.set(this.#pending.subarray(0, this.#pendingLength));
      this.#pending = grown;
    }
    this.#pending.set(bytes, this.#pendingLength);
    this.#pendingLength = needed;
  }
}

/** Options for {@linkcode readLines}. */
export interface ReadLinesOptions extends LineSplitterOptions {
  /** Remove telnet negotiation (default true; a WebSocket has none). */
  telnet?: boolean;
}

/**
 * A reader whose bytes arrive wrapped (a WebSocket's frames). The line
 * reader then reads raw bytes and has them unwrapped in place, instead of
 * awaiting the reader's own `read`, which would hold a second promise per
 * idle connection.
 */
export interface Deframer extends ByteReader {
  /** A raw read into `buffer`; undefined when bytes are already waiting
   * (then `read` gives them). */
  readRaw(buffer: Uint8Array): Promise<number | null> | undefined;
  /** Turns `n` raw bytes at the front of `buffer` into payload there;
   * returns how many payload bytes there are (0: none yet, read again),
   * or null at the end. */
  unwrap(buffer: Uint8Array, n: number | null): number | null;
}

function isDeframer(reader: ByteReader): reader is Deframer {
  return typeof (reader as Partial<Deframer>).unwrap === "function";
}

/** Anything with Deno.Conn's `read`. */
export interface ByteReader {
  read(buffer: Uint8Array): Promise<number | null>;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * Reads `reader` to its end as an async iterator of lines and overflow
 * notices. The read buffer is reused across reads and grows (up to 64 KiB)
 * only while reads fill it, so idle connections stay cheap. A plain object
 * with promise callbacks rather than an async generator: a suspended
 * generator frame costs about 700 bytes, times every idle connection.
 *
 * An unterminated last line is dropped, not delivered: Deno reports a
 * connection reset as a plain end of stream, and a reset mid-line must leave
 * no trace (docs/protocol.md, "Text rules"). A line counts once its LF arrives.
 *
 * @example
 * ```ts
 * import { readLines } from "./line_splitter.ts";
 * const conn = await Deno.connect({ port: 8080 });
 * for await (const event of readLines(conn)) {
 *   if (event.type === "line") console.log(event.text);
 * }
 * ```
 */
export function readLines(
  reader: ByteReader,
  options: ReadLinesOptions = {},
): AsyncIterableIterator<LineEvent> & PushSource<LineEvent> {
  return new LineReader(reader, options);
}

/**
 * Every reader's first buffer: a 64-byte slot in a shared slab rather than
 * an ArrayBuffer of its own (its object and its separate allocation, about
 * 180 bytes more per idle connection). A slot is given back only once no
 * read can be pending into it; slabs are kept for the next connections.
 */
class Slabs {
  static readonly SLOTS = 1024;
  readonly #slabs: Uint8Array[] = [];
  readonly #free: number[] = [];

  take(): number {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    const first = this.#slabs.length * Slabs.SLOTS;
    this.#slabs.push(new Uint8Array(Slabs.SLOTS * INITIAL_READ_BYTES));
    // Handed out from the lowest slot up.
    for (let slot = first + Slabs.SLOTS - 1; slot > first; slot--) this.#free.push(slot);
    return first;
  }

  view(slot: number): Uint8Array {
    const slab = this.#slabs[Math.floor(slot / Slabs.SLOTS)] as Uint8Array;
    const start = (slot % Slabs.SLOTS) * INITIAL_READ_BYTES;
    return slab.subarray(start, start + INITIAL_READ_BYTES);
  }

  giveBack(slot: number): void {
    this.#free.push(slot);
  }
}

const firstBuffers = new Slabs();

class LineReader implements AsyncIterableIterator<LineEvent>, PushSource<LineEvent> {
  readonly #reader: ByteReader;
  /** The splitter and telnet filter are made at the first bytes: a
   * client that never sends costs neither. */
  #splitter: LineSplitter | undefined;
  readonly #maxLineBytes: number | undefined;
  readonly #telnetOn: boolean;
  /** Never made for a reader that carries no telnet (a WebSocket). */
  #telnet: TelnetFilter | undefined;
  /** Present for a framed reader (a WebSocket): raw reads are unwrapped
   * here, so the reader adds no promise of its own to each read. */
  readonly #frames: Deframer | undefined;
  /** The read in flight is a raw one. */
  #raw = false;
  #buffer: Uint8Array;
  /** The slab slot `#buffer` is, while it is one. */
  #slot: number;
  /** Made at the first read: a client that never sends costs no array. */
  #events: LineEvent[] | undefined;
  #next = 0;
  #done = false;
  /** Push mode's sink (see `pushTo`). */
  #sink: PushSink<LineEvent> | undefined;
  /** Where a finished read goes: made once, for the mode in use. */
  #then: ((read: number | null) => Promise<IteratorResult<LineEvent>>) | undefined;
  #pushed: ((result: unknown) => void) | undefined;

  constructor(reader: ByteReader, options: ReadLinesOptions) {
    this.#reader = reader;
    this.#slot = firstBuffers.take();
    this.#buffer = firstBuffers.view(this.#slot);
    this.#maxLineBytes = options.maxLineBytes;
    this.#telnetOn = options.telnet !== false;
    this.#frames = isDeframer(reader) ? reader : undefined;
  }

  next(): Promise<IteratorResult<LineEvent>> {
    const events = this.#events;
    if (events !== undefined && this.#next < events.length) {
      return Promise.resolve({ done: false, value: events[this.#next++] as LineEvent });
    }
    if (this.#done) return Promise.resolve(DONE);
    return this.#read().then(
      this.#then ??= (read) => {
        this.#take(read);
        return this.next();
      },
    );
  }

  return(): Promise<IteratorResult<LineEvent>> {
    this.#done = true;
    return Promise.resolve(DONE);
  }

  /** Push mode, for an actor's stream: each line goes straight to `sink`,
   * with one pending read and no promise of ours held between lines. */
  pushTo(sink: PushSink<LineEvent>): void {
    this.#sink = sink;
    this.#pump();
  }

  /** Ends push mode at the next step (the pending read finishes first). */
  cancel(): void {
    this.#done = true;
  }

  /** Pushes the lines read, then reads again; waits when the sink is full. */
  #pump(): void {
    const sink = this.#sink as PushSink<LineEvent>;
    const events = this.#events;
    while (events !== undefined && this.#next < events.length) {
      if (this.#done) return this.#end();
      const wait = sink.push(events[this.#next++] as LineEvent);
      if (wait !== undefined) return void wait.then(() => this.#pump());
    }
    if (this.#done) return this.#end();
    // One callback for both outcomes: a read resolves with a count or
    // null, and rejects with an error.
    const pushed = this.#pushed ??= (result) => {
      if (typeof result !== "number" && result !== null) return this.#fail(result);
      try {
        this.#take(result);
      } catch (error) {
        return this.#fail(error);
      }
      this.#pump();
    };
    try {
      this.#read().then(pushed, pushed);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Push mode is over, with no read pending: the slot goes back. */
  #end(): void {
    this.#giveBack();
    this.#sink?.end();
  }

  #fail(error: unknown): void {
    this.#done = true;
    this.#giveBack();
    this.#sink?.end(error);
  }

  /** Starts a read into the buffer: a raw one if the reader is framed. */
  #read(): Promise<number | null> {
    const raw = this.#frames?.readRaw(this.#buffer);
    if (raw === undefined) return this.#reader.read(this.#buffer);
    this.#raw = true;
    return raw;
  }

  /** Takes a finished read: its lines into the events, or the end. */
  #take(read: number | null): void {
    let n = read;
    if (this.#raw) {
      this.#raw = false;
      n = (this.#frames as Deframer).unwrap(this.#buffer, n);
      if (n === 0) return; // A frame not yet whole: read again.
    }
    if (n === null || this.#done) {
      this.#done = true;
      return this.#giveBack();
    }
    const buffer = this.#buffer;
    const events = this.#events ??= [];
    events.length = 0;
    this.#next = 0;
    const bytes = buffer.subarray(0, n);
    const splitter = this.#splitter ??= new LineSplitter({ maxLineBytes: this.#maxLineBytes });
    if (this.#telnetOn) this.#telnet ??= new TelnetFilter();
    splitter.push(this.#telnet ? this.#telnet.filter(bytes) : bytes, events);
    if (n === buffer.length && buffer.length < MAX_READ_BYTES) {
      this.#giveBack();
      this.#buffer = new Uint8Array(buffer.length * 4);
    }
  }

  /** Returns the first buffer's slot: only once no read can be pending
   * into it (the reader has ended, or has a bigger buffer of its own). */
  #giveBack(): void {
    if (this.#slot < 0) return;
    firstBuffers.giveBack(this.#slot);
    this.#slot = -1;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<LineEvent> {
    return this;
  }
}

export { TelnetFilter } from "./telnet.ts";
