/**
 * Modules stay short enough to read at a glance: no source file over 400
 * lines (tests, e2e and the benchmark excepted). A file that grows past it
 * is split by what it does, not trimmed.
 */

import assert from "node:assert/strict";

const ROOT = new URL("./", import.meta.url);
const MAX_LINES = 400;
const FOLDERS = ["actors", "net", "chat", "cluster", "store", "cli", "app", "testing"];

/** The source files of `folder` and the folders inside it. */
function sourceFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(new URL(`${folder}/`, ROOT))) {
    if (entry.isDirectory) files.push(...sourceFiles(`${folder}/${entry.name}`));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      files.push(`${folder}/${entry.name}`);
    }
  }
  return files;
}

Deno.test("no source file is over 400 lines", () => {
  const files = ["main.ts", ...FOLDERS.flatMap(sourceFiles)];
  assert.ok(files.length > 80, `only ${files.length} files were found`);
  const long = files
    .map((file) => [file, lineCount(Deno.readTextFileSync(new URL(file, ROOT)))] as const)
    .filter(([, lines]) => lines > MAX_LINES);
  assert.deepEqual(long, [], `files over ${MAX_LINES} lines`);
});

/** Lines as `wc -l` counts them: a final newline ends a line, it starts none. */
function lineCount(text: string): number {
  const parts = text.split("\n").length;
  return text.endsWith("\n") ? parts - 1 : parts;
}
