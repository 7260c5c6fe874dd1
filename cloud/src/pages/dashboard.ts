import { badgeColour, GROUP_STATES, NODE_STATES, REALSERVER_STATES, SITE_STATES } from '#shared/status/model.ts';
import { formatHostPort } from '#shared/util/ip.ts';
import { nameList } from '#shared/util/name-list.ts';
import { ACTIVE_STATES } from '../rollout/plan.ts';
import { layout } from './layout.ts';

export const DASHBOARD_SCRIPT_PATH = '/assets/dashboard.js';
/** The model's badge colour of every state, for the browser script. */
const COLOURS = Object.fromEntries([...SITE_STATES, ...GROUP_STATES, ...REALSERVER_STATES, ...NODE_STATES].map((s) => [s, badgeColour(s)]));

/**
 * The operator dashboard at `/`: a static page whose script asks for an API token once and trades it for a
 * session (`POST /v1/session`: an HttpOnly, SameSite=Strict cookie the script cannot read, and a CSRF
 * token it keeps in memory for writes; the token itself is stored nowhere), then renders `GET /dashboard/fleet.json` every 10 s: the fleet summary, then the
 * sites worst first, each with its reasons, open alerts, nodes (last seen, applied/desired
 * revision, drift), failover groups (one red badge for a split brain), services with each real
 * server's health, recent events and revisions with a field-level diff between any two. Says how
 * old the data is and raises a banner when the server cannot be reached, keeping the last data.
 * Each site also shows its staged rollouts: the last ones as fleet.json lists them (counts, not node
 * lists: half a megabyte of names each at 10,000 nodes), and the one in progress, stage by stage,
 * from `GET /v1/sites/{site}/rollout?history=0` when there is one: the only request a refresh makes
 * for a site. Served at DASHBOARD_SCRIPT_PATH.
 */
