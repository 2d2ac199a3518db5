/**
 * `deno task passwd`: prints the hash of a password for the `--operators`
 * file. The password is read from the terminal without echo (or, when
 * stdin is not a terminal, as its first line, for scripts), and never
 * appears in the shell's history or the process list.
 *
 * @module
 */

import { ScryptPasswords } from "../store/passwords.ts";
import { PASSWORD_CHARS } from "../chat/commands.ts";

/** Reads one line from stdin, without echo when it is a terminal. */
async function readPassword(): Promise<string> {
  const terminal = Deno.stdin.isTerminal();
  if (terminal) {
    await Deno.stderr.write(new TextEncoder().encode("Password (not shown): "));
    Deno.stdin.setRaw(true);
  }
  const bytes: number[] = [];
  const buffer = new Uint8Array(256);
  try {
    reading: while (true) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 0x0a || byte === 0x0d) break reading;
        if (byte === 0x03) throw new Error("cancelled");
        bytes.push(byte);
      }
    }
  } finally {
    if (terminal) {
      Deno.stdin.setRaw(false);
      await Deno.stderr.write(new TextEncoder().encode("\n"));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Prints the hash; resolves with the exit code. */
export async function passwd(): Promise<number> {
  try {
    const password = await readPassword();
    const chars = [...password].length;
    if (chars < PASSWORD_CHARS.min || chars > PASSWORD_CHARS.max || /\s/.test(password)) {
      console.error(
        `passwd: passwords are ${PASSWORD_CHARS.min}-${PASSWORD_CHARS.max} characters with no spaces`,
      );
      return 2;
    }
    console.log(await new ScryptPasswords().hash(password));
    return 0;
  } catch (error) {
    console.error(`passwd: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await passwd());
}
