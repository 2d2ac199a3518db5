/**
 * The browser client end to end in real headless Chromium (Debian's
 * `chromium`, driven by playwright-core; no browser download): a browser
 * users and a TCP user chat, rename, move rooms, whisper and reconnect.
 * It takes screenshots at desktop and phone widths; with
 * MARQUEE_UPDATE_SCREENSHOTS=1 it saves them to `docs/screenshots/`, else to
 * a temporary directory, so that a test run leaves the working tree as it
 * found it.
 *
 * Skipped where Chromium is not installed; CI installs it and sets
 * MARQUEE_REQUIRE_CHROMIUM=1, which turns the skip into a failure.
 */

import assert from "node:assert/strict";
import axe from "axe-core";
import { type Browser, chromium, type Page } from "playwright-core";
import { startServer, TEST_COST, TestClient } from "../testing/chat_client.ts";
import { ScryptPasswords } from "../store/passwords.ts";
import { as } from "../testing/people.ts";
import { haveTool } from "../testing/tools.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Where docs/ shows the screenshots (desktop and 375 px wide) from. */
const DOCS_SCREENSHOTS = new URL("../docs/screenshots", import.meta.url).pathname;

/** The directory this run saves its screenshots to, and how to clean up. */
async function screenshotDirectory(): Promise<{ path: string; done(): Promise<void> }> {
  if (Deno.env.get("MARQUEE_UPDATE_SCREENSHOTS") === "1") {
    await Deno.mkdir(DOCS_SCREENSHOTS, { recursive: true });
    return { path: DOCS_SCREENSHOTS, done: () => Promise.resolve() };
  }
  const path = await Deno.makeTempDir({ prefix: "marquee-screenshots-" });
  return { path, done: () => Deno.remove(path, { recursive: true }) };
}

/** Saves a screenshot of `page` as `name`.png and checks that it is a PNG. */
async function screenshot(page: Page, directory: string, name: string): Promise<void> {
  const path = `${directory}/${name}.png`;
  await page.screenshot({ path });
  const head = (await Deno.readFile(path)).subarray(0, 4);
  assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47], `${name}.png is a PNG`);
}
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

/** A page of the chat, and its log. */
async function openChat(browser: Browser, webPort: number, width = 1280) {
  const page = await browser.newPage({ viewport: { width, height: 800 } });
  await page.goto(`http://127.0.0.1:${webPort}/`);
  await page.locator("#me").filter({ hasText: /^user\d+$/ }).waitFor();
  return {
    page,
    log: page.getByRole("log"),
    me: (await page.locator("#me").textContent())! as string,
  };
}

/** Types a line into the page and sends it with Enter. */
async function type(page: Page, text: string): Promise<void> {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByLabel("Message", { exact: true }).press("Enter");
}

