/**
 * The `NumberStore` of a lone server: how far its `userN` numbers have
 * gone, in one small file in the data directory, replaced atomically (a
 * new file renamed over the old one), so a crash leaves the old value or
 * the new one, never half of one.
 *
 * @module
 */

import type { NumberStore } from "../chat/ports.ts";

/**
 * Numbers kept in `path`.
 *
 * @example
 * ```ts
 * import { NumberFile } from "./number_file.ts";
 * const numbers = new NumberFile(Deno.makeTempDirSync() + "/users");
 * numbers.reserve(64);
 * numbers.load(); // 64
 * ```
 */
export class NumberFile implements NumberStore {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  load(): number {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.#path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return 0;
      throw error;
    }
    const n = Number(text.trim());
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new Error(`Cannot read the user numbers in ${this.#path}: not a number`);
    }
    return n;
  }

  reserve(upTo: number): void {
    const next = `${this.#path}.next`;
    Deno.writeTextFileSync(next, `${upTo}\n`);
    Deno.renameSync(next, this.#path);
  }
}
