/**
 * The browser client's script, the input's part (see `web_page.ts`): Tab
 * completes the name being typed from the people in the room (again to go
 * through the others that fit); with nothing to complete, Tab moves the
 * focus as it always does, so the page stays usable by keyboard.
 *
 * @module
 */

/** The input's part of the page's script. */
export const WEB_INPUT = `  /** The completion under way: the word typed, where it starts, which
   * name of those that fit was offered last. */
  let completing = null;
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Tab" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) {
      completing = null;
      return;
    }
    const text = input.value.slice(0, input.selectionStart ?? input.value.length);
    if (completing === null) {
      const word = /[A-Za-z0-9_-]+$/.exec(text);
      if (!word) return;
      const prefix = word[0].toLowerCase();
      const names = state.people.filter((n) => n !== state.me && n.toLowerCase().startsWith(prefix))
        .sort((a, b) => a.localeCompare(b));
      if (names.length === 0) return;
      completing = { start: word.index, names, next: 0, end: text.length };
    }
    event.preventDefault();
    const { start, names } = completing;
    const name = names[completing.next++ % names.length];
    const after = start === 0 ? ": " : " ";
    const rest = input.value.slice(completing.end);
    input.value = input.value.slice(0, start) + name + after + rest;
    completing.end = start + name.length + after.length;
    input.setSelectionRange(completing.end, completing.end);
    measure();
  });
`;
