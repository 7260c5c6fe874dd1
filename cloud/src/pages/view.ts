import type { SiteStatus } from '#shared/status/model.ts';
import type { SiteView } from '../status/book.ts';

/** A site's status as the pages and the dashboard read it: the model's `SiteStatus` and the revision in force. */
export type PageView = SiteStatus & { revision: number };

export function pageView(v: SiteView): PageView {
  return { ...v.status, revision: v.revision };
}

const isPrivate = (r: { subject: string }) => r.subject.startsWith('realserver:');

/**
 * What the public page may show: no operational overrides, no real-server addresses, so each service says how many of its
 * real servers are in each state instead, and reasons about single real servers are left out.
 */
export function publicView(v: PageView) {
  // Overrides name real servers and the people who made them: the dashboard shows them, not this.
  const { overrides: _private, ...rest } = v;
  return {
    ...rest,
    reasons: rest.reasons.filter((r) => !isPrivate(r)),
    services: rest.services.map(({ realServers, ...s }) => ({
      ...s,
      reasons: s.reasons.filter((r) => !isPrivate(r)),
      realServerCounts: {
        total: realServers.length,
        up: realServers.filter((r) => r.state === 'up').length,
        down: realServers.filter((r) => r.state === 'down').length,
        unchecked: realServers.filter((r) => r.state === 'unchecked').length,
        unknown: realServers.filter((r) => r.state === 'unknown').length,
      },
    })),
  };
}
export type PublicView = ReturnType<typeof publicView>;
