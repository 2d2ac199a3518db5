/**
 * Test helpers for accounts and moderation: a client under a chosen name,
 * one logged in to a registered name, and tests run over both stores.
 *
 * @module
 */

import { linkedUp, startServer, TestClient, type TestServer } from "./chat_client.ts";
import { FakeClock } from "./fake_clock.ts";
import { HAVE_REDIS, startRedis } from "./redis_server.ts";

/** The fake clock's start: any fixed time will do. */
export const START = 1_800_000_000_000;

/**
 * Registers `fn` as two tests: against a server keeping accounts and rooms
 * in SQLite (alone), and against one keeping them in a real redis-server
 * (linked), so the same behaviour is checked over both stores. The server
 * has flood control off and a fake clock.
 */
export function bothStores(
  name: string,
  accounts: (() => Promise<{ operators?: Map<string, string> }>) | undefined,
  fn: (server: TestServer, clock: FakeClock) => Promise<void>,
  options: { debug?: boolean } = {},
): void {
  for (const store of ["SQLite", "Redis"] as const) {
    Deno.test({
      name: `${store}: ${name}`,
      ignore: store === "Redis" && !HAVE_REDIS,
      fn: async () => {
        const redis = store === "Redis" ? await startRedis() : undefined;
        const clock = new FakeClock(START);
        const server = startServer({ floodRate: 0 }, {
          accounts: (await accounts?.()) ?? {},
          now: clock.now,
          redis: redis?.url,
          debug: options.debug,
        });
        try {
          if (redis) await linkedUp(server);
          await fn(server, clock);
        } finally {
          await server.stop();
          await redis?.stop();
        }
      },
    });
  }
}

/** A client that joined and took `name`. */
export async function as(server: TestServer, name: string): Promise<TestClient> {
  const { client } = await TestClient.join(server.port);
  await client.send(`/nick ${name}`);
  await client.readUntil((l) => l.endsWith(`is now known as ${name}`));
  return client;
}

/** A client logged in (registering first if `register`) as `name`. */
export async function registered(
  server: TestServer,
  name: string,
  password = "correct-horse",
): Promise<TestClient> {
  const client = await as(server, name);
  await client.send(`/register ${password}`);
  await client.readUntil((l) => l === `* you registered ${name} and are logged in`);
  return client;
}
