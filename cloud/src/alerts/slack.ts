import { WARNING_EVENT_TYPES } from '#shared/wire/events.ts';
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
  'bfd.transition': ':satellite_antenna:',
  'rollout.started': ':arrow_forward:',
  'rollout.stage': ':arrow_forward:',
  'rollout.completed': ':white_check_mark:',
  'rollout.rolled_back': ':rewind:',
  'rollout.aborted': ':octagonal_sign:',
  'override.created': ':construction:',
  'override.expired': ':arrows_counterclockwise:',
  'override.cancelled': ':arrows_counterclockwise:',
};

/**
 * Slack mrkdwn's three control characters escaped, as Slack asks: node-controlled text (a VRRP
 * reason, a check's detail) must not become `<!channel>` or a `<https://…|link>`.
 */
function mrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Shapes an event for a Slack incoming webhook (`{text, blocks}`). A `….resolved` event says
 * "resolved" up front; `statusUrl` (the site's status page) is linked under the message.
 */
export function toSlack(e: AlertEvent, statusUrl?: string): { text: string; blocks: unknown[] } {
  const resolved = e.type.endsWith('.resolved');
  const type = resolved ? e.type.slice(0, -'.resolved'.length) : e.type;
  const icon = resolved ? ':white_check_mark:' : (ICON[e.type] ?? (WARNING_EVENT_TYPES.has(e.type) ? ':warning:' : ':information_source:'));
  const text = `${icon} ${resolved ? 'Resolved: ' : ''}*${mrkdwn(type)}* on \`${mrkdwn(e.site ?? '?')}\`: ${mrkdwn(e.summary)}`;
  const link = statusUrl ? ` · <${statusUrl}|status page>` : '';
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${mrkdwn(`${e.at}${e.nodeId ? ` · ${e.nodeId}` : ''}`)}${link}` }] },
    ],
  };
}
