/**
 * Names for one line a person reads (an event's summary, a CLI line, the dashboard): every one up
 * to `max`, else the first `max` and how many more. A rollout stage of a 10,000-node site named
 * every node, a line of about 79 KB in each event, webhook, Slack message and CLI line about it;
 * the full list stays in the data beside the line (the event's `nodes`, `-o json`). Self-contained:
 * the dashboard's script ships its source (cloud/src/pages/dashboard.ts).
 */
export function nameList(names: readonly string[], max = 8): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
