/**
 * The browser client's script, first part (see `web_page.ts`): the page's
 * state, and how an event becomes a line of the log. Everything a user
 * wrote is set with \`textContent\`, never as HTML.
 *
 * @module
 */

/** The first part of the page's script. */
export const WEB_RENDER = `  const $ = (id) => document.getElementById(id);
  const log = $("log"), input = $("line"), status = $("status"), count = $("count");
  const send = $("send"), earlier = $("earlier"), newer = $("newer"), reconnect = $("reconnect");
  const side = $("side"), toggle = $("panel-toggle");
  const encoder = new TextEncoder();
  const state = { me: "", room: "lobby", people: [], maxLineBytes: 4096, unread: 0, unseen: 0, urgent: 0, ops: [], talk: null };
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
  /** A hue from a name, the same on every page: each name its colour
   * (the theme sets how light, so that it reads on its background). */
  function hue(name) {
    let h = 0;
    for (const c of name.toLowerCase()) h = (h * 31 + c.charCodeAt(0)) % 360;
    return h;
  }
  function who(name, you = name === state.me) {
    const span = el("span", "from", you ? name + " (you)" : name);
    span.style.setProperty("--hue", String(hue(name)));
    return span;
  }
  /** A user's words as text, with each http(s) address a link that opens
   * apart and tells the other site nothing of this page. */
  function words(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(/https?:\\/\\/[^\\s<>"]+/gi)) {
      if (m.index < last) continue;
      const url = m[0].replace(/[.,;:!?)\\]'"]+$/, "");
      let href = null;
      try {
        const u = new URL(url);
        if (u.protocol === "http:" || u.protocol === "https:") href = u.href;
      } catch { /* not an address */ }
      if (href === null) continue;
      const a = el("a", "", url);
      a.href = href;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      out.push(text.slice(last, m.index), a);
      last = m.index + url.length;
    }
    out.push(text.slice(last));
    return out;
  }
  /** Whether someone else's line names you: your name as a whole word. */
  function mentions(e) {
    if (!state.me || mine(e)) return false;
    return e.text.toLowerCase().split(/[^a-z0-9_-]+/).includes(state.me.toLowerCase());
  }
  /** A line said by whoever said the line above it, in the same minute,
   * joins its group: its time and name are left to screen readers. */
  function grouped(node) {
    const above = log.lastElementChild;
    const same = above?.classList.contains("say") && node.classList.contains("say") &&
      above.dataset.from === node.dataset.from && above.dataset.minute === node.dataset.minute;
    if (same) node.classList.add("cont");
    return node;
  }
  /** The classes of a line someone said: yours, or one naming you. */
  function said(kind, e) { return kind + (mine(e) ? " mine" : mentions(e) ? " mention" : ""); }
  /** A line is this connection's only if it is live: a replayed one (it
   * has \`at\`) may be a previous holder's of the same name. */
  function mine(e) { return !e.at && e.from === state.me; }
  function render(e) {
    switch (e.type) {
      case "say": {
        const p = entry(e, said("say", e), who(e.from, mine(e)), el("span", "sep", ": "), ...words(e.text));
        p.dataset.from = e.from;
        p.dataset.minute = clock(e);
        return p;
      }
      case "action": return entry(e, said("action", e), "* ", who(e.from, mine(e)), " ", ...words(e.text));
      case "private": {
        const toMe = e.to === state.me;
        const p = entry(e, "private" + (toMe ? "" : " mine"), toMe ? "private from " : "private to ", who(toMe ? e.from : e.to), ": ", ...words(e.text));
        if (toMe) {
          const b = el("button", "reply", "Reply");
          b.type = "button";
          b.setAttribute("aria-label", "Reply to " + e.from);
          b.addEventListener("click", () => { input.value = "/msg " + e.from + " "; input.focus(); });
          p.append(b);
        }
        heard(e, p);
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
`;
