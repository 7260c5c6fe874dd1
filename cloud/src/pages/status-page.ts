import type { SiteStatusView } from './status-view.ts';
import { esc, layout } from './layout.ts';

const LABEL: Record<SiteStatusView['overall'], string> = {
  operational: 'All systems operational',
  degraded: 'Degraded',
  outage: 'Outage',
  unknown: 'No reports from any node',
};

/**
 * The public status page of a site: overall state, each service's health, which director holds
 * each VIP. Real-server addresses are left out — the page is public.
 */
export function renderStatusPage(v: SiteStatusView): string {
  const services = v.services
    .map(
      (s) => `<li class="row ${s.state}" data-service="${esc(s.name)}">
  <span class="name">${esc(s.name)}</span>
  <span class="badge ${s.state}">${esc(s.state)}</span>
  <span class="detail">${s.healthy}/${s.total} servers healthy</span>
</li>`,
    )
    .join('\n');
  const vrrp = v.vrrp
    .map(
      (i) => `<li class="row ${i.problem ? 'degraded' : 'up'}" data-instance="${esc(i.instance)}">
  <span class="name">${esc(i.instance)} <small>VRID ${i.vrid}</small></span>
  <span class="badge ${i.problem ? 'down' : 'up'}">${i.problem === 'split_brain' ? 'split brain' : i.problem === 'no_master' ? 'no master' : 'master ' + esc(i.masters[0] ?? '?')}</span>
</li>`,
    )
    .join('\n');
  const online = v.nodes.filter((n) => n.online === true).length;
  const body = `<header class="overall ${v.overall}" id="overall" data-overall="${v.overall}">
  <h1>${esc(v.site)}</h1>
  <p>${LABEL[v.overall]}</p>
</header>
<section><h2>Services</h2><ul class="list" id="services">${services || '<li class="row">No services</li>'}</ul></section>
<section><h2>Failover groups</h2><ul class="list" id="vrrp">${vrrp || '<li class="row">No VRRP instances</li>'}</ul></section>
<footer>${online}/${v.nodes.length} nodes reporting · revision ${v.revision} · updated <time datetime="${esc(v.generatedAt)}">${esc(v.generatedAt.replace('T', ' ').slice(0, 19))} UTC</time></footer>`;
  return layout(`${v.site} status`, body, { refreshSeconds: 15 });
}
