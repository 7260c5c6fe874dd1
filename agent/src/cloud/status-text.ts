import { MAX_STATUS_BYTES, MAX_STATUS_ERRORS, type NodeStatus } from '#shared/wire/status.ts';

/** A real server's check detail is cut to this many characters when the whole status is too large. */
export const SHORT_DETAIL = 80;

const withError = <T extends { errors?: string[] }>(s: T, error: string): T => ({ ...s, errors: [...(s.errors ?? []).slice(0, MAX_STATUS_ERRORS - 1), error] });

/**
 * The status as JSON the cloud takes: at most `max` bytes (MAX_STATUS_BYTES), over which it refuses
 * a status whole. A director of many real servers passes it when many checks fail with long
 * details, just when its status matters most. So, in order, until it fits: the real servers' check
 * details cut to SHORT_DETAIL characters; then the services' real-server states left out (no
 * `services`, which the cloud reads as not reported: unknown, never down). Each step says so in
 * `errors`.
 */
export function statusText(s: NodeStatus, max = MAX_STATUS_BYTES): string {
  const full = JSON.stringify(s);
  // A character is at most 3 bytes: a status under a third of the cap is not measured.
  if (full.length * 3 <= max || Buffer.byteLength(full) <= max || !s.services) return full;
  let cut = 0;
  const services = s.services.map((svc) => ({
    ...svc,
    realServers: svc.realServers.map((r) => {
      if (r.detail === undefined || r.detail.length <= SHORT_DETAIL) return r;
      cut++;
      return { ...r, detail: `${r.detail.slice(0, SHORT_DETAIL - 1)}…` };
    }),
  }));
  const short = JSON.stringify(withError({ ...s, services }, `status over ${max} bytes: ${cut} real servers' check details cut to ${SHORT_DETAIL} characters`));
  if (Buffer.byteLength(short) <= max) return short;
  const { services: _left, ...rest } = s;
  const count = s.services.reduce((n, svc) => n + svc.realServers.length, 0);
  return JSON.stringify(withError(rest, `status over ${max} bytes: the states of ${s.services.length} services' ${count} real servers left out`));
}
