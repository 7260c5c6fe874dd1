import * as z from 'zod';
import { Duration } from '../util/duration.ts';
import { IpAddress } from '../util/ip.ts';

/**
 * Health checks with keepalived's timing semantics:
 * interval = delay_loop, timeout = connect_timeout, retries = retry (nb_get_retry),
 * retryDelay = delay_before_retry, warmup = warmup. Defaults live in ../spec/defaults.ts.
 */
const timing = {
  interval: Duration.optional(),
  timeout: Duration.optional(),
  retries: z.number().int().min(0).max(100).optional(),
  retryDelay: Duration.optional(),
  warmup: Duration.optional(),
  /** connect_port: probe this port instead of the real server's. */
  port: z.number().int().min(1).max(65535).optional(),
  /** connect_ip: probe this address instead of the real server's. */
  address: IpAddress.optional(),
  /** bindto: source address of the probe. */
  bindTo: IpAddress.optional(),
};

/** A status code (`200`) or an inclusive range (`"200-299"`), as keepalived's status_code. */
const StatusCode = z.union(
  [z.number().int().min(100).max(599), z.string().regex(/^[1-5]\d\d-[1-5]\d\d$/, { message: 'expected a status code or a range like 200-299' })],
  { error: 'expected a status code or a range like 200-299' },
);

/** One `url { path digest status_code }` block of HTTP_GET / SSL_GET. */
const HttpUrl = z.strictObject({
  path: z.string().startsWith('/', { message: 'path must start with /' }),
  /** MD5 of the body as hex, as keepalived's genhash prints it. */
  digest: z
    .string()
    .regex(/^[0-9a-f]{32}$/i, { message: 'expected an MD5 digest of 32 hex digits' })
    .optional(),
  expectStatus: z.array(StatusCode).min(1).optional(),
});

const httpFields = {
  ...timing,
  path: z.string().startsWith('/', { message: 'path must start with /' }).optional(),
  digest: HttpUrl.shape.digest,
  expectStatus: z.array(StatusCode).min(1).optional(),
  /** Several url blocks; the server is up only when all of them pass. */
  urls: z.array(HttpUrl).min(1).optional(),
  virtualhost: z.string().min(1).optional(),
};

const TcpCheck = z.strictObject({ type: z.literal('tcp'), ...timing });
const HttpCheck = z.strictObject({ type: z.literal('http'), ...httpFields });
const HttpsCheck = z.strictObject({
  type: z.literal('https'),
  ...httpFields,
  /** SNI server name; `true` sends the virtualhost (keepalived enable_sni). */
  sni: z.union([z.boolean(), z.string().min(1)], { error: 'expected true, false or a server name' }).optional(),
  verifyCertificate: z.boolean().optional(),
});
const SmtpCheck = z.strictObject({ type: z.literal('smtp'), ...timing, helo: z.string().min(1).optional() });
const DnsCheck = z.strictObject({
  type: z.literal('dns'),
  ...timing,
  queryType: z.enum(['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA']).optional(),
  name: z.string().min(1).optional(),
});
const MiscCheck = z.strictObject({
  type: z.literal('misc'),
  ...timing,
  /** misc_path: run with a timeout; exit 0 up, 1 down. */
  command: z.string().min(1),
  /** misc_dynamic: exit 2–255 sets the weight to (code - 2). */
  dynamic: z.boolean().optional(),
  user: z.string().min(1).optional(),
});
const UdpCheck = z.strictObject({
  type: z.literal('udp'),
  ...timing,
  /** payload to send, hex. */
  payload: z
    .string()
    .regex(/^([0-9a-f]{2})*$/i, { message: 'expected hex bytes' })
    .optional(),
  /** expected reply prefix, hex; without it any reply (and no ICMP error) means up. */
  expect: z
    .string()
    .regex(/^([0-9a-f]{2})*$/i, { message: 'expected hex bytes' })
    .optional(),
  requireReply: z.boolean().optional(),
  /** keepalived min_reply_length / max_reply_length (defaults 0 and 255), checked with requireReply. */
  minReplyLength: z.number().int().min(0).max(65507).optional(),
  maxReplyLength: z.number().int().min(0).max(65507).optional(),
});
const PingCheck = z.strictObject({ type: z.literal('ping'), ...timing });

export const HealthCheck = z.discriminatedUnion('type', [TcpCheck, HttpCheck, HttpsCheck, SmtpCheck, DnsCheck, MiscCheck, UdpCheck, PingCheck]);
export type HealthCheck = z.infer<typeof HealthCheck>;
