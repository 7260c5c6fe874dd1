import type { MiddlewareHandler } from 'hono';
import { nulPath } from '#shared/util/nul.ts';
import { ApiError } from './errors.ts';

const HOLDS_NUL = 'holds U+0000, which cannot be stored';

/**
 * Refuses a request whose query or JSON body holds U+0000 (400, naming the parameter or the
 * body's path). PostgreSQL's text and jsonb cannot store it: an apply's message, a label, a
 * webhook's name with one failed in the database as a 500. Names the first one found. The body
 * is read as text once (the route's own read takes it from the request's cache) and parsed only
 * when its text has an escaped NUL; a body that is not JSON is left to the route.
 */
export const refuseNul: MiddlewareHandler = async (c, next) => {
  for (const [k, v] of new URL(c.req.url).searchParams)
    if (k.includes('\0') || v.includes('\0')) throw new ApiError(400, 'bad_request', `query ${k}: ${HOLDS_NUL}`, [{ path: `query.${k}`, message: HOLDS_NUL }]);
  if (/json/i.test(c.req.header('content-type') ?? '')) {
    const text = await c.req.text();
    // JSON has U+0000 in a string only escaped: a raw one is a syntax error, left to the route.
    if (text.includes('\\u0000')) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return next();
      }
      const at = nulPath(value);
      if (at !== null) throw new ApiError(400, 'bad_request', `${at || 'the body'}: ${HOLDS_NUL}`, [{ path: at, message: HOLDS_NUL }]);
    }
  }
  return next();
};
