// The site's one style sheet, served as /assets/core/site.css (no inline styles: the CSP
// forbids them). Readable on a phone, visible focus, contrast above WCAG AA.
export const SITE_CSS = `
:root { --fg: #1b1f24; --muted: #4a5563; --bg: #ffffff; --line: #c9ced6; --accent: #0b57a4; --bad: #a4160b; --good: #1d6b2f; --warn: #7a5200; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, textarea:focus, summary:focus { outline: 3px solid #f0a000; outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; z-index: 2; }
header.site { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 8px 16px; border-bottom: 1px solid var(--line); }
header.site .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
header.site nav ul { display: flex; flex-wrap: wrap; gap: 4px 12px; list-style: none; margin: 0; padding: 0; }
header.site form { display: inline; margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 16px; }
footer.site { color: var(--muted); font-size: 14px; padding: 16px; border-top: 1px solid var(--line); }
button, .button { font: inherit; padding: 6px 12px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; text-decoration: none; }
form.inline { display: inline; margin-left: 8px; }
button.link { background: none; border: none; color: var(--accent); text-decoration: underline; padding: 0; }
button.secondary { background: #fff; color: var(--accent); }
label { display: block; font-weight: 600; margin-top: 8px; } label.inline { display: inline; }
input[type=text], input[type=password], input[type=search], select, textarea { font: inherit; padding: 6px; border: 1px solid var(--muted); border-radius: 4px; width: 100%; max-width: 32rem; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
.layout { display: grid; grid-template-columns: 16rem 1fr; gap: 24px; }
@media (max-width: 44rem) { .layout { grid-template-columns: 1fr; } .layout .facets { order: 2; } }
.facets section { margin-bottom: 16px; } .facets h3 { font-size: 1rem; margin: 0 0 4px; } .facets ul { list-style: none; padding: 0; margin: 0; }
.results ol { list-style: none; padding: 0; } .results li { padding: 8px 0; border-bottom: 1px solid var(--line); }
.muted { color: var(--muted); }
.state-active { color: var(--good); } .state-invalid { color: var(--bad); } .state-validating, .state-uploading { color: var(--warn); }
.notice { padding: 8px 12px; border: 1px solid var(--line); border-left: 4px solid var(--accent); margin: 8px 0; }
.error { border-left-color: var(--bad); }
.secret { font-family: monospace; background: #f3f4f6; padding: 8px; overflow-wrap: anywhere; }
.pager { display: flex; gap: 12px; }
.tags { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; padding: 0; } .tags li { border: 1px solid var(--line); border-radius: 12px; padding: 0 8px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dt { font-weight: 600; } dd { margin: 0; }
progress { width: 100%; max-width: 32rem; height: 1.2rem; }
canvas.plot { width: 100%; max-width: 40rem; aspect-ratio: 4 / 3; border: 1px solid var(--line); }
.plot-controls { display: flex; flex-wrap: wrap; gap: 12px; }
.plot-controls label { display: inline-block; }
.plot-controls select { width: auto; }
`;
