/**
 * Site spec → one director's keepalived.conf, for `lvsfleet export keepalived`. What the spec
 * says and keepalived cannot (or the other way round) is returned in `warnings`, never lost
 * silently. Debian's keepalived accepts the output (`keepalived -t -f FILE`, see render.test.ts).
 */
import type { Site } from '../site/site.ts';
import { renderBfd } from './render-bfd.ts';
import { ConfWriter } from './render-text.ts';
import { servedBy, renderService } from './render-lvs.ts';
import { memberInstances, renderGlobal, renderInstance, renderScripts, renderSyncGroups, type RenderContext } from './render-vrrp.ts';
import { byName } from '../site/by-name.ts';

export class RenderError extends Error {
  readonly code = 'RENDER_NODE';
}

/** Renders the keepalived.conf of director `nodeName`; throws RenderError for an unknown node. */
export function renderKeepalived(site: Site, nodeName: string): { text: string; warnings: string[] } {
  const nodes = byName(site.spec.nodes);
  const node = nodes.get(nodeName);
  if (!node) throw new RenderError(`no node named "${nodeName}" in site ${site.metadata.name}`);
  if (node.role !== 'director') throw new RenderError(`node "${nodeName}" is a ${node.role}; only directors run keepalived`);
  const ctx: RenderContext = { site, node, nodes, warnings: [] };
  const w = new ConfWriter();
  w.line(`! keepalived.conf for ${node.name} of site ${site.metadata.name}, written by lvsfleet export`);
  const instances = memberInstances(ctx);
  renderGlobal(w, ctx, instances);
  renderScripts(w, ctx);
  renderBfd(w, ctx, instances);
  for (const inst of instances) renderInstance(w, ctx, inst);
  renderSyncGroups(w, ctx, instances);
  for (const svc of servedBy(ctx)) renderService(w, svc, ctx);
  const labels = [...(site.metadata.labels ? ['metadata.labels'] : []), ...site.spec.nodes.filter((n) => n.labels).map((n) => `nodes.${n.name}.labels`)];
  if (labels.length) ctx.warnings.push(`${labels.join(', ')}: keepalived.conf has no place for labels; left out`);
  return { text: w.toString(), warnings: ctx.warnings };
}
