/**
 * What the kernel knows about our test sockets, read from /proc (through
 * `cat`: Deno treats /proc as special): bytes a socket has received but
 * not read, and how many resets the machine has sent. Lets a test make
 * sure a close really is a reset (RST), not a normal close (FIN).
 *
 * @module
 */

import { pollUntil } from "./within.ts";

async function readProc(path: string): Promise<string> {
  const output = await new Deno.Command("cat", { args: [path], stdout: "piped" }).output();
  return new TextDecoder().decode(output.stdout);
}

const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, "0");

/** Bytes received and not yet read by the established IPv4 socket bound to
 * `localPort` (and connected to `remotePort`, when given). */
export async function unreadBytes(localPort: number, remotePort?: number): Promise<number> {
  for (const line of (await readProc("/proc/net/tcp")).split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const remoteMatches = remotePort === undefined || fields[2]?.endsWith(`:${hex(remotePort)}`);
    if (fields[1]?.endsWith(`:${hex(localPort)}`) && remoteMatches && fields[3] === "01") {
      return parseInt(fields[4]?.split(":")[1] ?? "0", 16);
    }
  }
  return 0;
}

/** The machine's count of TCP resets sent (`OutRsts` in /proc/net/snmp). */
export async function resetsSent(): Promise<number> {
  const rows = (await readProc("/proc/net/snmp")).split("\n").filter((l) => l.startsWith("Tcp:"));
  const names = rows[0]?.split(/\s+/) ?? [];
  const values = rows[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf("OutRsts")]);
}

/**
 * Closes `conn` with a reset: waits (by polling the kernel, up to 5 s)
 * until the socket holds unread bytes, which makes the kernel answer the
 * close with RST, then closes and checks that a reset went out.
 */
export async function closeWithReset(conn: Deno.TcpConn): Promise<void> {
  const port = (conn.localAddr as Deno.NetAddr).port;
  await pollUntil(
    "the socket never held unread data",
    async () => (await unreadBytes(port)) > 0,
  );
  const before = await resetsSent();
  conn.close();
  if ((await resetsSent()) <= before) throw new Error("The close sent no reset");
}
