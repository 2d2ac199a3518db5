/**
 * Opening a SQLite file the way every store here does: WAL mode (readers
 * never wait for the writer, and a crash loses no committed transaction),
 * `synchronous = NORMAL` (safe with WAL, far fewer fsyncs), and a schema
 * versioned in `PRAGMA user_version`, created on first use and refused when
 * a newer Marquee wrote it; a damaged file is refused at open. Failures are
 * one-line errors naming the file.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** How to open one store's file. */
export interface SqliteFile<T> {
  path: string;
  /** What the file holds, for the error message ("history store"). */
  what: string;
  /** The schema version this code writes. */
  version: number;
  /** The statements that create that schema in an empty file. */
  schema: string;
  /** The statements that bring a file of an older version up to the next
   * one, by the version they start from. */
  upgrades?: Readonly<Record<number, string>>;
  /** Builds the store on the open database (may read it). */
  build: (db: DatabaseSync) => T;
}

/**
 * Opens (creating if needed) a store's database; throws an `Error` with a
 * one-line message if it cannot.
 *
 * @example
 * ```ts
 * import { openSqlite } from "./sqlite.ts";
 * const db = openSqlite({ path: ":memory:", what: "test store", version: 1, schema: "CREATE TABLE t (x)", build: (db) => db });
 * db.close();
 * ```
 */
export function openSqlite<T>(file: SqliteFile<T>): T {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file.path);
    // Workers of one process share the file: every statement, the first
    // included, waits for another's short transaction rather than failing
    // at once ("database is locked").
    db.exec("PRAGMA busy_timeout = 2000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    checkIntegrity(db);
    migrate(db, file.version, file.schema, file.upgrades ?? {});
    return file.build(db);
  } catch (error) {
    db?.close();
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(`Cannot open the ${file.what} ${file.path}: ${why}`);
  }
}

/** Refuses a damaged file at once (`PRAGMA quick_check`), rather than
 * failing some reads and writes later, one user at a time. */
function checkIntegrity(db: DatabaseSync): void {
  const rows = db.prepare("PRAGMA quick_check").all() as { quick_check: string }[];
  const first = rows[0]?.quick_check ?? "no answer";
  if (first !== "ok") throw new Error(`the file is damaged (${first.split("\n")[0]})`);
}

/** Brings an empty file to `version`, an older one up step by step;
 * refuses a newer one. */
function migrate(
  db: DatabaseSync,
  version: number,
  schema: string,
  upgrades: Readonly<Record<number, string>>,
): void {
  const found = (db.prepare("PRAGMA user_version").get() as { user_version: number })
    .user_version;
  if (found > version) {
    throw new Error(`written by a newer version of Marquee (schema ${found})`);
  }
  if (found === 0) return db.exec(`${schema}; PRAGMA user_version = ${version};`);
  for (let from = found; from < version; from++) {
    const step = upgrades[from];
    if (step === undefined) throw new Error(`cannot upgrade schema ${from}`);
    // IMMEDIATE takes the write lock first, so two openers wait in turn
    // instead of both reading and one failing to write.
    db.exec(`BEGIN IMMEDIATE; ${step}; PRAGMA user_version = ${from + 1}; COMMIT;`);
  }
}
