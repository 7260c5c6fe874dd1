/**
 * BFD in a director's keepalived.conf: bfd_instance for each session this node runs, and
 * track_bfd lines for an instance (keepalived.conf(5), BFD section; track_bfd in vrrp_instance).
 */
import { bfdEnds } from '../site/bfd.ts';
import { DEFAULTS } from '../site/defaults.ts';
import type { VrrpInstance } from '../site/vrrp.ts';
import { durationMs } from '../util/duration.ts';
import type { ConfWriter } from './render-text.ts';
import type { RenderContext } from './render-vrrp.ts';

/** The sessions written for this node: every explicit one, and a default pair session only when tracked. */
function sessionsOf(ctx: RenderContext, instances: VrrpInstance[]) {
  const tracked = new Set(instances.flatMap((i) => (i.trackBfd ?? []).map((t) => t.name)));
  return bfdEnds(ctx.site.spec).filter((e) => e.node === ctx.node.name && (e.index !== null || tracked.has(e.session)));
}

export function renderBfd(w: ConfWriter, ctx: RenderContext, instances: VrrpInstance[]): void {
  const mine = sessionsOf(ctx, instances);
  const pair = bfdEnds(ctx.site.spec).find((e) => e.node === ctx.node.name && e.index === null && !mine.includes(e));
  if (pair)
    ctx.warnings.push(
      `BFD ${pair.session} (the default pair session): keepalived has no BFD peer-down takeover; left out, so a crashed master is seen after the advert timeout`,
    );
  for (const e of mine) {
    const s = e.index === null ? undefined : ctx.site.spec.bfd![e.index];
    const d = s ? DEFAULTS.bfd : DEFAULTS.pairBfd;
    w.block(`bfd_instance ${e.session}`, () => {
      w.line(`neighbor_ip ${e.peer}`);
      w.line(`source_ip ${ctx.node.address}`);
      // keepalived takes these in whole milliseconds.
      w.line(`min_rx ${s?.minRx ? durationMs(s.minRx) : d.minRxMs}`);
      w.line(`min_tx ${s?.minTx ? durationMs(s.minTx) : d.minTxMs}`);
      w.line(`multiplier ${s?.multiplier ?? d.multiplier}`);
    });
  }
}

/** track_bfd of an instance, limited to the sessions this node runs (as the compiler does). */
export function renderTrackBfd(w: ConfWriter, ctx: RenderContext, inst: VrrpInstance): void {
  const mine = new Set(sessionsOf(ctx, [inst]).map((e) => e.session));
  const tracked = (inst.trackBfd ?? []).filter((t) => mine.has(t.name));
  if (tracked.length) w.block('track_bfd', () => tracked.forEach((t) => w.line(t.weight !== undefined ? `${t.name} weight ${t.weight}` : t.name)));
}
