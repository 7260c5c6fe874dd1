import { badgeColour, GROUP_STATES, NODE_STATES, REALSERVER_STATES, SITE_STATES } from '#shared/status/model.ts';
import { layout } from './layout.ts';

export const DASHBOARD_SCRIPT_PATH = '/assets/dashboard.js';
/** The model's badge colour of every state, for the browser script. */
const COLOURS = Object.fromEntries([...SITE_STATES, ...GROUP_STATES, ...REALSERVER_STATES, ...NODE_STATES].map((s) => [s, badgeColour(s)]));

/**
 * The operator dashboard at `/`: a static page whose script asks for an API token once (kept in
 * localStorage), lists the sites from `GET /v1/sites` and shows each site's status (the model's `SiteStatus`) from
 * `GET /dashboard/sites/{site}.json` — state and reasons of the site, nodes, VRRP groups, real servers.
 */
/** The dashboard's script, served at DASHBOARD_SCRIPT_PATH. */
export const DASHBOARD_SCRIPT = `
const $ = (s) => document.querySelector(s);
const esc = (v) => String(v).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]);
const token = () => localStorage.getItem('lvsfleet.token') || '';
async function api(path) {
  const res = await fetch(path, { headers: { authorization: 'Bearer ' + token() } });
  if (res.status === 401 || res.status === 403) throw new Error('token refused (' + res.status + ')');
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  return res.json();
}
function siteNames(body) {
  const list = Array.isArray(body) ? body : (body.sites || body.items || []);
  return list.map((s) => typeof s === 'string' ? s : s.name);
}
const COLOUR = ${JSON.stringify(COLOURS)};
const badge = (state, text) => '<span class="badge ' + (COLOUR[state] || 'grey') + '">' + esc(text ?? state.replace('_', ' ')) + '</span>';
const reasons = (rs) => rs.length ? '<ul class="reasons">' + rs.map((r) => '<li data-code="' + esc(r.code) + '">' + esc(r.text) + '</li>').join('') + '</ul>' : '';
function renderSite(v) {
  const nodes = v.nodes.map((n) => '<tr data-node="' + esc(n.name) + '"><td>' + esc(n.name) + '</td><td>' + esc(n.role) + '</td><td>' + badge(n.state) + '</td><td>' + esc(n.appliedRevision ?? '–') + '</td><td>' + esc(n.reasons.map((r) => r.text).join('; ')) + '</td></tr>').join('');
  const member = (m) => '<span class="badge ' + esc(m.state) + '">' + esc(m.node) + ' ' + esc(m.state) + '</span>';
  const vrrp = v.vrrp.map((g) => '<li class="row" data-instance="' + esc(g.instance) + '" data-state="' + esc(g.state) + '"><span class="name">' + esc(g.instance) + ' <small>VRID ' + g.vrid + '</small></span>' + badge(g.state, g.state === 'ok' ? 'ok' : null) + ' ' + g.members.map(member).join(' ') + reasons(g.reasons) + '</li>').join('');
  const rs = (r) => esc(r.address + ':' + r.port) + ' ' + ({ up: '✓', down: '✗', unchecked: 'unchecked', unknown: '?' })[r.state];
  const svcs = v.services.map((s) => '<li class="row" data-service="' + esc(s.name) + '" data-state="' + esc(s.state) + '"><span class="name">' + esc(s.name) + ' <small>' + esc(s.endpoint) + '</small></span>' + badge(s.state) + '<span class="detail">' + s.realServers.map(rs).join(' · ') + '</span>' + reasons(s.reasons) + '</li>').join('');
  return '<section class="site" data-site="' + esc(v.site) + '" data-state="' + esc(v.state) + '"><header class="overall ' + (COLOUR[v.state] || 'grey') + '"><h1>' + esc(v.site) + '</h1><p>' + esc(v.state.replace('_', ' ')) + ' since ' + esc(v.since) + ' · revision ' + v.revision + '</p>' + reasons(v.reasons) + '</header>' +
    ((v.overrides || []).length ? '<h2>Overrides</h2><ul class="list" id="overrides">' + v.overrides.map((o) => '<li class="row" data-override="' + esc(o.id) + '" data-kind="' + esc(o.kind) + '">' + esc(o.text) + '</li>').join('') + '</ul>' : '') +
    '<h2>Nodes</h2><table><thead><tr><th>node</th><th>role</th><th>state</th><th>rev</th><th>why</th></tr></thead><tbody>' + nodes + '</tbody></table>' +
    '<h2>VRRP</h2><ul class="list">' + vrrp + '</ul><h2>Services</h2><ul class="list">' + svcs + '</ul></section>';
}
async function load() {
  const out = $('#sites');
  if (!token()) { out.innerHTML = ''; $('#login').hidden = false; return; }
  $('#login').hidden = true;
  try {
    const names = siteNames(await api('/v1/sites'));
    const views = await Promise.all(names.map((n) => api('/dashboard/sites/' + encodeURIComponent(n) + '.json')));
    out.innerHTML = views.length ? views.map(renderSite).join('') : '<p>No sites yet: <code>lvsfleet apply -f site.yaml</code></p>';
    $('#error').textContent = '';
  } catch (e) { $('#error').textContent = e.message; if (/token refused/.test(e.message)) { $('#login').hidden = false; } }
}
$('#login').addEventListener('submit', (e) => { e.preventDefault(); localStorage.setItem('lvsfleet.token', $('#token').value.trim()); load(); });
load(); setInterval(load, 10000);
`;

export function renderDashboard(): string {
  const body = `<form id="login" hidden><h1>lvsfleet</h1><p>Paste an API token (viewer or above).</p>
<input id="token" type="password" autocomplete="off" placeholder="token" aria-label="API token"> <button type="submit">Open</button></form>
<p id="error" role="alert"></p><main id="sites"></main>`;
  return layout('lvsfleet', body, { scriptSrc: DASHBOARD_SCRIPT_PATH });
}
