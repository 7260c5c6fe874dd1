import * as z from 'zod';
import { ResolvedService } from './node-config.ts';

type RealServer = ResolvedService['realServers'][number];

/** The service with each real server left unchecked. */
const ServiceOutline = ResolvedService.extend({ realServers: z.array(z.unknown()) });
const RealServer = ResolvedService.shape.realServers.element;

export type ServiceCheck = { success: true; data: ResolvedService } | { success: false; error: { issues: z.ZodError['issues'] } };

/**
 * What `ResolvedService.safeParse(raw)` answers, a real server at a time: everything but the real
 * servers, then each real server, unless `known(rs, j)` gives back an object this schema took
 * before that stands for it (equal to it, or the very object), which is then taken in its place
 * unchecked. The schema answers its input (shared/wire/schemas.test.ts), so an equal value is
 * answered as that one was. A change of one real server's weight changes one of a service's 250:
 * the service's check took 2-3 ms of a director's intake and as much of its health checker's, for
 * one real server. The same schemas, so the same refusals; with several faults, the first issue may
 * name another one than the one call would (the real servers come last).
 */
export function checkServiceInParts(raw: unknown, known: (rs: unknown, j: number) => RealServer | undefined): ServiceCheck {
  const outline = ServiceOutline.safeParse(raw);
  if (!outline.success) return { success: false, error: { issues: outline.error.issues } };
  const realServers: RealServer[] = [];
  for (const [j, rs] of outline.data.realServers.entries()) {
    const same = known(rs, j);
    if (same) {
      realServers.push(same);
      continue;
    }
    const r = RealServer.safeParse(rs);
    if (!r.success) return { success: false, error: { issues: r.error.issues.map((i) => ({ ...i, path: ['realServers', j, ...i.path] })) } };
    realServers.push(r.data);
  }
  return { success: true, data: { ...outline.data, realServers } };
}
