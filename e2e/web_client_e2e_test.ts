/**
 * The browser client end to end in real headless Chromium (Debian's
 * `chromium`, driven by playwright-core; no browser download): a browser
 * user and a TCP user chat both ways. A screenshot is saved to
 * `.test-output/web_client.png`.
 *
 * Skipped where Chromium is not installed; CI installs it and sets
 * MARQUEE_REQUIRE_CHROMIUM=1, which turns the skip into a failure.
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startServer, TestClient } from "../testing/chat_client.ts";
import { haveTool } from "../testing/tools.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = haveTool({
  name: "chromium",
  command: CHROMIUM,
  args: ["--version"],
  needed: "the browser test",
});

/** Debian's Chromium, headless, as root in a container. */
function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

Deno.test({
  name: "a browser user and a TCP user chat both ways, and the page escapes what it shows",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({}, { web: true });
    const { webPort } = await server.ready;
    const tcp = await TestClient.join(server.port);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${webPort}/`);
      const log = page.getByRole("log");
      await log.getByText("* user2 joined the chat", { exact: true }).waitFor();
      await tcp.client.readUntil((l) => l === "* user2 joined the chat");

      // Keyboard only: the input has focus on load; Enter sends.
      await page.keyboard.type("hello from chromium");
      await page.keyboard.press("Enter");
      assert.equal(
        await tcp.client.readUntil((l) => l.startsWith("[")),
        "[user2]: hello from chromium",
      );

      await tcp.client.send("hi browser <img src=x onerror=alert(1)>");
      const line = `[${tcp.name}]: hi browser <img src=x onerror=alert(1)>`;
      await log.getByText(line, { exact: true }).waitFor();
      assert.equal(await page.locator("#log img").count(), 0, "markup is shown, never run");

      await page.getByLabel("Message", { exact: true }).fill("/nick webuser");
      await page.getByRole("button", { name: "Send" }).click();
      await log.getByText("* user2 is now known as webuser", { exact: true }).waitFor();
      assert.equal(
        await tcp.client.readUntil((l) => l.includes("known as")),
        "* user2 is now known as webuser",
      );

      await Deno.mkdir(".test-output", { recursive: true });
      await page.screenshot({ path: ".test-output/web_client.png" });
      await page.close();
    } finally {
      await browser.close();
    }
    assert.equal(await tcp.client.readUntil((l) => l.includes("left")), "* webuser left the chat");
    await tcp.client.close();
    await server.stop();
  },
});

Deno.test({
  name: "a page from another origin cannot open the chat's WebSocket",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({}, { web: true, metrics: true });
    const { webPort } = await server.ready;
    const tcp = await TestClient.join(server.port);
    // Another site, on another local port: its page tries to join the chat.
    const evil = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () =>
        new Response(
          `<!doctype html><script>
          const ws = new WebSocket("ws://127.0.0.1:${webPort}/ws");
          ws.onopen = () => { ws.send("/nick intruder"); document.title = "opened"; };
          ws.onerror = () => { document.title = "refused"; };
        </script>`,
          { headers: { "content-type": "text/html" } },
        ),
    );
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${evil.addr.port}/`);
      await page.waitForFunction('document.title !== ""');
      assert.equal(await page.title(), "refused");
      await page.close();
    } finally {
      await browser.close();
      await evil.shutdown();
    }
    assert.deepEqual(await tcp.client.linesBeforeProbe(), [], "nobody joined");
    assert.equal(server.metrics!.connectionsAccepted, 1, "only the TCP user");
    await tcp.client.close();
    await server.stop();
  },
});

Deno.test({
  name: "the page shows the room's recent lines on joining and loads earlier ones above them",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({ floodRate: 0 }, { web: true, history: true });
    const { webPort } = await server.ready;
    const tcp = await TestClient.join(server.port);
    for (let i = 1; i <= 15; i++) await tcp.client.send(`old line ${i}`);
    await tcp.client.linesBeforeProbe();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${webPort}/`);
      const log = page.getByRole("log");
      await log.getByText("* end of recent", { exact: true }).waitFor();
      const texts = () => log.locator("p").allTextContents();
      const replayed = (await texts()).filter((t) => t.includes("old line"));
      assert.equal(replayed.length, 10);
      assert.match(replayed[0]!, /^\* \d\d:\d\d \[user1\]: old line 6$/);
      await page.getByRole("button", { name: "Load earlier messages" }).click();
      await log.getByText(/\[user1\]: old line 1$/).waitFor();
      const all = (await texts()).filter((t) => t.includes("old line"));
      assert.deepEqual(
        all.map((t) => Number(/old line (\d+)$/.exec(t)?.[1])),
        Array.from({ length: 15 }, (_, i) => i + 1),
        "the five earlier lines above the ten replayed, in order",
      );
      await page.getByRole("button", { name: "Load earlier messages" }).click();
      await log.getByText("* no earlier lines in lobby", { exact: true }).waitFor();
      assert.ok(await page.getByRole("button", { name: "Load earlier messages" }).isDisabled());
      await page.close();
    } finally {
      await browser.close();
    }
    await tcp.client.close();
    await server.stop();
  },
});
