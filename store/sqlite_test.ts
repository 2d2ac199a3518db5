import assert from "node:assert/strict";
import { openSqlite } from "./sqlite.ts";

// Another process holds the file's write lock for a moment: that is what a
// second worker opening the shared store meets while the first one writes.
const HOLDER = `
import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(Deno.args[0]);
db.exec("CREATE TABLE IF NOT EXISTS held (x); BEGIN EXCLUSIVE; INSERT INTO held VALUES (1)");
console.log("locked");
await new Promise((done) => setTimeout(done, 300));
db.exec("COMMIT");
db.close();
`;

Deno.test("a store opened while another process briefly holds the file waits for it instead of failing", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/shared.db`;
  const holder = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", HOLDER, path],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = holder.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /locked/);
    reader.releaseLock();
    const rows = openSqlite({
      path,
      what: "test store",
      version: 1,
      schema: "CREATE TABLE t (x)",
      build: (db) => {
        const n = db.prepare("SELECT count(*) AS n FROM held").get() as { n: number };
        db.close();
        return n.n;
      },
    });
    assert.equal(rows, 1, "it read the holder's committed row");
  } finally {
    await holder.stdout.cancel().catch(() => {});
    await holder.status;
    await Deno.remove(dir, { recursive: true });
  }
});
