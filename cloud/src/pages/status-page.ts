import { badgeColour, type GroupStatus, type Reason, type SiteState } from '#shared/status/model.ts';
import type { PublicView } from './view.ts';
import { esc, layout } from './layout.ts';

/** Statuspage's words for the site's state; `unknown` says why it is grey. */
const LABEL: Record<SiteState, string> = {
  operational: 'All systems operational',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
  unknown: 'Status unknown: the cloud cannot see this site',
};

const WORD: Record<SiteState, string> = {
  operational: 'operational',
  degraded_performance: 'degraded',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
  unknown: 'unknown',
};

function groupBadge(g: GroupStatus): string {
  switch (g.state) {
    case 'ok':
      return `master ${g.masters[0]}`;
    case 'split_brain':
      return 'split brain';
    case 'no_master':
      return 'no master';
    case 'unknown':
      return 'unknown';
  }
}

function reasonList(reasons: Reason[]): string {
  if (!reasons.length) return '';
  return `<ul class="reasons">${reasons.map((r) => `<li data-code="${esc(r.code)}">${esc(r.text)}</li>`).join('')}</ul>`;
}

/**
 * The public status page of a site: the site's state in Statuspage's words with its reasons,
 * each service's state and how many of its real servers are up, and who holds each VIP. Never
 * green without a fresh report behind it; unknown is grey. Real-server addresses are left out.
 */
export function renderStatusPage(v: PublicView): string {
  const services = v.services
    .map((s) => {
      const n = s.realServerCounts;
      const unchecked = n.unchecked ? ` · ${n.unchecked} not checked` : '';
      return `<li class="row" data-service="${esc(s.name)}" data-state="${s.state}">
  <span class="name">${esc(s.name)}</span>
  <span class="badge ${badgeColour(s.state)}">${WORD[s.state]}</span>
  <span class="detail">${n.up}/${n.total} servers up${unchecked}</span>${reasonList(s.reasons)}
</li>`;
    })
    .join('\n');
  const vrrp = v.vrrp
    .map(
      (g) => `<li class="row" data-instance="${esc(g.instance)}" data-state="${g.state}">
  <span class="name">${esc(g.instance)} <small>VRID ${g.vrid}</small></span>
  <span class="badge ${badgeColour(g.state)}">${esc(groupBadge(g))}</span>${reasonList(g.reasons)}
</li>`,
    )
    .join('\n');
  const online = v.nodes.filter((n) => n.state === 'online' || n.state === 'degraded').length;
  const body = `<header class="overall ${badgeColour(v.state)}" id="overall" data-overall="${v.state}">
  <h1>${esc(v.site)}</h1>
  <p>${LABEL[v.state]}</p>
  <small>since <time datetime="${esc(v.since)}">${esc(v.since.replace('T', ' ').slice(0, 19))} UTC</time></small>
</header>${v.reasons.length ? `<section><h2>Why</h2>${reasonList(v.reasons)}</section>` : ''}
<section><h2>Services</h2><ul class="list" id="services">${services || '<li class="row">No services</li>'}</ul></section>
<section><h2>Failover groups</h2><ul class="list" id="vrrp">${vrrp || '<li class="row">No VRRP instances</li>'}</ul></section>
<footer>${online}/${v.nodes.length} nodes reporting · revision ${v.revision} · updated <time datetime="${esc(v.evaluatedAt)}">${esc(v.evaluatedAt.replace('T', ' ').slice(0, 19))} UTC</time></footer>`;
  return layout(`${v.site} status`, body, { refreshSeconds: 15 });
}
