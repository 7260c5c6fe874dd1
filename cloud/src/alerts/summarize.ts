import { formatHostPort } from '#shared/util/ip.ts';

/** One line a person reads in Slack or a pager, from an event's type and data. */
export function summarize(type: string, d: Record<string, unknown>, nodeId: string | null): string {
  // The cloud's alerts (cloud/src/alerts/evaluate.ts) carry their words, resolutions included.
  if (typeof d.summary === 'string') return d.summary;
  const node = nodeId ? nodeId.slice(nodeId.indexOf('.') + 1) : 'a node';
  switch (type) {
    case 'vrrp.transition':
      return `${node}: ${d.instance} ${d.from}→${d.to} (${d.reason})`;
    case 'bfd.transition':
      return `${node}: BFD ${d.session} to ${d.peer} ${d.from}→${d.to} (${d.reason})`;
    case 'realserver.down':
    case 'realserver.up':
      return `${d.service}: ${formatHostPort(String(d.address), String(d.port))} is ${type.endsWith('down') ? 'DOWN' : 'up'} as seen from ${node} (${d.check}: ${d.detail})`;
    case 'service.quorum_lost':
      return `${d.service}: quorum lost on ${node} (healthy weight ${d.weight} < ${d.quorum})`;
    case 'service.quorum_restored':
      return `${d.service}: quorum restored on ${node}`;
    case 'apply.failed':
      return `${node} failed to apply revision ${d.revision}: ${d.error}`;
    case 'apply.succeeded':
      return `${node} applied revision ${d.revision}`;
    case 'config.rejected':
      return `${node} rejected a configuration (${d.why}): ${d.detail}`;
    case 'node.offline':
      return `${node} went offline`;
    case 'node.online':
      return `${node} is back online`;
    case 'node.misbehaving':
      return `${node} sent a message the cloud refused (${d.reason}): ${d.detail}`;
    case 'node.reenrolled':
      return `${node} was enrolled again: its old broker credentials no longer work`;
    default:
      return `${type} on ${node}`;
  }
}
