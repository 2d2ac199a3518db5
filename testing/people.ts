/**
 * Test helpers for accounts and moderation: a client under a chosen name,
 * and one logged in to a registered name.
 *
 * @module
 */

import { TestClient, type TestServer } from "./chat_client.ts";

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
