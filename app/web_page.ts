/**
 * The browser client: one self-contained page, no build step, served at `/`
 * of `--http-port`. It sends what the user types as lines over a WebSocket
 * at `/ws` (so every command works as over TCP) and asks for the
 * `marquee.json` subprotocol, so what comes back are events with fields
 * (`chat/wire_events.ts`): the page renders from data and keeps its header
 * (your name, your room, the topic) and side panel (the people in your room,
 * the rooms) current from the same events.
 *
 * It renders everything with `textContent`, never as HTML, so nothing a
 * user sends can inject markup. It is usable by keyboard alone: the input
 * has focus and a label, Enter sends, the log is an ARIA live region, and
 * every button has a name. It reconnects with backoff, keeps your scroll
 * position while you read older lines, counts bytes as the server does,
 * and fits a 375 px screen (the side panel folds behind a button).
 *
 * @module
 */

/** The page's HTML. */
export const WEB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Marquee</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; --line: #8884; --event: #3a7b3a; --error: #b3261e; --accent: #1a73e8; }
  * { box-sizing: border-box; }
  body { margin: 0; display: flex; flex-direction: column; height: 100vh; height: 100dvh; }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
  h1 { font-size: 1.1rem; margin: 0; }
  header p { margin: 0; }
  #topic { flex-basis: 100%; font-style: italic; overflow-wrap: anywhere; }
  #topic:empty { display: none; }
  #status { margin-left: auto; font-size: .9rem; }
  #status.down { color: var(--error); font-weight: 600; }
  #panel-toggle { display: none; }
  #body { flex: 1; display: flex; min-height: 0; }
  main { flex: 1; display: flex; flex-direction: column; min-width: 0; position: relative; }
  #log { flex: 1; overflow-y: auto; padding: .5rem 1rem; }
  #log p { margin: .2rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  #log time { color: GrayText; font-size: .8rem; margin-right: .4rem; font-variant-numeric: tabular-nums; }
  #log .from { font-weight: 600; }
  #log .event, #log .info { color: var(--event); }
  #log .error { color: var(--error); font-weight: 600; }
  #log .mine .from { color: var(--accent); }
  #log .private { border-left: 3px solid var(--accent); padding-left: .4rem; }
  #log .past { opacity: .75; }
  #log .divider { text-align: center; font-size: .8rem; color: GrayText; border-top: 1px solid var(--line); }
  #log .reply { margin-left: .5rem; font-size: .8rem; padding: 0 .4rem; }
  #earlier { align-self: center; margin: .3rem; }
  #newer { position: absolute; bottom: .5rem; left: 50%; transform: translateX(-50%); border-radius: 1rem; padding: .3rem 1rem; }
  aside { width: 14rem; border-left: 1px solid var(--line); padding: .5rem 1rem; overflow-y: auto; }
  aside h2 { font-size: .95rem; margin: .5rem 0 .25rem; }
  aside ul { list-style: none; margin: 0; padding: 0; }
  aside li button { width: 100%; text-align: left; background: none; border: 0; padding: .2rem .3rem; font: inherit; cursor: pointer; color: inherit; }
  aside li button:hover { background: #8882; }
  aside li.current button { font-weight: 600; }
  form { display: flex; align-items: center; gap: .5rem; padding: .5rem 1rem; border-top: 1px solid var(--line); }
  input { flex: 1; min-width: 0; font: inherit; padding: .4rem; }
  input[aria-invalid="true"] { outline: 2px solid var(--error); }
  #count { font-size: .8rem; color: GrayText; font-variant-numeric: tabular-nums; }
  #count.over { color: var(--error); font-weight: 600; }
  button { font: inherit; padding: .4rem 1rem; }
  :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  @media (max-width: 640px) {
    header { padding: .4rem .6rem; }
    #panel-toggle { display: inline-block; padding: .2rem .6rem; }
    aside { display: none; position: absolute; right: 0; top: 0; bottom: 0; width: 80%; max-width: 18rem; background: Canvas; z-index: 1; box-shadow: -4px 0 12px #0004; }
    aside.open { display: block; }
    #body { position: relative; }
    form { padding: .4rem .6rem; }
    form label { display: none; }
    button { padding: .4rem .7rem; }
  }
</style>
</head>
<body>
<header>
  <h1>Marquee</h1>
  <p id="whoami">You are <strong id="me">…</strong> in <strong id="room">…</strong></p>
  <p id="status" role="status">Connecting…</p>
  <button id="panel-toggle" type="button" aria-expanded="false" aria-controls="side">People and rooms</button>
  <p id="topic" aria-label="Topic"></p>
</header>
<div id="body">
  <main>
    <button id="earlier" type="button">Load earlier messages</button>
    <div id="log" role="log" aria-label="Chat messages" tabindex="0"></div>
    <button id="newer" type="button" hidden>New messages below</button>
  </main>
  <aside id="side" aria-label="People and rooms">
    <h2 id="people-title">People here</h2>
    <ul id="people" aria-labelledby="people-title"></ul>
    <h2 id="rooms-title">Rooms</h2>
    <ul id="rooms" aria-labelledby="rooms-title"></ul>
  </aside>
</div>
<form id="form">
  <label for="line">Message</label>
  <input id="line" name="line" autocomplete="off" autofocus aria-describedby="count"
    placeholder="Message, or /help">
  <span id="count"></span>
  <button id="send" type="submit">Send</button>
  <button id="reconnect" type="button" hidden>Reconnect now</button>
</form>
<script type="module">
  const $ = (id) => document.getElementById(id);
  const log = $("log"), input = $("line"), status = $("status"), count = $("count");
  const send = $("send"), earlier = $("earlier"), newer = $("newer"), reconnect = $("reconnect");
  const side = $("side"), toggle = $("panel-toggle");
  const encoder = new TextEncoder();
  const state = { me: "", room: "lobby", people: [], maxLineBytes: 4096, unread: 0, unseen: 0 };
  // Replies the page asked for itself (to fill the side panel): not shown.
  const quiet = { who: 0, rooms: 0 };
  let socket = null, retries = 0, retryTimer = 0, history = null, wanted = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function clock(event) {
    if (event.at) return event.at;
    const d = new Date(event.time ?? Date.now());
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }
  function entry(event, cls, ...parts) {
    const p = el("p", cls);
    p.append(el("time", "", clock(event)), ...parts);
    return p;
  }
  function who(name, you = name === state.me) {
    return el("span", "from", you ? name + " (you)" : name);
  }
  /** A line is this connection's only if it is live: a replayed one (it
   * has \`at\`) may be a previous holder's of the same name. */
  function mine(e) { return !e.at && e.from === state.me; }
  function render(e) {
    switch (e.type) {
      case "say": return entry(e, "say" + (mine(e) ? " mine" : ""), who(e.from, mine(e)), ": " + e.text);
      case "action": return entry(e, "action" + (mine(e) ? " mine" : ""), "* ", who(e.from, mine(e)), " " + e.text);
      case "private": {
        const toMe = e.to === state.me;
        const p = entry(e, "private" + (toMe ? "" : " mine"), toMe ? "private from " : "private to ", who(toMe ? e.from : e.to), ": " + e.text);
        if (toMe) {
          const b = el("button", "reply", "Reply");
          b.type = "button";
          b.setAttribute("aria-label", "Reply to " + e.from);
          b.addEventListener("click", () => { input.value = "/msg " + e.from + " "; input.focus(); });
          p.append(b);
        }
        return p;
      }
      case "join": return entry(e, "event", who(e.name), " joined the chat");
      case "leave": return entry(e, "event", who(e.name), " left the chat" + (e.reason ? " (" + e.reason + ")" : ""));
      case "enter": return entry(e, "event", who(e.name), " joined the room");
      case "exit": return entry(e, "event", who(e.name), " left the room");
      case "rename": return entry(e, "event", who(e.from), " is now known as ", who(e.to));
      case "room": return entry(e, "event", "You are in " + e.room + " (" + e.users + (e.users === 1 ? " user)" : " users)"));
      case "topic": return entry(e, "info", "Topic: " + e.text + " (set by " + e.by + ")");
      case "error": return entry(e, "error", "! " + e.text);
      case "who": return entry(e, "info", "In " + e.room + ": " + e.names.join(", ") + " (" + e.names.length + " here, " + e.online + " online in all)");
      case "rooms": return entry(e, "info", "Rooms: " + e.rooms.map((r) => r.name + " (" + r.users + ")").join(", "));
      default: return entry(e, "info", e.text ?? "");
    }
  }
  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 48; }
  function show(node, notable) {
    const stick = nearBottom();
    log.append(node);
    if (stick) log.scrollTop = log.scrollHeight;
    else if (notable) { state.unseen++; newer.hidden = false; newer.textContent = state.unseen + " new below"; }
    if (notable && (document.hidden || !stick)) { state.unread++; title(); }
  }
  function title() { document.title = (state.unread ? "(" + state.unread + ") " : "") + "Marquee"; }
  function caughtUp() { state.unseen = 0; newer.hidden = true; if (!document.hidden) { state.unread = 0; title(); } }
  log.addEventListener("scroll", () => { if (nearBottom()) caughtUp(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && nearBottom()) caughtUp(); });
  newer.addEventListener("click", () => { log.scrollTop = log.scrollHeight; caughtUp(); input.focus(); });

  function setMe(name) { state.me = name; $("me").textContent = name || "…"; }
  function setRoom(room) {
    state.room = room;
    $("room").textContent = room;
    $("people-title").textContent = "People in " + room;
    $("topic").textContent = "";
    ask("who"); ask("rooms");
  }
  function ask(what) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    quiet[what]++;
    socket.send("/" + what);
  }
  function drawPeople() {
    const ul = $("people");
    ul.replaceChildren(...[...state.people].sort((a, b) => a.localeCompare(b)).map((name) => {
      const li = el("li", name === state.me ? "current" : "");
      const b = el("button", "", name === state.me ? name + " (you)" : name);
      b.type = "button";
      b.setAttribute("aria-label", name === state.me ? "You, " + name : "Message " + name);
      b.addEventListener("click", () => { input.value = "/msg " + name + " "; input.focus(); });
      li.append(b);
      return li;
    }));
  }
  function drawRooms(rooms) {
    $("rooms").replaceChildren(...rooms.map((r) => {
      const li = el("li", r.name.toLowerCase() === state.room.toLowerCase() ? "current" : "");
      const b = el("button", "", r.name + " (" + r.users + ")");
      b.type = "button";
      b.setAttribute("aria-label", "Join " + r.name + ", " + r.users + (r.users === 1 ? " person" : " people"));
      b.addEventListener("click", () => { if (socket?.readyState === WebSocket.OPEN) socket.send("/join " + r.name); input.focus(); });
      li.append(b);
      return li;
    }));
  }
  function people(change) { change(); drawPeople(); }
  function add(name) { if (!state.people.includes(name)) state.people.push(name); }
  function remove(name) { state.people = state.people.filter((n) => n !== name); }

  /** Applies an event to the header and the side panel; false: not shown. */
  function apply(e) {
    switch (e.type) {
      case "hello": state.maxLineBytes = e.maxLineBytes; measure(); return false;
      case "welcome": return true;
      case "rename":
        if (e.from === state.me) setMe(e.to);
        people(() => { if (state.people.includes(e.from)) { remove(e.from); add(e.to); } });
        return true;
      case "room": setRoom(e.room); return true;
      case "topic": $("topic").textContent = "Topic: " + e.text; return true;
      case "join":
        // The first line a connection gets is its own join: that is who we are.
        if (!state.me) { setMe(e.name); setRoom("lobby"); if (wanted) restore(); }
        if (state.room === "lobby") people(() => add(e.name));
        return true;
      case "enter": people(() => add(e.name)); return true;
      case "exit": case "leave": people(() => remove(e.name)); return true;
      case "who": people(() => { state.people = e.names.slice(); }); return !quietly("who");
      // The server sends the list again (\`update\`) whenever someone comes or goes.
      case "rooms": drawRooms(e.rooms); return !e.update && !quietly("rooms");
      case "info":
        if (e.notice === "no_earlier_lines") earlier.disabled = true;
        return true;
      default: return true;
    }
  }
  /** Whether this list reply is one the page asked for (then hidden). */
  function quietly(what) {
    const mine = quiet[what] > 0;
    if (mine) quiet[what]--;
    return mine;
  }

  function receive(e) {
    if (e.type === "history_start") { history = { kind: e.kind, room: e.room, nodes: [] }; return; }
    if (history) {
      if (e.type !== "history_end") { history.nodes.push(render(e)); return; }
      const label = history.kind === "recent" ? "earlier in " + history.room : "older messages";
      const group = [el("p", "divider", label), ...history.nodes.map((n) => (n.classList.add("past"), n))];
      if (history.kind === "page") log.prepend(...group);
      else { for (const node of group) show(node, false); show(el("p", "divider", "now"), false); }
      history = null;
      return;
    }
    if (!apply(e)) return;
    const notable = e.type === "say" || e.type === "action" || e.type === "private";
    show(render(e), notable);
  }

  function connect() {
    clearTimeout(retryTimer);
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws", "marquee.json");
    status.textContent = "Connecting…";
    socket.onopen = () => {
      retries = 0;
      status.textContent = "Connected";
      status.className = "";
      reconnect.hidden = true;
      send.disabled = false;
      earlier.disabled = false;
    };
    socket.onmessage = (message) => { for (const e of JSON.parse(String(message.data))) receive(e); };
    socket.onclose = () => {
      socket = null;
      send.disabled = true;
      // Back off: 1 s, 2 s, 4 s ... up to 30 s, so a restarting server is not stormed.
      const delay = Math.min(30, 2 ** retries++);
      status.textContent = "Disconnected: reconnecting in " + delay + " s";
      status.className = "down";
      reconnect.hidden = false;
      if (state.me) wanted = { name: state.me, room: state.room };
      setMe("");
      show(entry({}, "error", "! disconnected from the server; reconnecting in " + delay + " s"), false);
      retryTimer = setTimeout(connect, delay * 1000);
    };
  }
  /** After a reconnect: take the old name back and go back to the old room. */
  function restore() {
    const { name, room } = wanted;
    wanted = null;
    show(entry({}, "info", "reconnected"), false);
    if (name && !/^user\\d+$/i.test(name) && name !== state.me) socket.send("/nick " + name);
    if (room && room !== "lobby") socket.send("/join " + room);
  }
  reconnect.addEventListener("click", () => { retries = 0; connect(); });

  function measure() {
    const bytes = encoder.encode(input.value).length;
    const over = bytes > state.maxLineBytes;
    count.textContent = bytes > state.maxLineBytes * 0.8 ? bytes + " / " + state.maxLineBytes + " bytes" : "";
    count.className = over ? "over" : "";
    input.setAttribute("aria-invalid", String(over));
    send.disabled = over || !socket || socket.readyState !== WebSocket.OPEN;
    return !over;
  }
  input.addEventListener("input", measure);
  earlier.addEventListener("click", () => { if (socket?.readyState === WebSocket.OPEN) socket.send("/history 50 more"); });
  toggle.addEventListener("click", () => {
    const open = side.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });

  /** What the page shows for a line the user sent (the server echoes none). */
  function echo(text) {
    const now = { time: Date.now() };
    if (!text.startsWith("/") || text.startsWith("//")) {
      return render({ ...now, type: "say", from: state.me, text: text.startsWith("//") ? text.slice(1) : text });
    }
    const me = /^\\/me\\s+(.+)$/is.exec(text);
    if (me) return render({ ...now, type: "action", from: state.me, text: me[1] });
    const dm = /^\\/msg\\s+(\\S+)\\s+(.+)$/is.exec(text);
    if (dm) return render({ ...now, type: "private", from: state.me, to: dm[1], text: dm[2] });
    return null;
  }
  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (text.trim() === "" || !measure() || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(text);
    const mine = echo(text);
    if (mine) { log.append(mine); log.scrollTop = log.scrollHeight; caughtUp(); }
    input.value = "";
    measure();
    input.focus();
  });
  connect();
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