Deno.test({
  name:
    "two pages and a TCP user chat, rename, move rooms, whisper and reconnect; the page fits 375 px and is labelled",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const operators = new Map([[
      "root",
      await new ScryptPasswords(TEST_COST).hash("operator-pass"),
    ]]);
    const server = startServer({ floodRate: 0, maxLineBytes: 100 }, {
      web: true,
      accounts: { operators },
    });
    const { webPort } = await server.ready;
    const tcp = await TestClient.join(server.port);
    const browser = await launchChromium();
    const screenshots = await screenshotDirectory();
    try {
      const ann = await openChat(browser, webPort!);
      const ben = await openChat(browser, webPort!);
      // The header shows who and where you are; the side panel who is here.
      assert.equal(await ann.page.locator("#room").textContent(), "lobby");
      await ann.page.getByRole("complementary").getByRole("button", { name: `Message ${ben.me}` })
        .waitFor();

      await type(ann.page, "/nick ann");
      await ann.page.locator("#me").filter({ hasText: "ann" }).waitFor();
      await ben.log.locator("p.event").filter({ hasText: `${ann.me} is now known as ann` })
        .waitFor();
      await type(ann.page, "hello <b>everyone</b>");
      await ann.log.locator("p.say.mine").filter({ hasText: "ann (you): hello <b>everyone</b>" })
        .waitFor();
      await ben.log.locator("p.say").filter({ hasText: "ann: hello <b>everyone</b>" }).waitFor();
      assert.equal(await ben.page.locator("#log b").count(), 0, "markup is shown, never run");
      assert.equal(
        await tcp.client.readUntil((l) => l.startsWith("[")),
        "[ann]: hello <b>everyone</b>",
      );
      await tcp.client.send("hi from nc");
      await ann.log.locator("p.say").filter({ hasText: `${tcp.name}: hi from nc` }).waitFor();

      // A private message shows as one, with a reply button that fills the input.
      await tcp.client.send("/msg ann just for you");
      const whisper = ann.log.locator("p.private").filter({
        hasText: `private from ${tcp.name}: just for you`,
      });
      await whisper.waitFor();
      await whisper.getByRole("button", { name: `Reply to ${tcp.name}` }).click();
      assert.equal(
        await ann.page.getByLabel("Message", { exact: true }).inputValue(),
        `/msg ${tcp.name} `,
      );
      await ann.page.keyboard.type("got it");
      await ann.page.keyboard.press("Enter");
      assert.equal(
        await tcp.client.readUntil((l) => l.startsWith("[ann ->")),
        `[ann -> ${tcp.name}]: got it`,
      );

      // Accounts and moderation work from the page: the same commands.
      await type(ben.page, "/nick benjamin");
      await ben.page.locator("#me").filter({ hasText: "benjamin" }).waitFor();
      ben.me = "benjamin";
      await type(ben.page, "/register correct-horse");
      await ben.log.locator("p.info").filter({
        hasText: "you registered benjamin and are logged in",
      })
        .waitFor();
      await type(ann.page, "/nick benjamin");
      await ann.log.locator("p.error").filter({
        hasText: "benjamin is registered: /login benjamin PASSWORD if it is yours",
      }).waitFor();

      // Moving rooms by clicking one in the side panel.
      await type(ben.page, "/join games");
      await ben.page.locator("#room").filter({ hasText: "games" }).waitFor();
      await ann.page.getByRole("button", { name: /^Join games, 1 person$/ }).click();
      await ann.page.locator("#room").filter({ hasText: "games" }).waitFor();
      await ann.page.getByRole("complementary").getByRole("button", { name: `Message ${ben.me}` })
        .waitFor();
      await ben.log.locator("p.event").filter({ hasText: "ann joined the room" }).waitFor();

      // The room list follows moves the page cannot see (the server sends it
      // again within a second): the TCP user goes from the lobby to a room
      // of its own. Before, the list stayed stale until the next 30 s poll.
      await tcp.client.send("/join attic");
      const within = { timeout: 5000 };
      await ann.page.getByRole("button", { name: /^Join attic, 1 person$/ }).waitFor(within);
      // ann and ben opened games beside the lobby: they are in both.
      await ann.page.getByRole("button", { name: /^Show lobby, 2 people$/ }).waitFor(within);
      assert.equal(
        await ann.log.locator("p.info").filter({ hasText: "Rooms:" }).count(),
        0,
        "the list sent unasked goes to the panel, not the log",
      );

      // Byte-accurate limit from the server (100 bytes here): é is two bytes.
      const message = ann.page.getByLabel("Message", { exact: true });
      await message.fill("é".repeat(50));
      assert.equal(await ann.page.locator("#count").textContent(), "100 / 100 bytes");
      assert.equal(await ann.page.getByRole("button", { name: "Send" }).isDisabled(), false);
      await message.fill("é".repeat(51));
      assert.equal(await ann.page.locator("#count").textContent(), "102 / 100 bytes");
      assert.equal(await message.getAttribute("aria-invalid"), "true");
      assert.equal(await ann.page.getByRole("button", { name: "Send" }).isDisabled(), true);
      await message.fill("");

      // Scrolled up to read: new lines wait below a marker, and the title counts them.
      for (let i = 0; i < 60; i++) await tcp.client.send(`/msg ann filler ${i}`);
      await ann.log.locator("p.private").filter({ hasText: "filler 59" }).waitFor();
      await ann.page.evaluate('document.getElementById("log").scrollTop = 0');
      await tcp.client.send("/msg ann while you read");
      await ann.page.getByRole("button", { name: "1 new below" }).waitFor();
      // A private message to you: counted, and starred.
      assert.equal(await ann.page.title(), "* (1) Marquee");
      assert.equal(
        await ann.page.evaluate('document.getElementById("log").scrollTop'),
        0,
        "kept",
      );
      await ann.page.getByRole("button", { name: "1 new below" }).click();
      assert.equal(await ann.page.title(), "Marquee");

      // Disconnected (an operator's kill), the page says so, reconnects, and
      // takes its name and room back.
      await tcp.client.send("/oper root operator-pass");
      await tcp.client.readUntil((l) => l.startsWith("* you are a server operator"));
      await tcp.client.send("/kill ann testing reconnects");
      await ann.page.getByRole("status").filter({ hasText: /^Disconnected: reconnecting in 1 s$/ })
        .waitFor();
      await ann.page.getByRole("status").filter({ hasText: "Connected" }).waitFor();
      await ann.page.locator("#me").filter({ hasText: /^ann$/ }).waitFor();
      await ann.page.locator("#room").filter({ hasText: "games" }).waitFor();

      // Accessibility: named landmarks and controls, focus starts in the input, Tab reaches Send.
      const snapshot = await ann.page.locator("body").ariaSnapshot();
      for (
        const expected of [
          'log "Chat messages"',
          'textbox "Message"',
          'button "Send"',
          'complementary "People and rooms"',
          "status",
        ]
      ) {
        assert.ok(snapshot.includes(expected), `${expected} in\n${snapshot}`);
      }
      const unnamed = await ann.page.evaluate(`[...document.querySelectorAll("button, input")]
        .filter((e) => !e.hidden && !e.labels?.length &&
          (e.getAttribute("aria-label") ?? e.textContent ?? "").trim() === "").length`);
      assert.equal(unnamed, 0, "every control has a name");
      const fresh = await openChat(browser, webPort!);
      assert.equal(await fresh.page.evaluate("document.activeElement?.id"), "line");
      await fresh.page.keyboard.press("Tab");
      assert.equal(await fresh.page.evaluate("document.activeElement?.id"), "send");

      await screenshot(ann.page, screenshots.path, "desktop");
      const small = await openChat(browser, webPort!, 375);
      await type(small.page, "/join games");
      await small.page.locator("#room").filter({ hasText: "games" }).waitFor();
      await type(small.page, "a narrow screen still has room to chat");
      const sendBox = await small.page.getByRole("button", { name: "Send" }).boundingBox();
      assert.ok(sendBox && sendBox.x + sendBox.width <= 375, "Send is on screen");
      assert.ok(
        await small.page.evaluate("document.documentElement.scrollWidth <= 375"),
        "no sideways scroll",
      );
      await screenshot(small.page, screenshots.path, "mobile");
      await small.page.getByRole("button", { name: "People and rooms" }).click();
      await small.page.getByRole("complementary").getByRole("button", { name: /^Show lobby, / })
        .waitFor();
      await screenshot(small.page, screenshots.path, "mobile-panel");
    } finally {
      await browser.close();
      await screenshots.done();
    }
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
      await log.locator("p.divider").filter({ hasText: "now" }).waitFor();
      const texts = () => log.locator("p").allTextContents();
      const replayed = (await texts()).filter((t) => t.includes("old line"));
      assert.equal(replayed.length, 10);
      assert.match(replayed[0]!, /^\d\d:\d\duser1: old line 6$/);
      assert.equal(await log.locator("p.past").count(), 10, "shown as earlier lines");
      await page.getByRole("button", { name: "Load earlier messages" }).click();
      await log.getByText(/user1: old line 1$/).waitFor();
      const all = (await texts()).filter((t) => t.includes("old line"));
      assert.deepEqual(
        all.map((t) => Number(/old line (\d+)$/.exec(t)?.[1])),
        Array.from({ length: 15 }, (_, i) => i + 1),
        "the five earlier lines above the ten replayed, in order",
      );
      await page.getByRole("button", { name: "Load earlier messages" }).click();
      await log.locator("p.info").filter({ hasText: "no earlier lines in lobby" }).waitFor();
      assert.ok(await page.getByRole("button", { name: "Load earlier messages" }).isDisabled());
      // Someone else's lines under a name this page takes later are not "(you)".
      const first = await TestClient.join(server.port);
      await first.client.send("/nick alice");
      await first.client.readUntil((l) => l.endsWith("is now known as alice"));
      await first.client.send("/join den");
      await first.client.readUntil((l) => l.startsWith("* you are in den"));
      await first.client.send("said by the first alice");
      await first.client.linesBeforeProbe();
      await first.client.close();
      await type(page, "/nick alice");
      await page.locator("#me").filter({ hasText: /^alice$/ }).waitFor();
      await type(page, "/join den");
      const theirs = log.locator("p.past").filter({ hasText: "said by the first alice" });
      await theirs.waitFor();
      assert.equal(await theirs.locator(".from").textContent(), "alice", "not marked (you)");
      await page.close();
    } finally {
      await browser.close();
    }
    await tcp.client.close();
    await server.stop();
  },
});

