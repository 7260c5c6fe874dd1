import { badgeColour, type GroupState, type SiteState } from '#shared/status/model.ts';
import type { UptimeBar } from '#shared/status/uptime.ts';
import { humanDuration, type Incident } from '../status/incidents.ts';
import { esc, layout } from './layout.ts';
import type { PublicGroup, PublicReason, PublicStatus } from './public-status.ts';
import { clock, inWords } from './words.ts';

export const STATUS_SCRIPT_PATH = '/assets/status.js';

/** Statuspage's words for the site's state; `unknown` says why it is grey. */
const LABEL: Record<SiteState, string> = {
  operational: 'All systems operational',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
  unknown: 'Status unknown',
};

export const STATE_WORD: Record<SiteState, string> = {
  operational: 'operational',
  degraded_performance: 'degraded',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
  unknown: 'unknown',
};

export function groupWord(g: { state: GroupState; masters: string[] }): string {
  switch (g.state) {
    case 'ok':
      return `master ${g.masters[0] ?? ''}`.trim();
    case 'split_brain':
      return `split brain: ${g.masters.join(' and ')} are both MASTER`;
    case 'no_master':
      return 'no master';
    case 'unknown':
      return 'unknown';
  }
}

function reasonList(reasons: PublicReason[], now: number): string {
  if (!reasons.length) return '';
  return `<ul class="reasons">${reasons.map((r) => `<li data-code="${esc(r.code)}">${esc(inWords(r.text, now))}</li>`).join('')}</ul>`;
}

const pct = (x: number) => `${(Math.floor(x * 10_000) / 100).toFixed(2)}%`;

/** The 90-day bar: one cell per day, coloured by the day's worst state; days without history are blank. No inline style (CSP). */
function uptimeBarHtml(bar: UptimeBar, what: string): string {
  const cells = bar.days
    .map((d) => {
      if (d.noData) return `<span class="day none" title="${d.day}: no history"></span>`;
      const parts = [`${pct(d.up)} up`, d.degraded && `${pct(d.degraded)} degraded`, d.down && `${pct(d.down)} down`, d.unknown && `${pct(d.unknown)} unknown`];
      return `<span class="day ${d.worst ?? 'none'}" title="${d.day}: ${parts.filter(Boolean).join(', ')}"></span>`;
    })
    .join('');
  const label = bar.uptime === null ? `${what}: no history yet` : `${what}: ${pct(bar.uptime)} uptime over ${bar.days.length} days`;
  return `<div class="uptime"><div class="bar" role="img" aria-label="${esc(label)}">${cells}</div><small class="uptime-label">${esc(label)}</small></div>`;
}

function incidentItem(i: Incident, now: number): string {
  const span = i.open ? `ongoing for ${humanDuration(i.durationMs)}` : `resolved ${esc(clock(i.resolved!, now))} after ${humanDuration(i.durationMs)}`;
  return `<li class="incident ${i.open ? 'open' : 'resolved'}" data-type="${esc(i.type)}" data-open="${i.open}">
  <time datetime="${esc(i.began)}">${esc(clock(i.began, now))}</time> <span class="badge ${i.severity === 'critical' ? 'red' : i.severity === 'warning' ? 'orange' : 'grey'}">${esc(i.severity)}</span>
  <span class="summary">${esc(inWords(i.summary, now))}</span> <small>${span}</small>
</li>`;
}

function since(iso: string, now: number): string {
  return `<small class="since">since <time datetime="${esc(iso)}">${esc(clock(iso, now))}</time></small>`;
}