export const DASHBOARD_SCRIPT = `
const $ = (s) => document.querySelector(s);
const esc = (v) => String(v).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]);
let csrf = null;
async function api(path, init) {
  const res = await fetch(path, { credentials: 'same-origin', ...init, headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) } });
  if (res.status === 401 || res.status === 403) { if (res.status === 401) csrf = null; throw new Error('token refused (' + res.status + ')'); }
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  return res.status === 204 ? null : res.json();
}
async function session() {
  if (csrf) return true;
  try { csrf = (await api('/v1/session')).csrfToken; } catch { csrf = null; }
  return csrf !== null;
}
const COLOUR = ${JSON.stringify(COLOURS)};
// The one endpoint formatter (shared/util/ip.ts), shipped as its own source: IPv6 in brackets.
const hostPort = ${formatHostPort.toString()};
// A stage's nodes as the events and the CLI name them: eight, then how many more (shared/util/name-list.ts).
const nameList = ${nameList.toString()};
const ACTIVE_ROLLOUT_STATES = ${JSON.stringify(ACTIVE_STATES)};
const badge = (state, text) => '<span class="badge ' + (COLOUR[state] || 'grey') + '">' + esc(text ?? state.replace('_', ' ')) + '</span>';
// The model's texts carry ISO times; people read them as "2026-11-30 02:14 UTC".
const tx = (s) => String(s).replace(/(\\d{4}-\\d{2}-\\d{2})T(\\d{2}:\\d{2})(:\\d{2}(\\.\\d+)?)?Z/g, '$1 $2 UTC');
const reasons = (rs) => rs.length ? '<ul class="reasons">' + rs.map((r) => '<li data-code="' + esc(r.code) + '">' + esc(tx(r.text)) + '</li>').join('') + '</ul>' : '';
const ago = (iso) => { if (!iso) return 'never'; const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)); return s < 90 ? s + ' s ago' : s < 5400 ? Math.round(s / 60) + ' min ago' : s < 172800 ? Math.round(s / 3600) + ' h ago' : Math.round(s / 86400) + ' d ago'; };
const clock = (iso) => iso ? esc(iso.replace('T', ' ').slice(0, 16)) + ' UTC' : '–';
const when = (iso) => '<time datetime="' + esc(iso) + '" title="' + clock(iso) + '">' + esc(ago(iso)) + '</time>';
const words = (s) => String(s).replace(/_/g, ' ');
const SEV = { critical: 'red', warning: 'orange', info: 'grey' };
function groupBadge(g) {
  if (g.state === 'ok') return '<span class="badge green">MASTER ' + esc(g.masters[0] || '') + '</span>';
  if (g.state === 'split_brain') return '<span class="badge red">split brain: ' + esc(g.masters.join(' + ')) + '</span>';
  return badge(g.state);
}
// A set of the released nodes: a scan of the list for each node of a 10,000-node stage is 5 × 10⁷ comparisons.
function isReleased(stage, rollout) {
  const released = new Set(rollout.released);
  return stage.nodes.every((n) => released.has(n));
}
// The last rollouts as fleet.json lists them; the one in progress (always the newest) read with its stages' nodes.
async function siteRollouts(v) {
  const active = v.rollouts[0] && ACTIVE_ROLLOUT_STATES.includes(v.rollouts[0].state);
  return { current: active ? (await api('/v1/sites/' + encodeURIComponent(v.site) + '/rollout?history=0')).current : null, history: v.rollouts };
}
function renderRollout(r) {
  if (!r) return '';
  const stage = (x) => '<li>' + esc(x.rollout.stages.indexOf(x.s) + 1) + '. ' + esc(x.s.name) + ': ' + esc(nameList(x.s.nodes)) + ' — ' + (isReleased(x.s, x.rollout) ? 'published' : 'held') + '</li>';
  const one = (o) => '<p data-rollout-state="' + esc(o.state) + '">revision ' + o.revision + ' (from ' + o.previousRevision + ') by ' + esc(o.author) + ': <b>' + esc(o.state.replace('_', ' ')) + '</b>' + (o.reason ? ' — ' + esc(o.reason) : '') + (o.rollbackRevision ? ' (revision ' + o.rollbackRevision + ' restored revision ' + o.previousRevision + ')' : '') + '</p>';
  const current = r.current ? one(r.current) + '<ul class="reasons">' + r.current.stages.map((s) => stage({ s, rollout: r.current })).join('') + '</ul>' : '<p>no rollout in progress</p>';
  const past = r.history.filter((o) => !r.current || o.revision !== r.current.revision).slice(0, 5).map(one).join('');
  return '<h3>Rollout</h3><div data-rollout>' + current + past + '</div>';
}
function summaryHtml(f) {
  const states = Object.entries(f.byState).filter(([, n]) => n > 0).map(([s, n]) => badge(s, n + ' ' + words(s))).join(' ') || 'none';
  const al = ['critical', 'warning', 'info'].filter((k) => f.openAlerts[k]).map((k) => '<span class="badge ' + SEV[k] + '">' + f.openAlerts[k] + ' ' + k + '</span>').join(' ') || 'none';
  return '<dl class="summary"><div><dt>Sites (' + f.sites + ')</dt><dd>' + states + '</dd></div><div><dt>Open alerts</dt><dd>' + al + '</dd></div>' +
    '<div><dt>Nodes offline</dt><dd id="nodes-offline">' + f.nodesOffline + ' of ' + f.nodes + '</dd></div><div><dt>Failovers, 24 h</dt><dd id="failovers">' + f.failovers + '</dd></div></dl>';
}
function renderSite(v) {
  const nodes = v.nodes.map((n) => '<tr data-node="' + esc(n.name) + '"><th scope="row">' + esc(n.name) + ' <small>' + esc(n.role) + '</small></th><td>' + badge(n.state) + '</td><td>' + when(n.lastReportAt) + '</td><td>' + esc(n.appliedRevision ?? '–') + ' / ' + esc(n.desiredRevision || '–') + (n.drift ? ' <span class="badge orange">drift</span>' : '') + '</td><td class="why">' + esc(tx(n.reasons.map((r) => r.text).join('; '))) + '</td></tr>').join('');
  const members = (g) => '<span class="detail">' + g.members.map((m) => esc(m.node + ' ' + m.state)).join(' · ') + '</span>';
  const vrrp = v.vrrp.map((g) => '<li class="row" data-instance="' + esc(g.instance) + '" data-state="' + esc(g.state) + '"><span class="name">' + esc(g.instance) + ' <small>VRID ' + g.vrid + '</small></span>' + groupBadge(g) + ' <small class="since">since ' + when(g.since) + '</small>' + members(g) + reasons(g.reasons) + '</li>').join('');
  const RS = { up: 'green', down: 'red', unchecked: 'grey', unknown: 'grey' };
  const rs = (r) => '<li data-rs="' + esc(hostPort(r.address, r.port)) + '">' + esc(hostPort(r.address, r.port)) + ' <span class="badge ' + RS[r.state] + '">' + esc(r.state === 'unchecked' ? 'not checked' : r.state) + '</span>' + (r.detail ? ' <small>' + esc(r.detail) + '</small>' : '') + '</li>';
  const svcs = v.services.map((s) => '<li class="row" data-service="' + esc(s.name) + '" data-state="' + esc(s.state) + '"><span class="name">' + esc(s.name) + ' <small>' + esc(s.endpoint) + '</small></span>' + badge(s.state) + ' <small class="since">since ' + when(s.since) + '</small><ul class="detail rs">' + s.realServers.map(rs).join('') + '</ul>' + reasons(s.reasons) + '</li>').join('');
  const alerts = v.openAlerts.length ? '<ul class="list alerts">' + v.openAlerts.map((a) => '<li class="row" data-alert="' + esc(a.type) + '"><span class="badge ' + (SEV[a.severity] || 'grey') + '">' + esc(a.severity) + '</span> ' + esc(tx(a.summary)) + ' <small class="since">' + when(a.raisedAt) + '</small></li>').join('') + '</ul>' : '';
  const events = v.events.length ? '<ol class="events">' + v.events.map((e) => '<li><small>' + when(e.at) + '</small> <code>' + esc(e.type) + '</code> ' + esc(e.node ? e.node.replace(v.site + '.', '') : 'cloud') + ' ' + esc(eventText(e)) + '</li>').join('') + '</ol>' : '<p>No events in the last 24 h.</p>';
  const opts = (sel) => v.revisions.map((r) => '<option value="' + r.revision + '"' + (r.revision === sel ? ' selected' : '') + '>' + r.revision + '</option>').join('');
  const revs = '<ol class="revisions">' + v.revisions.map((r) => '<li>' + r.revision + ' · ' + esc(r.author) + ' · ' + when(r.createdAt) + (r.message ? ' · ' + esc(r.message) : '') + (r.rolledBackFrom ? ' (rollback)' : '') + '</li>').join('') + '</ol>' +
    (v.revisions.length > 1 ? '<form class="diff-form" data-site="' + esc(v.site) + '"><label>from <select name="from">' + opts(v.revisions[1].revision) + '</select></label> <label>to <select name="to">' + opts(v.revisions[0].revision) + '</select></label> <button type="submit">Compare</button><div class="diff" aria-live="polite"></div></form>' : '');
  return '<section class="site" data-site="' + esc(v.site) + '" data-state="' + esc(v.state) + '"><header class="overall ' + (COLOUR[v.state] || 'grey') + '"><h2 class="site-name">' + esc(v.site) + '</h2><p>' + esc(words(v.state)) + ' since ' + clock(v.since) + ' · revision ' + v.revision + '</p>' + reasons(v.reasons) + '</header>' + alerts +
    '<h3>Nodes</h3><div class="scroll"><table class="nodes"><thead><tr><th scope="col">node</th><th scope="col">state</th><th scope="col">last seen</th><th scope="col">rev applied / desired</th><th scope="col" class="why">why</th></tr></thead><tbody>' + nodes + '</tbody></table></div>' +
    '<h3>Failover groups</h3><ul class="list">' + (vrrp || '<li class="row">none</li>') + '</ul><h3>Services</h3><ul class="list">' + (svcs || '<li class="row">none</li>') + '</ul>' +
    ((v.overrides || []).length ? '<h3>Overrides</h3><ul class="list" id="overrides">' + v.overrides.map((o) => '<li class="row" data-override="' + esc(o.id) + '" data-kind="' + esc(o.kind) + '">' + esc(tx(o.text)) + '</li>').join('') + '</ul>' : '') +
    renderRollout(v.rollout) +
    '<details><summary>Recent events (' + v.events.length + ')</summary>' + events + '</details><details><summary>Revisions (' + v.revisions.length + ')</summary>' + revs + '</details></section>';
}
function eventText(e) {
  const d = e.data || {};
  if (e.type === 'vrrp.transition') return d.instance + ' ' + d.from + ' → ' + d.to + (d.reason ? ' (' + d.reason + ')' : '');
  return d.summary || d.error || d.detail || '';
}
const show = (v) => JSON.stringify(v);
async function compare(form) {
  const out = form.querySelector('.diff');
  try {
    const d = await api('/dashboard/sites/' + encodeURIComponent(form.dataset.site) + '/diff.json?from=' + form.from.value + '&to=' + form.to.value);
    out.innerHTML = d.changes.length ? '<table class="diff-table"><thead><tr><th scope="col">field</th><th scope="col">' + d.from + '</th><th scope="col">' + d.to + '</th></tr></thead><tbody>' + d.changes.map((c) => '<tr><td><code>' + esc(c.path) + '</code></td><td>' + ('before' in c ? esc(show(c.before)) : '<em>absent</em>') + '</td><td>' + ('after' in c ? esc(show(c.after)) : '<em>absent</em>') + '</td></tr>').join('') + '</tbody></table>' : '<p>No differences.</p>';
  } catch (e) { out.textContent = e.message; }
}
document.addEventListener('submit', (e) => { if (e.target.classList && e.target.classList.contains('diff-form')) { e.preventDefault(); compare(e.target); } });
let lastOk = 0, failing = null;
function freshness() {
  if (!lastOk) return;
  const age = Date.now() - lastOk;
  $('#freshness').textContent = 'Last updated ' + ago(new Date(lastOk).toISOString());
  const stale = failing !== null || age > 25000;
  $('#stale').hidden = !stale;
  if (stale) $('#stale').textContent = 'Cannot reach the server' + (failing ? ' (' + failing + ')' : '') + ': the data below is from ' + ago(new Date(lastOk).toISOString()) + '.';
  document.body.classList.toggle('is-stale', stale);
}
setInterval(freshness, 1000);
async function load() {
  const out = $('#sites');
  if (!(await session())) { out.innerHTML = ''; $('#login').hidden = false; $('#logout').hidden = true; return; }
  $('#login').hidden = true; $('#logout').hidden = false;
  try {
    const fleet = await api('/dashboard/fleet.json');
    await Promise.all(fleet.sites.map(async (v) => { v.rollout = await siteRollouts(v).catch(() => null); }));
    // A diff the operator opened stays open across refreshes: the sites are re-rendered only when no form is in use.
    if (document.activeElement && document.activeElement.closest && document.activeElement.closest('.diff-form')) { lastOk = Date.now(); failing = null; freshness(); return; }
    const open = new Set([...document.querySelectorAll('details[open]')].map((d) => d.closest('.site').dataset.site + '|' + d.querySelector('summary').textContent.split(' (')[0]));
    $('#summary').innerHTML = summaryHtml(fleet.summary);
    out.innerHTML = fleet.sites.length ? fleet.sites.map(renderSite).join('') : '<p>No sites yet: <code>lvsfleet apply -f site.yaml</code></p>';
    for (const d of document.querySelectorAll('details')) if (open.has(d.closest('.site').dataset.site + '|' + d.querySelector('summary').textContent.split(' (')[0])) d.open = true;
    $('#error').textContent = '';
    lastOk = Date.now(); failing = null;
  } catch (e) {
    if (/token refused/.test(e.message)) { $('#error').textContent = e.message; $('#login').hidden = false; }
    else failing = e instanceof TypeError ? 'network error' : e.message;
  }
  freshness();
}
$('#login').addEventListener('submit', async (e) => {
  e.preventDefault();
  try { csrf = (await api('/v1/session', { method: 'POST', body: JSON.stringify({ token: $('#token').value.trim() }) })).csrfToken; $('#token').value = ''; $('#error').textContent = ''; load(); }
  catch (err) { $('#error').textContent = err.message; }
});
$('#logout').addEventListener('click', async () => { try { await api('/v1/session', { method: 'DELETE' }); } finally { csrf = null; $('#sites').innerHTML = ''; load(); } });
load(); setInterval(load, 10000);
`;

export function renderDashboard(): string {
  const body = `<div id="stale" class="banner" role="alert" hidden></div>
<form id="login" hidden><h1>lvsfleet</h1><p>Paste an API token (viewer or above).</p>
<input id="token" type="password" autocomplete="off" placeholder="token" aria-label="API token"> <button type="submit">Open</button></form>
<button id="logout" type="button" hidden>Log out</button>
<p id="error" role="alert"></p>
<noscript><p class="banner">The lvsfleet dashboard needs JavaScript. Without it, use <code>lvsfleet status</code>, the API (<a href="/openapi.json">/openapi.json</a>) or a site's status page at <code>/status/SITE</code>.</p></noscript>
<main><h1 class="visually-hidden">lvsfleet fleet</h1><section id="summary" aria-label="Fleet summary"></section><div id="sites"></div></main>
<footer><p id="freshness" aria-live="polite"></p></footer>`;
  return layout('lvsfleet', body, { scriptSrc: DASHBOARD_SCRIPT_PATH });
}
