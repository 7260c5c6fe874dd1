import { humanDuration } from '../status/incidents.ts';
import { esc } from './layout.ts';
import type { PublicStatus } from './public-status.ts';

/**
 * The incidents of a site's status page (last 30 days) as an Atom feed (RFC 4287): one entry per
 * incident, updated when it resolves, so a reader shows the resolution as a change. `pageUrl` is
 * the status page's absolute address.
 */
export function renderIncidentFeed(v: PublicStatus, pageUrl: string): string {
  // The feed changes when an incident is raised or resolved, not at every evaluation.
  const updated =
    v.incidents
      .map((i) => i.resolved ?? i.raised)
      .sort()
      .at(-1) ?? v.evaluatedAt;
  const entries = v.incidents
    .map((i) => {
      const state = i.open ? `ongoing for ${humanDuration(i.durationMs)}` : `resolved at ${i.resolved} after ${humanDuration(i.durationMs)}`;
      return `<entry>
<id>${esc(`${pageUrl}#incident-${i.id}`)}</id>
<title>${esc(`${i.open ? '' : 'Resolved: '}${i.summary}`)}</title>
<updated>${esc(i.resolved ?? i.raised)}</updated>
<published>${esc(i.raised)}</published>
<link rel="alternate" type="text/html" href="${esc(pageUrl)}"/>
<category term="${esc(i.severity)}"/>
<summary>${esc(`${i.severity}: ${i.summary} — began ${i.began}, ${state}`)}</summary>
</entry>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>${esc(pageUrl)}</id>
<title>${esc(`${v.title}: incidents`)}</title>
<updated>${esc(updated)}</updated>
<author><name>lvsfleet</name></author>
<link rel="self" type="application/atom+xml" href="${esc(`${pageUrl}/feed.atom`)}"/>
<link rel="alternate" type="text/html" href="${esc(pageUrl)}"/>
${entries}
</feed>
`;
}
