/**
 * Telnet's negotiation, taken out of a byte stream: `telnet` sends option
 * negotiation (IAC sequences) that `nc` users never see, and a chat line
 * must not carry it.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";

const IAC = 0xff;
const SB = 0xfa;
const SE = 0xf0;
const WILL = 0xfb;
const DONT = 0xfe;

const enum TelnetState {
  Data,
  Command,
  Option,
  Sub,
  SubCommand,
}

/**
 * Removes telnet IAC sequences (commands, option negotiation, `IAC IAC`,
 * subnegotiation up to `IAC SE`) from a byte stream, in place.
 *
 * @example
 * ```ts
 * import { TelnetFilter } from "./telnet.ts";
 * const bytes = new Uint8Array([0xff, 0xfb, 0x01, 0x68, 0x69]); // IAC WILL ECHO "hi"
 * new TelnetFilter().filter(bytes); // the bytes of "hi"
 * ```
 */
export class TelnetFilter {
  #state = TelnetState.Data;

  /** Returns the chunk without telnet sequences (a view of the same memory). */
  filter(chunk: Uint8Array): Uint8Array {
    if (this.#state === TelnetState.Data && chunk.indexOf(IAC) === -1) return chunk;
    let write = 0;
    for (let read = 0; read < chunk.length; read++) {
      const byte = chunk[read] as number;
      switch (this.#state) {
        case TelnetState.Data:
          if (byte === IAC) this.#state = TelnetState.Command;
          else chunk[write++] = byte;
          break;
        case TelnetState.Command:
          if (byte === SB) this.#state = TelnetState.Sub;
          else if (byte >= WILL && byte <= DONT) this.#state = TelnetState.Option;
          else this.#state = TelnetState.Data;
          break;
        case TelnetState.Option:
          this.#state = TelnetState.Data;
          break;
        case TelnetState.Sub:
          if (byte === IAC) this.#state = TelnetState.SubCommand;
          break;
        case TelnetState.SubCommand:
          this.#state = byte === SE ? TelnetState.Data : TelnetState.Sub;
          break;
        default:
          unreachable(this.#state);
      }
    }
    return chunk.subarray(0, write);
  }
}
