/** Names shown whole in one line of text; a longer list shows this many and a count of the rest. */
export const NAMES_SHOWN = 8;

/**
 * Names for one line a person reads (an event's summary, a CLI line): every one up to `max`, else
 * the first `max` and how many more. A rollout stage of a 10,000-node site named every node, a line
 * of about 90 KB in each event, webhook, Slack message and CLI line about it; the full list stays
 * in the data beside the line (the event's `nodes`, `-o json`).
 */
export function nameList(names: readonly string[], max = NAMES_SHOWN): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
