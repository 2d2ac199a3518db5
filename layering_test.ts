/**
 * The layering, checked: each folder may import only from the folders
 * below it, so the design the README describes is the design the code has.
 *
 *   actors/   nothing (a runtime that knows no chat)
 *   net/      actors/
 *   chat/     actors/, net/            (the domain: no Redis, HTTP, CLI)
 *   cluster/  chat/, net/, actors/     (adapters of the domain's Broker port)
 *   irc/      chat/, net/, actors/     (the IRC face's sessions: a protocol edge)
 *   store/    chat/, net/              (adapters of the domain's HistoryStore and
 *                                      CommunityStore ports, password hashing, and
 *                                      the data directory)
 *   cli/      actors/, net/, chat/, store/  (flags and binding: nothing of app/)
 *   app/      all of the above         (the composition root)
 *   main.ts                            anything
 *
 * Tests are left out: they may reach for fakes and adapters anywhere.
 */

import assert from "node:assert/strict";
import { ROOT, sourceFiles } from "./testing/source_files.ts";

/** Folders each layer may import from (besides itself and `node:` modules). */
const ALLOWED: Record<string, string[]> = {
  actors: [],
  net: ["actors"],
  chat: ["actors", "net"],
  cluster: ["actors", "net", "chat"],
  irc: ["actors", "net", "chat"],
  store: ["chat", "net"],
  cli: ["actors", "net", "chat", "store"],
  app: ["actors", "net", "chat", "cluster", "irc", "store", "cli"],
};

/** Bare (npm) imports each layer may use. */
const PACKAGES: Record<string, string[]> = {
  actors: [],
  net: [],
  chat: [],
  cluster: ["redis"],
  irc: [],
  store: [],
  cli: [],
  app: [],
};

/** Every module specifier a file imports, statically or dynamically. */
function importsOf(file: string): string[] {
  const text = Deno.readTextFileSync(new URL(file, ROOT))
    // Examples in doc comments are not imports.
    .replace(/\/\*\*[\s\S]*?\*\//g, "");
  const found: string[] = [];
  // Statements only (a line that starts with import or export), so code in
  // a string (the web page's script) is not taken for an import.
  const statements = /^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/gm;
  const dynamic = /\bimport\s*\(\s*["']([^"']+)["']/g;
  for (const match of text.matchAll(statements)) found.push(match[1] as string);
  for (const match of text.matchAll(dynamic)) found.push(match[1] as string);
  return found;
}

/** The top-level folder a relative import from `file` lands in. */
function folderOf(file: string, specifier: string): string {
  const target = new URL(specifier, new URL(file, ROOT));
  return target.pathname.slice(ROOT.pathname.length).split("/")[0] as string;
}

Deno.test("each layer imports only from the layers below it", () => {
  let checked = 0;
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    for (const file of sourceFiles(layer)) {
      for (const specifier of importsOf(file)) {
        checked++;
        if (specifier.startsWith("node:")) continue;
        if (!specifier.startsWith(".")) {
          assert.ok(PACKAGES[layer]!.includes(specifier), `${file} imports ${specifier}`);
          continue;
        }
        const target = folderOf(file, specifier);
        assert.ok(target === layer || allowed.includes(target), `${file} imports ${specifier}`);
      }
    }
  }
  assert.ok(checked > 50, `only ${checked} imports were checked`);
});

Deno.test("only the Redis adapters (connections, history) load the Redis client", () => {
  for (const folder of ["actors", "net", "chat", "cluster", "store", "app", "cli"]) {
    for (const file of sourceFiles(folder)) {
      const adapters = [
        "cluster/redis_broker.ts",
        "cluster/redis_clients.ts",
        "cluster/redis_history.ts",
        "cluster/redis_community.ts",
      ];
      if (adapters.includes(file)) continue;
      assert.ok(!importsOf(file).includes("redis"), `${file} imports redis`);
    }
  }
});
