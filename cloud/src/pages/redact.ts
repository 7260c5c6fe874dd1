/** IPv4 with an optional port or prefix length. */
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5}|\/\d{1,2})?\b/g;
/**
 * IPv6: eight groups, or any compressed form (with `::`), optionally in brackets with a port.
 * Times such as 02:14:00 have three groups and no `::`, so they are left alone.
 */
const IPV6 =
  /\[?(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}(?:\.\d{1,3}){0,3})\]?(?::\d{1,5})?/gi;

const REDACTED = '[address hidden]';

/** Text with every IP address (and its port) replaced, for a status page that hides addresses. */
export function redactAddresses(text: string): string {
  return text.replace(IPV6, (m) => (m.includes('::') || m.split(':').length >= 8 ? REDACTED : m)).replace(IPV4, REDACTED);
}
