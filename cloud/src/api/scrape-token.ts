import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Lets a Prometheus scrape through, or throws: `token` undefined asks for nothing, null means
 * /metrics is off (404, saying how to turn it on), a string must come as `Authorization: Bearer`.
 * Compared as digests in constant time, so the answer's timing says nothing about the token.
 */
export function requireScrapeToken(token: string | null | undefined, authorization: string | undefined): void {
  if (token === undefined) return;
  if (token === null) throw new ApiError(404, 'not_found', '/metrics is off: set the METRICS_TOKEN secret and scrape with it as a bearer token');
  const m = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!m) throw new ApiError(401, 'unauthorized', '/metrics: a bearer token is required (Authorization: Bearer …)');
  if (!timingSafeEqual(digest(m[1]), digest(token))) throw new ApiError(401, 'unauthorized', '/metrics: the bearer token is not the scrape token');
}