/** The browser's \`getComputedStyle\`, as a test running in the page sees it. */
interface Styles {
  getComputedStyle(node: unknown): { color: string };
}

/** What axe-core finds on `page` that is serious or critical: rule and
 * where. */
async function axeFindings(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not
  // govern: the page itself still loads nothing from elsewhere.
  await page.evaluate(axe.source);
  const found = await page.evaluate(`axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  }).then((r) => r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`);
  return found as string[];
}

Deno.test({
  name:
    "the page links addresses safely, marks lines that name you, colours names, and passes axe-core in light and dark at 375, 1280 and 1440 px",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({ floodRate: 0 }, { web: true, history: true });
    const { webPort } = await server.ready;
    const tcp = { client: await as(server, "bob") };
    await tcp.client.send("an earlier line, faded as history");
    await tcp.client.linesBeforeProbe();
    const browser = await launchChromium();
    const screenshots = await screenshotDirectory();
    try {
      const ann = await openChat(browser, webPort!);
      await type(ann.page, "/nick ann");
      await ann.page.locator("#me").filter({ hasText: "ann" }).waitFor();
      await tcp.client.send(
        "see https://example.com/a?b=1&c=<2>, javascript:alert(1) and (http://127.0.0.1:9/x).",
      );
      await tcp.client.send("hey ANN, look");
      await tcp.client.send("annie is someone else");
      await tcp.client.send("/me waves at ann");
      const log = ann.log;
      await log.locator("p.action").filter({ hasText: "waves at ann" }).waitFor();

      // Addresses: http and https only, the text kept as sent, never markup.
      const links = log.locator("p.say a");
      assert.deepEqual(await links.allTextContents(), [
        "https://example.com/a?b=1&c=",
        "http://127.0.0.1:9/x",
      ]);
      for (const link of await links.all()) {
        assert.equal(await link.getAttribute("rel"), "noopener noreferrer");
        assert.equal(await link.getAttribute("target"), "_blank");
      }
      assert.equal(await links.first().getAttribute("href"), "https://example.com/a?b=1&c=");
      assert.match(
        (await log.locator("p.say").filter({ hasText: "javascript:" }).textContent())!,
        /bob: see https:\/\/example\.com\/a\?b=1&c=<2>, javascript:alert\(1\) and \(http:\/\/127\.0\.0\.1:9\/x\)\.$/,
      );

      // Lines that name you stand out; a longer name that contains yours does not.
      assert.equal(await log.locator("p.mention").count(), 2);
      assert.equal(await log.locator("p.mention").filter({ hasText: "hey ANN, look" }).count(), 1);
      assert.equal(await log.locator("p.mention").filter({ hasText: "annie" }).count(), 0);

      // Lines one sender said in one minute are a group: the name and time
      // shown once (the others' left to screen readers).
      const rows = await ann.page.evaluate(
        `[...document.querySelectorAll("#log p.say:not(.past)")].filter((p) => p.dataset.from === "bob")
          .map((p) => [p.dataset.minute, p.classList.contains("cont"), p.textContent])`,
      ) as [string, boolean, string][];
      assert.equal(rows.length, 3);
      assert.equal(rows[0]![1], false, "a group's first line shows its name");
      for (let i = 1; i < rows.length; i++) {
        assert.equal(rows[i]![1], rows[i]![0] === rows[i - 1]![0], rows[i]![2]);
        assert.match(rows[i]![2], /^\d\d:\d\dbob: /, "still read out whole");
      }

      // Each name its own colour, the same for the same name.
      const colour = (name: string) =>
        log.locator("p.say .from").filter({ hasText: new RegExp(`^${name}`) }).first()
          .evaluate((n) => (globalThis as unknown as Styles).getComputedStyle(n).color);
      await type(ann.page, "my own line");
      await log.locator("p.say.mine").waitFor();
      assert.notEqual(await colour("bob"), await colour("ann"));

      // Light and dark, desktop and phone: no serious or critical finding.
      for (const scheme of ["light", "dark"] as const) {
        await ann.page.emulateMedia({ colorScheme: scheme });
        const background = await ann.page.evaluate(
          "getComputedStyle(document.body).backgroundColor",
        );
        assert.equal(background, scheme === "dark" ? "rgb(22, 23, 26)" : "rgb(255, 255, 255)");
        for (const width of [1440, 1280, 375]) {
          await ann.page.setViewportSize({ width, height: 800 });
          assert.deepEqual(await axeFindings(ann.page), [], `${scheme} at ${width} px`);
          await screenshot(ann.page, screenshots.path, `${scheme}-${width}`);
        }
      }
    } finally {
      await browser.close();
      await screenshots.done();
      await tcp.client.close();
      await server.stop();
    }
  },
});