/** The part of the page the browser script replaces on each refresh. */
function mainHtml(v: PublicStatus, now: number): string {
  const services = v.services
    .map((s) => {
      const n = s.realServers;
      const unchecked = n.unchecked ? ` · ${n.unchecked} not checked` : '';
      const endpoint = s.endpoint ? ` <small>${esc(s.endpoint)}</small>` : '';
      return `<li class="row" data-service="${esc(s.name)}" data-state="${s.state}">
  <span class="name">${esc(s.name)}${endpoint}</span>
  <span class="badge ${badgeColour(s.state)}">${STATE_WORD[s.state]}</span>${since(s.since, now)}
  <span class="detail">${n.up}/${n.total} servers up${unchecked}</span>${reasonList(s.reasons, now)}${uptimeBarHtml(s.uptime, s.name)}
</li>`;
    })
    .join('\n');
  const groups = v.groups
    .map(
      (g: PublicGroup) => `<li class="row" data-instance="${esc(g.instance)}" data-state="${g.state}">
  <span class="name">${esc(g.instance)} <small>VRID ${g.vrid}</small></span>
  <span class="badge ${badgeColour(g.state)}">${esc(groupWord(g))}</span>${since(g.since, now)}${reasonList(g.reasons, now)}${uptimeBarHtml(g.uptime, g.instance)}
</li>`,
    )
    .join('\n');
  const incidents = v.incidents.map((i) => incidentItem(i, now)).join('\n');
  return `<header class="overall ${badgeColour(v.state)}" id="overall" data-overall="${v.state}">
  <h1>${esc(v.title)}</h1>
  <p>${LABEL[v.state]}</p>
  <small>since <time datetime="${esc(v.since)}">${esc(clock(v.since, now))}</time></small>
</header>${v.reasons.length ? `<section aria-labelledby="why"><h2 id="why">Why</h2>${reasonList(v.reasons, now)}</section>` : ''}
<section aria-labelledby="h-uptime"><h2 id="h-uptime">Uptime</h2>${uptimeBarHtml(v.uptime, v.title)}</section>
<section aria-labelledby="h-services"><h2 id="h-services">Services</h2><ul class="list" id="services">${services || '<li class="row">No services</li>'}</ul></section>
<section aria-labelledby="h-groups"><h2 id="h-groups">Failover groups</h2><ul class="list" id="vrrp">${groups || '<li class="row">No failover groups</li>'}</ul></section>
<section aria-labelledby="h-incidents"><h2 id="h-incidents">Incidents, last 30 days</h2><ol class="timeline" id="incidents">${incidents || '<li class="row">No incidents</li>'}</ol></section>
<p class="meta">${v.nodes.reporting}/${v.nodes.total} nodes reporting · revision ${v.revision} · evaluated <time id="evaluated" datetime="${esc(v.evaluatedAt)}">${esc(clock(v.evaluatedAt, now))}</time></p>`;
}

/**
 * The status page of a site, complete without JavaScript: state in Statuspage's words with its
 * reasons, each service and failover group with its state, since and 90-day uptime bar, and the
 * incidents of the last 30 days. The script (STATUS_SCRIPT_PATH) refreshes `#status` in place,
 * says how old the data is and raises the stale banner when the server cannot be reached; there
 * is no meta refresh, which would leave a phone on the browser's error page.
 */
export function renderStatusPage(v: PublicStatus, now: number, base: string): string {
  const body = `<div id="stale" class="banner" role="alert" hidden></div>
<main id="status">${mainHtml(v, now)}</main>
<footer><p id="freshness" aria-live="polite">Updated <time datetime="${esc(v.evaluatedAt)}">${esc(clock(v.evaluatedAt, now))}</time></p>
<noscript><p>This page does not refresh itself without JavaScript: reload it for the latest state.</p></noscript>
<p><a href="${esc(base)}.json">JSON</a> · <a href="${esc(base)}/feed.atom">Incident feed</a> · <a href="${esc(base)}/badge.svg">Badge</a> · <a href="/status">All sites</a></p></footer>`;
  return layout(`${v.title} status`, body, { scriptSrc: STATUS_SCRIPT_PATH });
}

/**
 * Progressive enhancement of the status page: reads the page itself again every 10 s and swaps
 * `#status`, so the server's one renderer stays the only one. Says "last updated N s ago"; when
 * the server cannot be reached (or answers with an error) the banner says since when the data is stale.
 */
export const STATUS_SCRIPT = `(() => {
const PERIOD = 10000, STALE_AFTER = 25000;
const $ = (s) => document.querySelector(s);
let lastOk = Date.now(), failing = null, busy = false;
const ago = (ms) => { const s = Math.max(0, Math.round(ms / 1000)); return s < 90 ? s + ' s' : Math.round(s / 60) + ' min'; };
function paint() {
  const age = Date.now() - lastOk;
  $('#freshness').textContent = 'Last updated ' + ago(age) + ' ago';
  const stale = failing !== null || age > STALE_AFTER;
  const banner = $('#stale');
  if (stale) {
    banner.textContent = 'Cannot reach the server' + (failing ? ' (' + failing + ')' : '') + ': this page shows the state of ' + ago(age) + ' ago.';
    banner.hidden = false;
  } else banner.hidden = true;
  document.body.classList.toggle('is-stale', stale);
}
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const res = await fetch(location.pathname, { headers: { accept: 'text/html' }, cache: 'no-store', credentials: 'same-origin' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const next = doc.querySelector('#status');
    if (!next) throw new Error('unexpected answer');
    $('#status').replaceWith(document.importNode(next, true));
    lastOk = Date.now();
    failing = null;
  } catch (e) {
    failing = e instanceof TypeError ? 'network error' : String(e.message || e);
  } finally {
    busy = false;
    paint();
  }
}
paint();
setInterval(paint, 1000);
setInterval(refresh, PERIOD);
document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
})();
`;
