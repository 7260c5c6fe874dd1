import type { AlertEvent } from './evaluate.ts';

const ICON: Record<string, string> = {
  'site.split_brain': ':rotating_light:',
  'site.no_master': ':rotating_light:',
  'node.offline': ':red_circle:',
  'node.online': ':large_green_circle:',
  'realserver.down': ':warning:',
  'realserver.up': ':white_check_mark:',
  'node.stale_revision': ':hourglass:',
  'vrrp.transition': ':arrows_counterclockwise:',
  'bfd.transition': ':satellite_antenna:',
};

/** Shapes an event for a Slack incoming webhook (`{text, blocks}`). */
export function toSlack(e: AlertEvent): { text: string; blocks: unknown[] } {
  const text = `${ICON[e.type] ?? ':information_source:'} *${e.type}* on \`${e.site ?? '?'}\`: ${e.summary}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${e.at}${e.nodeId ? ` · ${e.nodeId}` : ''}` }] },
    ],
  };
}
