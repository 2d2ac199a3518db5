/**
 * The project's own source files, for the tests that read the tree
 * (layering, sizes): tests left out.
 *
 * @module
 */

/** The repository's root. */
export const ROOT = new URL("../", import.meta.url);

/** The source files of `folder` and the folders inside it, relative to the
 * root, tests left out. */
export function sourceFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(new URL(`${folder}/`, ROOT))) {
    if (entry.isDirectory) files.push(...sourceFiles(`${folder}/${entry.name}`));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      files.push(`${folder}/${entry.name}`);
    }
  }
  return files;
}
