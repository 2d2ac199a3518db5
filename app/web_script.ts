/**
 * The browser client's script, second part (see `web_page.ts`): showing
 * lines, the header and side panel, the connection and the input.
 *
 * @module
 */

/** The second part of the page's script. */
export const WEB_SCRIPT =
  `  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 48; }
  /** Shows a line; a notable one not seen yet counts in the title, and an
   * urgent one (naming you, or private to you) marks it with a star. */
  function show(node, notable, urgent = false) {
    const stick = nearBottom();
    log.append(fits(grouped(node)));
    if (stick) log.scrollTop = log.scrollHeight;
    else if (notable) { state.unseen++; newer.hidden = false; newer.textContent = state.unseen + " new below"; }
    if (notable && (document.hidden || !stick)) { state.unread++; if (urgent) state.urgent++; title(); }
  }
  function title() {
    document.title = (state.urgent ? "* " : "") + (state.unread ? "(" + state.unread + ") " : "") + "Marquee";
  }
  function caughtUp() {
    state.unseen = 0;
    newer.hidden = true;
    if (!document.hidden) { state.unread = 0; state.urgent = 0; title(); }
  }
  /** A desktop notification for a line naming you or a private message,
   * while the page is not looked at, if the reader allowed them. */
  function notify(e) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const heading = e.type === "private" ? e.from + " (private)" : e.from + " in " + state.room;
    const n = new Notification(heading, { body: e.type === "action" ? "* " + e.from + " " + e.text : e.text });
    n.onclick = () => { window.focus(); n.close(); };
  }
  // Asked for only when the reader clicks: browsers refuse a page that asks unprompted.
  const bell = $("notify");
  bell.hidden = !("Notification" in window) || Notification.permission !== "default";
  bell.addEventListener("click", () => {
    Notification.requestPermission().then((answer) => { bell.hidden = answer !== "default"; });
  });
  log.addEventListener("scroll", () => { if (nearBottom()) caughtUp(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && nearBottom()) caughtUp(); });
  newer.addEventListener("click", () => { log.scrollTop = log.scrollHeight; caughtUp(); input.focus(); });

  function setMe(name) { state.me = name; $("me").textContent = name || "…"; }
  function setRoom(room) {
    state.room = room;
    $("room").textContent = room;
    $("people-title").textContent = "People in " + room;
    $("topic").textContent = topics.get(lower(room)) ?? "";
    state.people = [];
    drawPeople();
    ask("who"); ask("rooms");
  }
  /** Asks for a list the side panel shows (its answer is not shown in the
   * log); \`who\` of the room shown. */
  function ask(what) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    quiet[what]++;
    socket.send(what === "who" ? "/in " + state.room + " /who" : "/" + what);
  }
  /** A small button that sends \`line\` when pressed. */
  function action(text, label, line) {
    const b = el("button", "act", text);
    b.type = "button";
    b.setAttribute("aria-label", label);
    b.addEventListener("click", () => { if (socket?.readyState === WebSocket.OPEN) socket.send(line); });
    return b;
  }
  function drawPeople() {
    const ul = $("people");
    const op = state.ops.includes(state.me);
    ul.replaceChildren(...[...state.people].sort((a, b) => a.localeCompare(b)).map((name) => {
      const li = el("li", name === state.me ? "current" : "");
      const isOp = state.ops.includes(name);
      const b = el("button", "", (isOp ? "@" : "") + (name === state.me ? name + " (you)" : name));
      b.type = "button";
      b.setAttribute("aria-label", (name === state.me ? "You, " + name : "Message " + name) + (isOp ? ", op" : ""));
      b.addEventListener("click", () => { input.value = "/msg " + name + " "; input.focus(); });
      // Who someone is, at a click: the server's answer shows in the log.
      li.append(b, action("?", "Who is " + name, "/whois " + name));
      // An op's moderation, on the others; the server checks every rank again.
      if (op && name !== state.me) {
        li.append(
          action("mute", "Mute " + name + " for 10 minutes", "/mute " + name + " 10m"),
          action("kick", "Kick " + name, "/kick " + name),
          action("ban", "Ban " + name + " from " + state.room, "/ban " + name),
        );
      }
      return li;
    }));
  }
  function drawRooms(rooms = state.roomList ?? []) {
    state.roomList = rooms;
    $("rooms").replaceChildren(...rooms.map((r) => {
      const li = el("li", r.name.toLowerCase() === state.room.toLowerCase() ? "current" : "");
      const b = el("button", "", r.name + " (" + r.users + ")");
      b.type = "button";
      const verb = joined.has(lower(r.name)) ? "Show " : "Join ";
      b.setAttribute("aria-label", verb + r.name + ", " + r.users + (r.users === 1 ? " person" : " people"));
      b.addEventListener("click", () => { openRoom(r.name); input.focus(); });
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
      case "room": entered(e.room); return true;
      case "topic":
        topics.set(lower(e.room), "Topic: " + e.text);
        if (here(e)) $("topic").textContent = "Topic: " + e.text;
        return true;
      case "join":
        // The first line a connection gets is its own join: that is who we are.
        if (!state.me) { setMe(e.name); entered("lobby"); if (wanted) restore(); }
        if (joined.has("lobby") && lower(state.room) === "lobby") people(() => add(e.name));
        return true;
      case "enter": if (here(e)) people(() => add(e.name)); return true;
      case "exit":
        if (e.name === state.me) left(e.room);
        else if (here(e)) people(() => remove(e.name));
        return true;
      case "leave": people(() => remove(e.name)); return true;
      case "who":
        if (here(e)) people(() => { state.people = e.names.slice(); state.ops = e.ops ?? []; });
        return !quietly("who");
      // The server sends the list again (\`update\`) whenever someone comes or goes.
      case "rooms": drawRooms(e.rooms); return !e.update && !quietly("rooms");
      case "info":
        if (e.notice === "no_earlier_lines") earlier.disabled = true;
        // Ranks may have changed: who is op here, again.
        if (e.kind || /^(logged_in|registered|logged_out)$/.test(e.notice ?? "")) ask("who");
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
      if (e.type !== "history_end") { history.nodes.push(inRoom(render(e), history.room)); return; }
      const label = history.kind === "recent" ? "earlier in " + history.room : "older messages";
      const group = [el("p", "divider", label), ...history.nodes.map((n) => (n.classList.add("past"), n))];
      if (history.kind === "page") log.prepend(...group);
      else { for (const node of group) show(node, false); show(el("p", "divider", "now"), false); }
      history = null;
      return;
    }
    if (!apply(e)) return;
    accountNews(e);
    counted(e);
    const notable = (e.type === "say" || e.type === "action") && (here(e) || !e.room) || e.type === "private";
    const urgent = e.type === "private" ? e.to === state.me : notable && mentions(e);
    show(inRoom(render(e), e.room), notable, urgent);
    if (urgent && document.hidden) notify(e);
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
      if (state.me) wanted = { name: state.me, rooms: [...joined.values()].map((r) => r.name), room: state.room };
      joined.clear();
      opening.clear();
      setMe("");
      setAccount(false);
      show(entry({}, "error", "! disconnected from the server; reconnecting in " + delay + " s"), false);
      retryTimer = setTimeout(connect, delay * 1000);
    };
  }
  /** After a reconnect: take the old name back and open the old rooms,
   * the one shown last (so that it is shown again). */
  function restore() {
    const { name, rooms, room } = wanted;
    wanted = null;
    show(entry({}, "info", "reconnected"), false);
    if (name && !/^user\\d+$/i.test(name) && name !== state.me) socket.send("/nick " + name);
    const again = rooms.filter((r) => lower(r) !== "lobby" && lower(r) !== lower(room));
    if (lower(room) !== "lobby") again.push(room);
    for (const r of again) openRoom(r);
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
  earlier.addEventListener("click", () => {
    if (socket?.readyState === WebSocket.OPEN) socket.send("/in " + state.room + " /history 50 more");
  });
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
    const typed = input.value;
    if (typed.trim() === "" || !measure() || !socket || socket.readyState !== WebSocket.OPEN) return;
    const text = outgoing(typed);
    socket.send(text);
    // Shown as typed (in a conversation, as the message it became), in the room shown.
    const mine = echo(state.talk ? text : typed);
    if (mine) {
      log.append(fits(grouped(mine.classList.contains("private") ? mine : inRoom(mine, state.room))));
      log.scrollTop = log.scrollHeight;
      caughtUp();
    }
    input.value = "";
    measure();
    input.focus();
  });
`;
