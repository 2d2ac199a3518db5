/**
 * The browser client's script, its rooms (see `web_page.ts`): the page is
 * in any number of rooms at once, as an IRC client is. Each is listed in
 * the side panel with its unread lines and the lines naming you since it
 * was last looked at; one is shown at a time, with its own lines, people
 * and topic. The page opens a room with `/open`, leaves one with `/close`
 * and addresses a line to one with `/in` (see docs/protocol.md).
 *
 * @module
 */

/** The rooms' part of the page's script. */
export const WEB_ROOMS = `  /** The rooms this page is in, by lower-cased name. */
  const joined = new Map();
  /** Rooms the page asked to open: their \`room\` event adds them; any
   * other (a move: a kick from the last one) replaces them all. */
  const opening = new Set();
  const topics = new Map();
  const lower = (name) => name.toLowerCase();
  /** An event's room, lower-cased, if it happened in one. */
  function roomOf(e) { return typeof e.room === "string" ? lower(e.room) : null; }
  function here(e) { return roomOf(e) === lower(state.room); }
  /** The page is in \`room\` now (its \`room\` event came). */
  function entered(room) {
    // A room opened comes with its member list: for the panel, not the log.
    if (opening.delete(lower(room))) quiet.who++;
    else joined.clear();
    joined.set(lower(room), joined.get(lower(room)) ?? { name: room, unread: 0, mentions: 0 });
    showRoom(room);
  }
  /** The page left \`room\`: another of its rooms is shown if that was. */
  function left(room) {
    joined.delete(lower(room));
    if (lower(room) === lower(state.room)) showRoom(joined.values().next().value?.name ?? "lobby");
    else drawJoined();
  }
  /** Shows \`room\`'s lines, people and topic; its counts start again. */
  function showRoom(room) {
    state.talk = null;
    const r = joined.get(lower(room));
    if (r) { r.unread = 0; r.mentions = 0; }
    setRoom(room);
    earlier.disabled = false;
    showView();
  }
  /** A line said in a room not shown now counts there. */
  function counted(e) {
    const r = (e.type === "say" || e.type === "action") && !mine(e) && !here(e) && joined.get(roomOf(e));
    if (!r) return;
    r.unread++;
    if (mentions(e)) r.mentions++;
    drawJoined();
  }
  function drawJoined() {
    drawRooms(); // which rooms say "Join" and which "Show"
    $("joined").replaceChildren(...[...joined.values()].map((r) => {
      const li = el("li", lower(r.name) === lower(state.room) && !state.talk ? "current" : "");
      const counts = (r.unread ? " (" + r.unread + ")" : "") + (r.mentions ? " @" + r.mentions : "");
      const b = el("button", r.mentions ? "named" : "", r.name + counts);
      b.type = "button";
      b.setAttribute("aria-label", "Show " + r.name + (r.unread ? ", " + r.unread + " unread" : "") +
        (r.mentions ? ", " + r.mentions + " naming you" : ""));
      b.addEventListener("click", () => { showRoom(r.name); input.focus(); });
      li.append(b, action("leave", "Leave " + r.name, "/close " + r.name));
      return li;
    }));
  }
  /** Tags a line with the room it belongs to: shown only when that room is. */
  function inRoom(node, room) {
    if (typeof room === "string" && room !== "") node.dataset.room = lower(room);
    return node;
  }
  /** Opens \`room\` beside the others, or shows it if the page is in it. */
  function openRoom(room) {
    if (joined.has(lower(room))) return showRoom(room);
    if (socket?.readyState !== WebSocket.OPEN) return;
    opening.add(lower(room));
    socket.send("/open " + room);
  }
`;
