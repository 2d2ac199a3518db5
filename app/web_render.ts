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
`;
