/**
 * The browser client's style sheet (see `web_page.ts`): one palette for
 * light and one for dark, from the reader's \`prefers-color-scheme\`.
 *
 * @module
 */

/** The page's CSS. */
export const WEB_STYLE = `  :root { color-scheme: light dark; font-family: system-ui, sans-serif;
    --bg: #ffffff; --fg: #1b1b1f; --muted: #5b5f66; --line: #d0d3d9; --panel: #f4f5f7;
    --event: #2c662c; --error: #b3261e; --accent: #1456b8; --mention: #fff1c2; --nick-l: 27%; }
  @media (prefers-color-scheme: dark) {
    :root { --bg: #16171a; --fg: #e6e6e9; --muted: #a4a8ae; --line: #3a3d44; --panel: #1f2125;
      --event: #86cf86; --error: #ff8a80; --accent: #8ab4f8; --mention: #433800; --nick-l: 72%; }
  }
  * { box-sizing: border-box; }
  body { margin: 0; display: flex; flex-direction: column; height: 100vh; height: 100dvh; background: var(--bg); color: var(--fg); }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
  h1 { font-size: 1.1rem; margin: 0; }
  header p { margin: 0; }
  #topic { flex-basis: 100%; font-style: italic; overflow-wrap: anywhere; }
  #topic:empty { display: none; }
  #status { margin-left: auto; font-size: .9rem; }
  #notify, #account-button { padding: .2rem .6rem; font-size: .9rem; }
  dialog { background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: .5rem; padding: 1rem 1.25rem; max-width: 22rem; width: 90%; }
  dialog h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
  dialog p { display: flex; flex-direction: column; gap: .2rem; margin: .5rem 0; }
  dialog .actions { flex-direction: row; flex-wrap: wrap; gap: .5rem; }
  dialog::backdrop { background: #0008; }
  #status.down { color: var(--error); font-weight: 600; }
  #panel-toggle { display: none; }
  #body { flex: 1; display: flex; min-height: 0; }
  main { flex: 1; display: flex; flex-direction: column; min-width: 0; position: relative; }
  #log { flex: 1; overflow-y: auto; padding: .5rem 1rem; }
  #log p { margin: .2rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  #log time { color: var(--muted); font-size: .8rem; margin-right: .4rem; font-variant-numeric: tabular-nums; }
  #log .from { font-weight: 600; color: hsl(var(--hue, 215) 70% var(--nick-l)); }
  #log .say:not(.cont) { margin-top: .45rem; }
  #log p.cont { padding-left: 3.1rem; }
  #log .cont > time, #log .cont > .from, #log .cont > .sep { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  #log .mention { background: var(--mention); border-left: 3px solid var(--accent); padding-left: .4rem; }
  #log a { color: var(--accent); }
  #log .event, #log .info { color: var(--event); }
  #log .action { font-style: italic; }
  #log .error { color: var(--error); font-weight: 600; }
  #log .private { border-left: 3px solid var(--accent); padding-left: .4rem; }
  #log .past { color: var(--muted); }
  #log .divider { text-align: center; font-size: .8rem; color: var(--muted); border-top: 1px solid var(--line); }
  #log .reply { margin-left: .5rem; font-size: .8rem; padding: 0 .4rem; }
  #earlier { align-self: center; margin: .3rem; }
  #talk-bar { margin: 0; padding: .4rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
  #talk-bar button { margin-left: .5rem; padding: .1rem .6rem; }
  #newer { position: absolute; bottom: .5rem; left: 50%; transform: translateX(-50%); border-radius: 1rem; padding: .3rem 1rem; }
  aside { width: 17rem; border-left: 1px solid var(--line); padding: .5rem 1rem; overflow-y: auto; }
  aside h2 { font-size: .95rem; margin: .5rem 0 .25rem; }
  aside ul { list-style: none; margin: 0; padding: 0; }
  aside li button { width: 100%; text-align: left; background: none; border: 0; padding: .2rem .3rem; font: inherit; cursor: pointer; color: inherit; }
  aside li button:hover { background: #8882; }
  aside li.current button { font-weight: 600; }
  aside li button.named { font-weight: 600; color: var(--accent); }
  aside li { display: flex; }
  aside li button.act { width: auto; padding: .2rem .4rem; color: var(--muted); font-size: .85rem; }
  #form { display: flex; align-items: center; gap: .5rem; padding: .5rem 1rem; border-top: 1px solid var(--line); }
  input { flex: 1; min-width: 0; font: inherit; padding: .4rem; }
  input[aria-invalid="true"] { outline: 2px solid var(--error); }
  #count { font-size: .8rem; color: var(--muted); font-variant-numeric: tabular-nums; }
  #count.over { color: var(--error); font-weight: 600; }
  button { font: inherit; padding: .4rem 1rem; }
  :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  @media (max-width: 640px) {
    header { padding: .4rem .6rem; }
    #panel-toggle { display: inline-block; padding: .2rem .6rem; }
    aside { display: none; position: absolute; right: 0; top: 0; bottom: 0; width: 80%; max-width: 18rem; background: var(--panel); z-index: 1; box-shadow: -4px 0 12px #0004; }
    aside.open { display: block; }
    #body { position: relative; }
    #form { padding: .4rem .6rem; }
    #form label { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    button { padding: .4rem .7rem; }
  }
`;
