/**
 * The browser client's script, private conversations (see `web_page.ts`):
 * each person you exchanged private messages with is a conversation in
 * the side panel, with its unread count; opening one shows only its lines,
 * and what you type there goes to that person. The room's view shows
 * everything, as before.
 *
 * @module
 */

/** The conversations' part of the page's script. */
export const WEB_TALKS = `  /** Conversations by the other person's name (lower-cased): its name as
   * last seen and its unread count. */
  const talks = new Map();
  const talkList = $("talks"), talkBar = $("talk-bar"), talkName = $("talk-name");
  /** Whose conversation a line belongs to, if it is a private one. */
  function talkOf(node) { return node.dataset.talk ?? null; }
  /** Shows a line in the view open now: everything in the room's view, a
   * conversation's lines in its own. */
  function fits(node) {
    node.hidden = state.talk !== null
      ? talkOf(node) !== state.talk.toLowerCase()
      : node.dataset.room !== undefined && node.dataset.room !== state.room.toLowerCase();
    return node;
  }
  /** A private line arrived or was sent: its conversation is listed, and
   * counted as unread unless it is the one open. */
  function heard(e, node) {
    const other = e.to === state.me ? e.from : e.to;
    node.dataset.talk = other.toLowerCase();
    const talk = talks.get(other.toLowerCase()) ?? { name: other, unread: 0 };
    talk.name = other;
    if (e.to === state.me && state.talk?.toLowerCase() !== other.toLowerCase()) talk.unread++;
    talks.set(other.toLowerCase(), talk);
    drawTalks();
  }
  function drawTalks() {
    $("talks-title").hidden = talks.size === 0;
    talkList.replaceChildren(...[...talks.values()].map((talk) => {
      const li = el("li", talk.name.toLowerCase() === state.talk?.toLowerCase() ? "current" : "");
      const b = el("button", "", talk.name + (talk.unread ? " (" + talk.unread + ")" : ""));
      b.type = "button";
      b.setAttribute("aria-label", "Conversation with " + talk.name + (talk.unread ? ", " + talk.unread + " unread" : ""));
      b.addEventListener("click", () => openTalk(talk.name));
      li.append(b);
      return li;
    }));
  }
  /** Opens a conversation (or, with null, the room's view again). */
  function openTalk(name) {
    if (name === null) return showRoom(state.room);
    state.talk = name;
    const talk = talks.get(name.toLowerCase());
    if (talk) talk.unread = 0;
    showView();
    input.focus();
  }
  /** Shows the view open now (a conversation, or else the room shown):
   * its lines, its bar, its counts, what the input says it sends to. */
  function showView() {
    talkBar.hidden = state.talk === null;
    talkName.textContent = state.talk ?? "";
    earlier.hidden = state.talk !== null;
    input.placeholder = state.talk ? "Message to " + state.talk : "Message, or /help";
    for (const node of log.children) fits(node);
    drawJoined();
    drawTalks();
    log.scrollTop = log.scrollHeight;
  }
  $("talk-back").addEventListener("click", () => openTalk(null));
  /** What the input sends: in a conversation, plain text goes to its
   * person; in a room, text and the room's commands go to the room shown;
   * \`/join\` opens a room beside the others and \`/part\` leaves this one. */
  function outgoing(text) {
    if (state.talk && !text.startsWith("/")) return "/msg " + state.talk + " " + text;
    if (!text.startsWith("/") || text.startsWith("//")) return "/in " + state.room + " " + text;
    const join = /^\\/join\\s+(\\S+)\\s*$/i.exec(text);
    if (join) { opening.add(lower(join[1])); return "/open " + join[1]; }
    if (/^\\/part\\s*$/i.test(text)) return "/close " + state.room;
    if (/^\\/(me|topic|who|history|kick|ban|unban|mute|unmute|op|deop|bans)\\b/i.test(text)) {
      return "/in " + state.room + " " + text;
    }
    return text;
  }
`;
