import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * `ADDR:PORT` of `--metrics-listen` / `metrics.listen`: an IPv4 address, a bracketed IPv6 one or
 * `localhost`, and a port (0: any free one). The address is never implied: serving metrics on
 * every interface takes an explicit 0.0.0.0 or [::]. Returns null when malformed.
 */
export function parseListenAddress(v: string): ListenAddress | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  if (!m) return null;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) return null;
  if (m[1] !== undefined ? isIP(host) !== 6 : isIP(host) !== 4 && host !== 'localhost') return null;
  return { host, port };
}
