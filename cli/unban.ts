/**
 * `deno task unban TARGET [ROOM]`: lifts a ban with the server stopped,
 * straight in the data directory's `community.db`: a server ban (or, with
 * ROOM, a room's ban) on a name or an address, and the addresses kept with
 * a name's ban. The way back in for operators shut out by a ban, whatever
 * it covers. It takes the data directory's lock, so it refuses to run
 * while a server is using the directory (that server's copy in memory
 * would not hear of it).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { lockDataDir } from "../store/data_dir.ts";
import { SqliteCommunity } from "../store/sqlite_community.ts";

/** Lifts the ban; resolves with the exit code. */
export async function unban(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { "data-dir": { type: "string", default: "./marquee-data" } },
    allowPositionals: true,
  });
  const [target, room = ""] = positionals;
  if (target === undefined || positionals.length > 2) {
    console.error("unban: usage: deno task unban [--data-dir DIR] NAME|ADDRESS [ROOM]");
    return 2;
  }
  const dataDir = values["data-dir"] as string;
  let lock: Deno.FsFile | undefined;
  try {
    lock = lockDataDir(dataDir, "--accounts off");
    const store = SqliteCommunity.open(`${dataDir}/community.db`);
    try {
      const key = target.toLowerCase();
      await store.write({ kind: "unban", room: room.toLowerCase(), target: key, by: "console" });
    } finally {
      await store.close();
    }
    console.log(`unban: lifted any ban on ${target} in ${room === "" ? "the server" : room}`);
    return 0;
  } catch (error) {
    console.error(`unban: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  } finally {
    lock?.close();
  }
}

if (import.meta.main) {
  Deno.exit(await unban(Deno.args));
}
