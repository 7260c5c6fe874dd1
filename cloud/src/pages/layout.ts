/** HTML-escapes text for element content and quoted attributes. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The pages' one stylesheet, served at STYLESHEET_PATH (no inline style: the CSP allows none). */
export const PAGE_CSS = `
:root{color-scheme:light dark;--ok:#1a7f37;--yellow:#8a5300;--warn:#a84f00;--bad:#c62828;--grey:#5f6670;--muted:#5b6270;--card:rgba(127,127,127,.1);--line:rgba(127,127,127,.3)}
body{background:#fff;color:#1f2328}
@media (prefers-color-scheme:dark){:root{--muted:#a3aab5;--card:rgba(160,160,160,.12)}body{background:#121417;color:#e8eaed}a{color:#8ab4f8}}
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:46rem;margin-inline:auto;padding:1rem}
h1{margin:.2rem 0;font-size:1.6rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.overall{border-radius:.8rem;padding:1rem 1.2rem;color:#fff;background:var(--grey)}.overall p{margin:.2rem 0 0;font-size:1.15rem}
.overall.green{background:var(--ok)}.overall.yellow{background:var(--yellow)}.overall.orange{background:var(--warn)}.overall.red{background:var(--bad)}
.list{list-style:none;margin:0;padding:0}.row{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;padding:.75rem .9rem;margin:.4rem 0;border-radius:.6rem;background:var(--card)}
.name{font-weight:600;flex:1 1 10rem}.detail,.since,.meta{color:var(--muted);font-size:.9rem}.detail{flex-basis:100%}
.badge{white-space:nowrap;font-size:.8rem;font-weight:700;padding:.15rem .55rem;border-radius:1rem;color:#fff;background:var(--grey);text-transform:uppercase}
.badge.green,.badge.MASTER,.badge.up{background:var(--ok)}.badge.yellow{background:var(--yellow)}.badge.orange,.badge.degraded,.badge.BACKUP{background:var(--warn)}
.badge.red,.badge.down,.badge.FAULT,.badge.OFFLINE{background:var(--bad)}
.reasons{margin:.2rem 0 0;padding-left:1.1rem;font-size:.9rem;flex-basis:100%}.overall .reasons{color:#fff}
footer{margin-top:1.5rem;color:var(--muted);font-size:.9rem}input,button,select{font:inherit;padding:.5rem .7rem;border-radius:.5rem;border:1px solid var(--muted)}
button{min-height:2.75rem}table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
.uptime{flex-basis:100%}.bar{display:flex;gap:1px;height:1.6rem;align-items:stretch}.day{flex:1;border-radius:1px;background:var(--ok)}
.day.none{background:var(--line)}.day.unknown{background:var(--grey)}.day.degraded{background:#d4a017}.day.down{background:var(--bad)}
.uptime-label{color:var(--muted);font-size:.8rem}
.timeline{list-style:none;margin:0;padding:0}.incident{padding:.6rem .8rem;margin:.4rem 0;border-left:4px solid var(--muted);background:var(--card);border-radius:.3rem}
.incident.open{border-left-color:var(--bad)}.incident small{display:block;color:var(--muted)}
.banner{position:sticky;top:0;z-index:2;margin:-1rem -1rem 1rem;padding:.8rem 1rem;background:#7a1f1f;color:#fff;font-weight:600}
body.is-stale main{opacity:.75}.scroll{overflow-x:auto}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.5rem;margin:0 0 1rem}.summary div{background:var(--card);border-radius:.6rem;padding:.6rem .8rem}
.summary dt{color:var(--muted);font-size:.85rem}.summary dd{margin:.2rem 0 0;font-size:1.1rem;font-weight:600;display:flex;flex-wrap:wrap;gap:.3rem}
.site{margin:0 0 2rem}.site-name{margin:.2rem 0;font-size:1.4rem;color:#fff;text-transform:none;letter-spacing:0}h3{font-size:1rem;margin:1.1rem 0 .4rem;color:var(--muted)}
.rs{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.3rem .9rem}.events{padding-left:1.1rem;font-size:.9rem}.revisions{padding-left:1.4rem;font-size:.9rem}
details{margin:.6rem 0}summary{cursor:pointer;min-height:2.75rem;display:flex;align-items:center;font-weight:600}.diff-form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.diff{flex-basis:100%;overflow-x:auto}.diff-table code{word-break:break-all}
.summary dd .badge{white-space:normal;text-transform:none;font-size:.85rem}
@media (max-width:40rem){.nodes .why{display:none}}
`;

export const STYLESHEET_PATH = '/assets/lvsfleet.css';

/**
 * A small, mobile-first page shell; no external assets (the pages work air-gapped). Styles and
 * scripts are files of this server, never inline, so the Content-Security-Policy can forbid inline code.
 */
export function layout(title: string, body: string, opts: { scriptSrc?: string } = {}): string {
  const script = opts.scriptSrc ? `<script src="${esc(opts.scriptSrc)}"></script>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><link rel="stylesheet" href="${STYLESHEET_PATH}"></head>
<body>${body}${script}</body></html>`;
}
