/**
 * The browser client: one self-contained page, no build step, served at `/`
 * of `--http-port`. It speaks the same line protocol over a WebSocket at
 * `/ws`, so everything a TCP user can do (commands, rooms) works the same.
 *
 * It renders every line with `textContent`, never as HTML, so nothing a user
 * sends can inject markup. It is usable by keyboard alone: the input has
 * focus and a label, Enter sends, and the log is an ARIA live region that
 * screen readers announce.
 *
 * @module
 */

/** The page's HTML. */
export const WEB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Marquee chat</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: .5rem 1rem; border-bottom: 1px solid #8884; }
  h1 { font-size: 1.1rem; margin: 0; }
  #log { flex: 1; overflow-y: auto; padding: .5rem 1rem; font-family: ui-monospace, monospace; }
  #log p { margin: .15rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  #log .event { color: #3a7b3a; }
  #log .error { color: #b3261e; font-weight: 600; }
  #log .mine { opacity: .7; }
  form { display: flex; gap: .5rem; padding: .5rem 1rem; border-top: 1px solid #8884; }
  label { align-self: center; }
  input { flex: 1; font: inherit; padding: .4rem; }
  button { font: inherit; padding: .4rem 1rem; }
  :focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
</style>
</head>
<body>
<header><h1>Marquee chat</h1><p id="status" role="status">Connecting…</p>
  <button id="earlier" type="button">Load earlier messages</button></header>
<main id="log" role="log" aria-live="polite" aria-label="Chat messages" tabindex="0"></main>
<form id="form">
  <label for="line">Message</label>
  <input id="line" name="line" autocomplete="off" maxlength="4096" autofocus
    placeholder="Type a message or /help, then Enter">
  <button type="submit">Send</button>
</form>
<script type="module">
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const form = document.getElementById("form");
  const input = document.getElementById("line");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const earlier = document.getElementById("earlier");
  const socket = new WebSocket(scheme + location.host + "/ws");
  // A page of earlier lines, between "* history of ROOM:" and
  // "* end of history", goes above everything shown so far.
  let page = null;
  function line(text) {
    const p = document.createElement("p");
    p.textContent = text;
    p.className = text.startsWith("! ") ? "error" : text.startsWith("* ") ? "event" : "chat";
    return p;
  }
  function show(text, kind) {
    const p = line(text);
    if (kind) p.className = kind;
    log.append(p);
    log.scrollTop = log.scrollHeight;
  }
  earlier.addEventListener("click", () => {
    if (socket.readyState === WebSocket.OPEN) socket.send("/history 50 more");
  });
  function receive(text) {
    if (page !== null) {
      if (text === "* end of history") {
        log.prepend(...page);
        page = null;
      } else page.push(line(text));
      return;
    }
    if (text.startsWith("* history of ") && text.endsWith(":")) {
      page = [];
      return;
    }
    if (text.startsWith("* no earlier lines in ")) earlier.disabled = true;
    if (text.startsWith("* you are in ")) earlier.disabled = false;
    show(text);
  }
  socket.onopen = () => { status.textContent = "Connected"; };
  socket.onclose = () => { status.textContent = "Disconnected"; input.disabled = true; };
  socket.onmessage = (event) => {
    for (const text of String(event.data).split("\\n")) if (text !== "") receive(text);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (text.trim() === "" || socket.readyState !== WebSocket.OPEN) return;
    socket.send(text);
    show("> " + text, "mine");
    input.value = "";
    input.focus();
  });
</script>
</body>
</html>
`;

/** The base64 SHA-256 of the text between `open` and `close` in the page:
 * what a Content-Security-Policy hash source names. */
async function hashOf(open: string, close: string): Promise<string> {
  const start = WEB_PAGE.indexOf(open) + open.length;
  const text = WEB_PAGE.slice(start, WEB_PAGE.indexOf(close, start));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

/** The page's Content-Security-Policy: its one script and one style are
 * allowed by their hashes, nothing else runs or loads, and no other site
 * may frame it. */
export const WEB_PAGE_CSP: string = [
  "default-src 'none'",
  `script-src ${await hashOf('<script type="module">', "</script>")}`,
  `style-src ${await hashOf("<style>", "</style>")}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
