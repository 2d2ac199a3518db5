/**
 * The browser client: one self-contained page, no build step, served at `/`
 * of `--http-port`. It sends what the user types as lines over a WebSocket
 * at `/ws` (so every command works as over TCP) and asks for the
 * `marquee.json` subprotocol, so what comes back are events with fields
 * (`chat/render_json.ts`): the page renders from data and keeps its header
 * (your name, your room, the topic) and side panel (the people in your room,
 * the rooms) current from the same events.
 *
 * It renders everything with `textContent`, never as HTML, so nothing a
 * user sends can inject markup. It is usable by keyboard alone: the input
 * has focus and a label, Enter sends, the log is an ARIA live region, and
 * every button has a name. It reconnects with backoff, keeps your scroll
 * position while you read older lines, counts bytes as the server does,
 * and fits a 375 px screen (the side panel folds behind a button). Its
 * style (light and dark) and its script live in `web_style.ts`,
 * `web_render.ts` and `web_script.ts`; this module puts them in the page
 * and gives the Content-Security-Policy their hashes.
 *
 * @module
 */

import { WEB_ACCOUNT } from "./web_account.ts";
import { WEB_INPUT } from "./web_input.ts";
import { WEB_RENDER } from "./web_render.ts";
import { WEB_ROOMS } from "./web_rooms.ts";
import { WEB_SCRIPT } from "./web_script.ts";
import { WEB_STYLE } from "./web_style.ts";
import { WEB_TALKS } from "./web_talks.ts";

/** The page's HTML. */
export const WEB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Marquee</title>
<style>
${WEB_STYLE}</style>
</head>
<body>
<header>
  <h1>Marquee</h1>
  <p id="whoami">You are <strong id="me">…</strong> in <strong id="room">…</strong></p>
  <p id="status" role="status">Connecting…</p>
  <button id="notify" type="button" hidden>Turn on notifications</button>
  <button id="account-button" type="button">Log in</button>
  <button id="panel-toggle" type="button" aria-expanded="false" aria-controls="side">People and rooms</button>
  <p id="topic" aria-label="Topic"></p>
</header>
<div id="body">
  <main>
    <p id="talk-bar" hidden>Private conversation with <strong id="talk-name"></strong>
      <button id="talk-back" type="button">Back to the room</button></p>
    <button id="earlier" type="button">Load earlier messages</button>
    <div id="log" role="log" aria-label="Chat messages" tabindex="0"></div>
    <button id="newer" type="button" hidden>New messages below</button>
  </main>
  <aside id="side" aria-label="People and rooms">
    <h2 id="talks-title" hidden>Conversations</h2>
    <ul id="talks" aria-labelledby="talks-title"></ul>
    <h2 id="joined-title">Your rooms</h2>
    <ul id="joined" aria-labelledby="joined-title"></ul>
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
<dialog id="account" aria-labelledby="account-title">
  <form id="account-form">
    <h2 id="account-title">Log in or register</h2>
    <p><label for="account-name">Name</label>
      <input id="account-name" autocomplete="username" maxlength="24" required></p>
    <p><label for="account-password">Password</label>
      <input id="account-password" type="password" autocomplete="current-password" required></p>
    <p class="actions">
      <button type="submit" value="login">Log in</button>
      <button type="submit" value="register">Register</button>
      <button type="button" id="account-cancel">Cancel</button>
    </p>
  </form>
</dialog>
<script type="module">
${WEB_RENDER}${WEB_SCRIPT}${WEB_TALKS}${WEB_ROOMS}${WEB_INPUT}${WEB_ACCOUNT}</script>
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
