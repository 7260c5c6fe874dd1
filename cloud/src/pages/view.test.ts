import { describe, expect, it } from 'vitest';
import { evaluateSite } from '#shared/status/evaluate.ts';
import { override } from '#shared/overrides/overrides.test-support.ts';
import { fresh, makeSite, report, T0, WINDOW } from '#shared/status/status.test-support.ts';
import { publicStatus } from './public-status.ts';
import { pageView } from './view.ts';

describe('page views', () => {
  it('the dashboard view carries the active overrides; the public one leaves them out (addresses, names)', () => {
    const site = makeSite();
    const drain = override('drain-realserver', { until: new Date(T0 + 3_600_000).toISOString() });
    const status = evaluateSite(
      null,
      { site, nodes: { dr1: fresh(report(site, 'dr1', { vrrp: { VI_1: 'MASTER' } })) }, staleAfterMs: WINDOW, overrides: [drain] },
      T0,
    );
    const page = pageView({ status, revision: 1 } as Parameters<typeof pageView>[0]);
    expect(page.overrides?.map((o) => o.text)).toEqual(['rs1 drained for maintenance until 03:00 UTC by alice']);
    const pub = publicStatus(
      { status, revision: 1, site: site.metadata.name, siteId: site.metadata.name, statusPage: { public: true }, reports: {} } as Parameters<
        typeof publicStatus
      >[0],
      new Map(),
      [],
      T0,
    );
    expect(JSON.stringify(pub)).not.toContain('overrides');
    expect(JSON.stringify(pub)).not.toContain('alice');
  });
});