/** Stands in for the browser's Notification (headless Chromium shows
 * none) and for a hidden tab: records what the page asks for. */
const NOTIFICATION_STUB = `
  window.shown = [];
  window.asked = 0;
  class Notification {
    static permission = "default";
    static requestPermission() { window.asked++; Notification.permission = "granted"; return Promise.resolve("granted"); }
    constructor(title, options) { window.shown.push(title + ": " + options.body); }
    close() {}
  }
  window.Notification = Notification;
  let hidden = false;
  Object.defineProperty(document, "hidden", { get: () => hidden });
  window.hide = (value) => { hidden = value; document.dispatchEvent(new Event("visibilitychange")); };
`;

Deno.test({
  name:
    "a line naming you or a private message raises a desktop notification while the page is hidden, once allowed with a click, and stars the title",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({ floodRate: 0 }, { web: true });
    const { webPort } = await server.ready;
    const tcp = { client: await as(server, "bob") };
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.addInitScript(NOTIFICATION_STUB);
      await page.goto(`http://127.0.0.1:${webPort}/`);
      await page.locator("#me").filter({ hasText: /^user\d+$/ }).waitFor();
      await type(page, "/nick ann");
      await page.locator("#me").filter({ hasText: "ann" }).waitFor();

      // Nothing is asked until the reader clicks.
      assert.equal(await page.evaluate("window.asked"), 0);
      await page.getByRole("button", { name: "Turn on notifications" }).click();
      await page.getByRole("button", { name: "Turn on notifications" }).waitFor({
        state: "hidden",
      });
      assert.equal(await page.evaluate("window.asked"), 1);

      await page.evaluate("window.hide(true)");
      await tcp.client.send("just chatting");
      await tcp.client.send("ann, are you there?");
      await tcp.client.send("/msg ann psst");
      const log = page.getByRole("log");
      await log.locator("p.private").waitFor();
      assert.deepEqual(await page.evaluate("window.shown"), [
        "bob in lobby: ann, are you there?",
        "bob (private): psst",
      ]);
      assert.equal(await page.title(), "* (3) Marquee");

      // Looking again clears the count; a line while looked at notifies nobody.
      await page.evaluate("window.hide(false)");
      assert.equal(await page.title(), "Marquee");
      await tcp.client.send("ann: now you see it");
      await log.locator("p.mention").filter({ hasText: "now you see it" }).waitFor();
      assert.equal((await page.evaluate("window.shown") as string[]).length, 2);
    } finally {
      await browser.close();
      await tcp.client.close();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "the page registers, logs out and logs in through a dialog with a password field, and never shows the password",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({ floodRate: 0 }, { web: true, accounts: {} });
    const { webPort } = await server.ready;
    const browser = await launchChromium();
    try {
      const { page, log } = await openChat(browser, webPort!);
      const dialog = page.getByRole("dialog", { name: "Log in or register" });
      const open = async () => {
        await page.getByRole("button", { name: "Log in", exact: true }).click();
        await dialog.waitFor();
      };
      await open();
      assert.equal(await dialog.getByLabel("Password").getAttribute("type"), "password");
      assert.deepEqual(await axeFindings(page), [], "with the dialog open");
      await dialog.getByLabel("Name").fill("carol");
      await dialog.getByLabel("Password").fill("correct-horse-1");
      await dialog.getByRole("button", { name: "Register" }).click();
      await log.locator("p.info").filter({ hasText: "you registered carol and are logged in" })
        .waitFor();
      assert.equal(await page.locator("#me").textContent(), "carol");

      await page.getByRole("button", { name: "Log out" }).click();
      await log.locator("p.info").filter({ hasText: /^\d\d:\d\dyou are logged out/ }).waitFor();
      await open();
      await dialog.getByLabel("Name").fill("carol");
      await dialog.getByLabel("Password").fill("wrong-password");
      await dialog.getByRole("button", { name: "Log in", exact: true }).click();
      await log.locator("p.error").last().waitFor();
      await open();
      assert.equal(await dialog.getByLabel("Password").inputValue(), "", "never kept");
      await dialog.getByLabel("Name").fill("carol");
      await dialog.getByLabel("Password").fill("correct-horse-1");
      await dialog.getByLabel("Password").press("Enter");
      await log.locator("p.info").filter({ hasText: "you are logged in as carol" }).waitFor();
      await page.getByRole("button", { name: "Log out" }).waitFor();

      const text = (await log.allTextContents()).join("\n");
      for (const secret of ["correct-horse-1", "wrong-password"]) {
        assert.ok(!text.includes(secret), `the log shows no password:\n${text}`);
      }
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "Tab completes the name being typed from the room's people and goes through those that fit; with nothing to complete it moves the focus; ? asks who someone is",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({ floodRate: 0 }, { web: true });
    const { webPort } = await server.ready;
    const bob = await as(server, "bob");
    const bobby = await as(server, "bobby");
    const browser = await launchChromium();
    try {
      const { page, log } = await openChat(browser, webPort!);
      const side = page.getByRole("complementary");
      await side.getByRole("button", { name: "Message bobby" }).waitFor();
      const message = page.getByLabel("Message", { exact: true });
      await message.pressSequentially("bo");
      await message.press("Tab");
      assert.equal(await message.inputValue(), "bob: ");
      await message.press("Tab");
      assert.equal(await message.inputValue(), "bobby: ");
      await message.press("Tab");
      assert.equal(await message.inputValue(), "bob: ");
      await message.pressSequentially("hi");
      assert.equal(await message.inputValue(), "bob: hi");
      await message.fill("");
      await message.pressSequentially("hello BOBB");
      await message.press("Tab");
      assert.equal(await message.inputValue(), "hello bobby ");
      await message.fill("");
      await message.press("Tab");
      assert.notEqual(await page.evaluate("document.activeElement.id"), "line", "focus moved on");

      // The lists the page asks for itself stay out of the log; one typed does not.
      await type(page, "/who");
      await log.locator("p.info").filter({ hasText: /^\d\d:\d\dIn lobby: / }).waitFor();
      await side.getByRole("button", { name: "Who is bob", exact: true }).click();
      await log.locator("p.info").filter({ hasText: /^\d\d:\d\dbob: / }).waitFor();
    } finally {
      await browser.close();
      await Promise.all([bob.close(), bobby.close()]);
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "the owner of a room has mute, kick and ban on the others in its member list, and they work; someone without rank has none",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({ floodRate: 0 }, { web: true, accounts: {} });
    const { webPort } = await server.ready;
    const { client: dave, name: daveName } = await TestClient.join(server.port);
    const browser = await launchChromium();
    try {
      const owner = await openChat(browser, webPort!);
      const guest = await openChat(browser, webPort!);
      await type(owner.page, "/nick carol");
      await owner.page.locator("#me").filter({ hasText: "carol" }).waitFor();
      await type(owner.page, "/register correct-horse-1");
      await owner.log.locator("p.info").filter({ hasText: "you registered carol" }).waitFor();
      await type(owner.page, "/join den");
      await owner.page.locator("#room").filter({ hasText: "den" }).waitFor();
      await type(guest.page, "/join den");
      await guest.page.locator("#room").filter({ hasText: "den" }).waitFor();
      await dave.send("/join den");
      await dave.readUntil((l) => l.startsWith("* you are in den"));

      const side = owner.page.getByRole("complementary");
      await side.getByRole("button", { name: `Kick ${daveName}` }).waitFor();
      await side.getByRole("button", { name: "You, carol, op" }).waitFor();
      assert.equal(
        await side.getByRole("button", { name: "Kick carol" }).count(),
        0,
        "not yourself",
      );
      const guestSide = guest.page.getByRole("complementary");
      await guestSide.getByRole("button", { name: "Message carol, op" }).waitFor();
      assert.equal(await guestSide.getByRole("button", { name: /^(Kick|Ban|Mute) / }).count(), 0);

      await side.getByRole("button", { name: `Mute ${daveName} for 10 minutes` }).click();
      assert.match(await dave.readUntil((l) => l.startsWith("! you are muted")), /in den/);
      await side.getByRole("button", { name: `Kick ${daveName}` }).click();
      assert.match(
        await dave.readUntil((l) => l.startsWith("! you were kicked")),
        /from den by carol/,
      );
      await side.getByRole("button", { name: `Kick ${daveName}` }).waitFor({ state: "detached" });
    } finally {
      await browser.close();
      await dave.close();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "private messages are conversations of their own: listed with unread counts, opened to show only their lines, and what is typed there goes to that person",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({ floodRate: 0 }, { web: true });
    const { webPort } = await server.ready;
    const bob = await as(server, "bob");
    const browser = await launchChromium();
    try {
      const { page, log } = await openChat(browser, webPort!);
      await type(page, "/nick ann");
      await page.locator("#me").filter({ hasText: "ann" }).waitFor();
      await bob.send("hello room");
      await bob.send("/msg ann psst");
      await bob.send("/msg ann are you there?");
      const side = page.getByRole("complementary");
      const talk = side.getByRole("button", { name: "Conversation with bob, 2 unread" });
      await talk.waitFor();
      await talk.click();
      await page.getByText("Private conversation with bob").waitFor();
      await side.getByRole("button", { name: "Conversation with bob", exact: true }).waitFor();
      const visible = async () =>
        (await log.locator("p:visible").allTextContents()).map((t) => t.replace(/^\d\d:\d\d/, ""));
      assert.deepEqual(await visible(), [
        "private from bob: psstReply",
        "private from bob: are you there?Reply",
      ]);
      await type(page, "yes, here");
      assert.equal(await bob.readUntil((l) => l.startsWith("[ann ->")), "[ann -> bob]: yes, here");
      await log.locator("p.private.mine").filter({ hasText: "private to bob: yes, here" })
        .waitFor();

      await page.getByRole("button", { name: "Back to the room" }).click();
      await log.locator("p.say").filter({ hasText: "bob: hello room" }).waitFor({
        state: "visible",
      });
      await type(page, "back in the room");
      assert.equal(await bob.readUntil((l) => l.startsWith("[ann]")), "[ann]: back in the room");
      assert.deepEqual(await axeFindings(page), []);
    } finally {
      await browser.close();
      await bob.close();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "the page follows several rooms at once, each with unread and mention counts, shown one at a time with its own lines, people and history",
  ignore: !HAVE_CHROMIUM,
  fn: async () => {
    const server = startServer({ floodRate: 0 }, { web: true, history: true });
    const { webPort } = await server.ready;
    const bob = await as(server, "bob");
    const carol = await as(server, "carol");
    const dave = await as(server, "dave");
    await carol.send("/join games");
    await carol.readUntil((l) => l.startsWith("* you are in games"));
    await dave.send("/join den");
    await dave.readUntil((l) => l.startsWith("* you are in den"));
    await carol.send("an old games line");
    await carol.linesBeforeProbe();
    const browser = await launchChromium();
    try {
      const { page, log } = await openChat(browser, webPort!);
      await type(page, "/nick ann");
      await page.locator("#me").filter({ hasText: "ann" }).waitFor();
      const side = page.getByRole("complementary");
      const shown = async () =>
        (await log.locator("p.say:visible").allTextContents()).map((t) =>
          t.replace(/^\d\d:\d\d/, "")
        );

      // Opened rooms are listed; the one shown has its own lines and people.
      await type(page, "/join games");
      await page.locator("#room").filter({ hasText: "games" }).waitFor();
      await log.locator("p.past").filter({ hasText: "an old games line" }).waitFor();
      await side.getByRole("button", { name: "Message carol" }).waitFor();
      await side.getByRole("button", { name: "Join den, 1 person" }).click();
      await page.locator("#room").filter({ hasText: "den" }).waitFor();
      await side.getByRole("button", { name: "Message dave" }).waitFor();
      assert.equal(await side.getByRole("button", { name: "Message carol" }).count(), 0);
      assert.deepEqual(
        (await page.locator("#joined button").allTextContents()).filter((t) => t !== "leave"),
        ["lobby", "games", "den"],
      );

      // Lines in rooms not shown are counted there, and those naming you apart.
      await carol.send("hi games");
      await carol.send("ann, look here");
      await bob.send("hello lobby");
      await side.getByRole("button", { name: "Show games, 2 unread, 1 naming you" }).waitFor();
      await side.getByRole("button", { name: "Show lobby, 1 unread" }).waitFor();
      assert.deepEqual(await shown(), [], "nothing of games or the lobby in den");
      await type(page, "in den only");
      assert.equal(await dave.readUntil((l) => l.startsWith("[ann]")), "[ann]: in den only");
      assert.deepEqual(await shown(), ["ann (you): in den only"]);

      await side.getByRole("button", { name: "Show games, 2 unread, 1 naming you" }).click();
      await page.locator("#room").filter({ hasText: "games" }).waitFor();
      await side.getByRole("button", { name: "Show games", exact: true }).waitFor();
      assert.deepEqual(await shown(), [
        "carol: an old games line",
        "carol: hi games",
        "carol: ann, look here", // grouped: the name is there for screen readers
      ]);
      // Someone moving between two of your other rooms does not show here.
      await bob.send("/join den");
      await side.getByRole("button", { name: "Show den, 3 people" }).waitFor();
      await side.getByRole("button", { name: "Message carol" }).waitFor();
      assert.equal(await side.getByRole("button", { name: "Message bob" }).count(), 0);
      // The member list follows moves in the room shown, and only there.
      await dave.send("/join attic");
      await carol.send("/join attic");
      await side.getByRole("button", { name: "Message carol" }).waitFor({ state: "detached" });
      await page.getByRole("button", { name: "Load earlier messages" }).click();
      await log.locator("p.info").filter({ hasText: "no earlier lines in games" }).waitFor();
      assert.equal(await log.locator("p.say").filter({ hasText: "an old games line" }).count(), 1);

      // Leaving the room shown shows another of yours.
      await side.getByRole("button", { name: "Leave games" }).click();
      // Out of the list of yours, and (empty now) out of the rooms.
      await side.getByRole("button", { name: /^Show games/ }).first()
        .waitFor({ state: "detached" });
      await page.locator("#room").filter({ hasNotText: "games" }).waitFor();
      assert.deepEqual(await axeFindings(page), []);
    } finally {
      await browser.close();
      await Promise.all([bob.close(), carol.close(), dave.close()]);
      await server.stop();
    }
  },
});
