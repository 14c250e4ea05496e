/** The trace page's stylesheet (inlined; the page loads nothing). Light and dark follow the system. */
export const PAGE_CSS = String.raw`
:root { --bg:#fff; --fg:#1d2330; --dim:#6b7280; --line:#e5e7eb; --card:#f8fafc; --user:#15803d; --assistant:#0e7490;
  --tool:#a16207; --system:#86198f; --call:#1d4ed8; --error:#b91c1c; --bar:#3b82f6; --mark:#fde047; color-scheme: light dark; }
@media (prefers-color-scheme: dark) { :root { --bg:#0f1117; --fg:#e5e7eb; --dim:#9ca3af; --line:#262b36; --card:#161a23;
  --user:#4ade80; --assistant:#22d3ee; --tool:#facc15; --system:#e879f9; --call:#93c5fd; --error:#f87171; --bar:#60a5fa; --mark:#854d0e; } }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg); font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header.top { position:sticky; top:0; z-index:2; background:var(--bg); border-bottom:1px solid var(--line); padding:8px 16px 4px; }
.row { display:flex; gap:12px; align-items:center; flex-wrap:wrap; }
h1 { font-size:15px; margin:0; font-weight:600; overflow-wrap:anywhere; }
#stats, #state, #count { color:var(--dim); font-size:13px; }
#state.live { color:var(--user); } #state.ended { color:var(--system); }
#search { flex:1; min-width:200px; max-width:480px; padding:5px 8px; border:1px solid var(--line); border-radius:6px; background:var(--card); color:var(--fg); font:inherit; }
#timeline { display:block; width:100%; height:56px; margin-top:6px; cursor:pointer; background:var(--card); border-radius:4px; }
#timeline .answered { fill:var(--bar); } #timeline .failed { fill:var(--error); } #timeline .waiting { fill:var(--dim); }
#timeline .view { fill:var(--fg); opacity:0.08; }
#tip { color:var(--dim); font-size:12px; min-height:1.4em; }
#waiting { margin:8px 16px 0; color:var(--tool); font-size:13px; }
main { padding:0 16px 40vh; max-width:1100px; }
.pad { overflow-anchor:none; }
article.turn { border-bottom:1px solid var(--line); padding:10px 0 12px; scroll-margin-top:140px; }
.turn > .head, .answer > .head { font-size:13px; color:var(--dim); margin:2px 0 4px; }
.turn > .head b, .answer > .head b { color:var(--fg); }
.answer > .head b { color:var(--assistant); }
.turn.failed .answer > .head b, .turn.unanswered .answer > .head b { color:var(--error); }
.msg { display:grid; grid-template-columns:96px 1fr; gap:8px; margin:3px 0; }
.msg > .label { font-size:12px; font-weight:600; padding-top:2px; text-align:right; color:var(--dim); overflow-wrap:anywhere; }
.msg.user > .label { color:var(--user); } .msg.assistant > .label { color:var(--assistant); }
.msg.tool > .label, .msg.result > .label { color:var(--tool); } .msg.system > .label { color:var(--system); }
.msg.call > .label { color:var(--call); } .msg.error > .label { color:var(--error); }
pre { margin:0; white-space:pre-wrap; overflow-wrap:anywhere; font:12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background:var(--card); border-radius:4px; padding:4px 8px; }
.fold.closed pre { max-height:13.5em; overflow:hidden; }
.fold button, .more { font:12px system-ui, sans-serif; color:var(--call); background:none; border:0; padding:2px 0; cursor:pointer; }
details.reasoning summary { cursor:pointer; color:var(--dim); font-style:italic; font-size:13px; list-style-position:inside; overflow-wrap:anywhere; }
details.reasoning pre { margin-top:4px; font-style:italic; }
.note { color:var(--dim); font-size:12px; font-style:italic; }
.end { padding:14px 0; color:var(--system); font-weight:600; }
mark { background:var(--mark); color:inherit; }
`;
