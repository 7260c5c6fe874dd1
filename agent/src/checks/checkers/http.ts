import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import * as z from 'zod';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import type { ProbeOutcome } from '../types.ts';
import { attempt, errorDetail, parseParams } from './common.ts';
import { statusMatches } from './http-status.ts';

const HttpParams = z.object({
  urls: z
    .array(z.object({ path: z.string().startsWith('/'), digest: z.string().optional(), expectStatus: z.array(z.union([z.number(), z.string()])).min(1) }))
    .min(1),
  virtualhost: z.string().optional(),
  sni: z.union([z.boolean(), z.string()]).optional(),
  verifyCertificate: z.boolean().optional(),
});
type HttpParams = z.infer<typeof HttpParams>;

/** Bodies past this size fail the check instead of filling memory. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * HTTP_GET / SSL_GET: every `url` must answer with an expected status code and, when `digest` is
 * set, a body whose MD5 (hex, as keepalived's genhash prints it) matches. `virtualhost` is sent as
 * the Host header. HTTPS does not verify the certificate unless `verifyCertificate` (keepalived
 * doesn't), and sends SNI only when `sni` is set (`true` = the virtualhost, as enable_sni).
 */
export async function httpCheck(check: ResolvedCheck, signal: AbortSignal): Promise<ProbeOutcome> {
  const params = parseParams(HttpParams, check);
  let last: ProbeOutcome = { ok: false, detail: 'no url' };
  for (const url of params.urls) {
    last = await getOne(check, params, url, signal);
    if (!last.ok) return last;
  }
  return last;
}

function getOne(check: ResolvedCheck, p: HttpParams, url: HttpParams['urls'][number], signal: AbortSignal): Promise<ProbeOutcome> {
  return attempt(check, signal, (settle) => {
    const tls = check.type === 'https';
    const servername = p.sni === true ? (p.virtualhost ?? '') : typeof p.sni === 'string' ? p.sni : '';
    const options: https.RequestOptions = {
      host: check.address,
      port: check.port,
      path: url.path,
      method: 'GET',
      agent: false,
      headers: { ...(p.virtualhost ? { Host: p.virtualhost } : {}), 'User-Agent': 'lvsfleet-healthcheck', Connection: 'close' },
      ...(check.bindTo ? { localAddress: check.bindTo } : {}),
      // '' turns SNI off: Node would otherwise derive it from the Host header.
      ...(tls ? { rejectUnauthorized: p.verifyCertificate ?? false, servername } : {}),
    };
    const req = (tls ? https : http).request(options, (res) => {
      const status = res.statusCode ?? 0;
      if (!statusMatches(status, url.expectStatus)) {
        settle({ ok: false, detail: `HTTP ${status} on ${url.path}` });
        return;
      }
      if (!url.digest) {
        res.resume();
        res.once('end', () => settle({ ok: true, detail: `HTTP ${status} on ${url.path}` }));
        res.once('error', (err) => settle({ ok: false, detail: errorDetail(`reading ${url.path}:`, err) }));
        return;
      }
      const md5 = createHash('md5');
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) settle({ ok: false, detail: `body of ${url.path} larger than ${MAX_BODY_BYTES} bytes` });
        else md5.update(chunk);
      });
      res.once('error', (err) => settle({ ok: false, detail: errorDetail(`reading ${url.path}:`, err) }));
      res.once('end', () => {
        const got = md5.digest('hex');
        const want = url.digest!.toLowerCase();
        settle(
          got === want
            ? { ok: true, detail: `HTTP ${status} on ${url.path}, digest ok` }
            : { ok: false, detail: `digest mismatch on ${url.path}: got ${got}, want ${want}` },
        );
      });
    });
    req.once('error', (err) => settle({ ok: false, detail: errorDetail(tls ? 'tls/connect' : 'connect', err) }));
    req.end();
    return () => req.destroy();
  });
}
