import type { AlertEvent } from './evaluate.ts';

const ICON: Record<string, string> = {
  'site.split_brain': ':rotating_light:',
  'site.no_master': ':rotating_light:',
  'site.unreachable': ':rotating_light:',
  'service.down': ':rotating_light:',
  'node.offline': ':red_circle:',
  'node.online': ':large_green_circle:',
  'realserver.down': ':warning:',
  'realserver.up': ':white_check_mark:',
  'node.stale_revision': ':hourglass:',
  'vrrp.transition': ':arrows_counterclockwise:',
};

/**
 * Shapes an event for a Slack incoming webhook (`{text, blocks}`). A `….resolved` event says
 * "resolved" up front; `statusUrl` (the site's status page) is linked under the message.
 */
export function toSlack(e: AlertEvent, statusUrl?: string): { text: string; blocks: unknown[] } {
  const resolved = e.type.endsWith('.resolved');
  const type = resolved ? e.type.slice(0, -'.resolved'.length) : e.type;
  const icon = resolved ? ':white_check_mark:' : (ICON[e.type] ?? ':information_source:');
  const text = `${icon} ${resolved ? 'Resolved: ' : ''}*${type}* on \`${e.site ?? '?'}\`: ${e.summary}`;
  const link = statusUrl ? ` · <${statusUrl}|status page>` : '';
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${e.at}${e.nodeId ? ` · ${e.nodeId}` : ''}${link}` }] },
    ],
  };
}
