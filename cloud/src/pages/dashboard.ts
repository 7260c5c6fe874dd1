import { layout } from './layout.ts';

export const DASHBOARD_SCRIPT_PATH = '/assets/dashboard.js';

/**
 * The operator dashboard at `/`: a static page whose script asks for an API token once (kept in
 * localStorage), lists the sites from `GET /v1/sites` and shows each site's full view from
 * `GET /dashboard/sites/{site}.json` — nodes, VRRP states, real-server health.
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
function renderSite(v) {
  const nodes = v.nodes.map((n) => '<tr><td>' + esc(n.name) + '</td><td>' + esc(n.role) + '</td><td><span class="badge ' + (n.online ? 'up' : n.online === null ? 'unknown' : 'down') + '">' + (n.online === null ? 'never seen' : n.online ? 'online' : 'offline') + '</span></td><td>' + esc(n.appliedRevision ?? '–') + ' / ' + esc(n.desiredRevision) + (n.stale ? ' ⚠' : '') + '</td></tr>').join('');
  const vrrp = v.vrrp.map((i) => '<li class="row" data-instance="' + esc(i.instance) + '"><span class="name">' + esc(i.instance) + ' <small>VRID ' + i.vrid + '</small></span>' + i.states.map((s) => '<span class="badge ' + esc(s.state) + '">' + esc(s.node) + ' ' + esc(s.state) + '</span>').join(' ') + (i.problem ? '<span class="detail">' + esc(i.problem.replace('_', ' ')) + '</span>' : '') + '</li>').join('');
  const svcs = v.services.map((s) => '<li class="row ' + s.state + '" data-service="' + esc(s.name) + '"><span class="name">' + esc(s.name) + ' <small>' + esc(s.endpoint) + '</small></span><span class="badge ' + s.state + '">' + s.state + '</span><span class="detail">' + s.realServers.map((r) => esc(r.address + ':' + r.port) + ' ' + (r.healthy === null ? '?' : r.healthy ? '✓' : '✗')).join(' · ') + '</span></li>').join('');
  return '<section class="site" data-site="' + esc(v.site) + '"><header class="overall ' + v.overall + '"><h1>' + esc(v.site) + '</h1><p>' + esc(v.overall) + ' · revision ' + v.revision + '</p></header>' +
    '<h2>Nodes</h2><table><thead><tr><th>node</th><th>role</th><th>state</th><th title="applied / desired">rev</th></tr></thead><tbody>' + nodes + '</tbody></table>' +
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
