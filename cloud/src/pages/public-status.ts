import { siteRank, type GroupState, type Reason, type ServiceStatus, type SiteState, type SiteStatus } from '#shared/status/model.ts';
import { uptimeBar, type StateSpan, type UptimeBar } from '#shared/status/uptime.ts';
import type { SiteView } from '../status/book.ts';
import { INCIDENT_DAYS, incidentTimeline, type AlertRecord, type Incident } from '../status/incidents.ts';
import { redactAddresses } from './redact.ts';

/** How many days the uptime bars cover. */
export const UPTIME_DAYS = 90;
/** The history writer confirms a span at least this often; a newer confirmation means the span is live. */
const LIVE_WITHIN_MS = 150_000;

export interface PublicReason {
  code: string;
  text: string;
  since: string | null;
}

interface PublicPart<S> {
  state: S;
  since: string;
  reasons: PublicReason[];
  uptime: UptimeBar;
}

interface PublicService extends PublicPart<SiteState> {
  name: string;
  /** `tcp 10.0.0.1:80`; null when the page hides addresses. */
  endpoint: string | null;
  realServers: { total: number; up: number; down: number; unchecked: number; unknown: number };
}

export interface PublicGroup extends PublicPart<GroupState> {
  instance: string;
  vrid: number;
  masters: string[];
}

/**
 * Everything a site's status page shows, and nothing more: the HTML page, its JSON summary, the
 * badges and the feed all render from this one document, so what one of them hides none shows.
 */
export interface PublicStatus extends PublicPart<SiteState> {
  site: string;
  title: string;
  public: boolean;
  hideAddresses: boolean;
  revision: number;
  evaluatedAt: string;
  nodes: { reporting: number; total: number };
  services: PublicService[];
  groups: PublicGroup[];
  incidents: Incident[];
}

/** Subjects the public page leaves out: single real servers (addresses, and detail that is the operators'). */
const isPrivate = (subject: string) => subject.startsWith('realserver:');

/**
 * A service that is not operational only because of its real servers has no public reason left
 * once those are taken out: say it in counts instead, which name no address.
 */
function serviceReasons(svc: ServiceStatus, kept: PublicReason[]): PublicReason[] {
  if (svc.state === 'operational' || kept.length) return kept;
  const n = (st: string) => svc.realServers.filter((r) => r.state === st).length;
  const parts = [n('down') && `${n('down')} down`, n('unchecked') && `${n('unchecked')} not checked yet`, n('unknown') && `${n('unknown')} unknown`].filter(
    Boolean,
  );
  const text = `${svc.name}: ${n('up')} of ${svc.realServers.length} real servers up${parts.length ? ` (${parts.join(', ')})` : ''}`;
  return [{ code: 'realservers', text, since: svc.since }];
}

/** The site's reasons, with each service's counted reason when the model's own ones were all about single real servers. */
function siteReasons(s: SiteStatus, kept: PublicReason[]): PublicReason[] {
  if (s.state === 'operational' || kept.length) return kept;
  return s.services.flatMap((svc) => (svc.state === 'operational' ? [] : serviceReasons(svc, [])));
}

/** The history subjects the page needs. */
export function publicSubjects(v: SiteView): string[] {
  return ['site', ...v.status.services.map((s) => `service:${s.name}`), ...v.status.vrrp.map((g) => `vrrp:${g.instance}`)];
}

/**
 * Builds a site's public status (pure): the model's evaluation, the stored state spans per subject
 * and the site's alerts, as of `now`. Reasons and incidents about single real servers are left
 * out; with `hideAddresses` every address is removed from every text as well.
 */
export function publicStatus(v: SiteView, spans: ReadonlyMap<string, StateSpan[]>, alerts: AlertRecord[], now: number): PublicStatus {
  const hide = v.statusPage.hideAddresses === true;
  const text = (t: string) => (hide ? redactAddresses(t) : t);
  const reasons = (rs: Reason[]): PublicReason[] => rs.filter((r) => !isPrivate(r.subject)).map((r) => ({ code: r.code, text: text(r.text), since: r.since }));
  const bar = (subject: string) => uptimeBar(spans.get(subject) ?? [], { now, days: UPTIME_DAYS, liveWithinMs: LIVE_WITHIN_MS });
  const s = v.status;
  return {
    site: s.site,
    title: v.statusPage.title ?? s.site,
    public: v.statusPage.public === true,
    hideAddresses: hide,
    revision: v.revision,
    evaluatedAt: s.evaluatedAt,
    state: s.state,
    since: s.since,
    reasons: siteReasons(s, reasons(s.reasons)),
    uptime: bar('site'),
    nodes: { reporting: s.nodes.filter((n) => n.state === 'online' || n.state === 'degraded').length, total: s.nodes.length },
    services: s.services.map((svc) => ({
      name: svc.name,
      endpoint: hide ? null : svc.endpoint,
      state: svc.state,
      since: svc.since,
      reasons: serviceReasons(svc, reasons(svc.reasons)),
      uptime: bar(`service:${svc.name}`),
      realServers: {
        total: svc.realServers.length,
        up: svc.realServers.filter((r) => r.state === 'up').length,
        down: svc.realServers.filter((r) => r.state === 'down').length,
        unchecked: svc.realServers.filter((r) => r.state === 'unchecked').length,
        unknown: svc.realServers.filter((r) => r.state === 'unknown').length,
      },
    })),
    groups: s.vrrp.map((g) => ({
      instance: g.instance,
      vrid: g.vrid,
      masters: g.masters,
      state: g.state,
      since: g.since,
      reasons: reasons(g.reasons),
      uptime: bar(`vrrp:${g.instance}`),
    })),
    incidents: incidentTimeline(alerts, now, INCIDENT_DAYS)
      .filter((i) => !isPrivate(i.subject))
      .map((i) => ({ ...i, summary: text(i.summary) })),
  };
}

/** Sites worst first, then by name: the order of the public index and the dashboard. */
export function worstFirst<T extends { state: SiteState; site: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => siteRank(b.state) - siteRank(a.state) || a.site.localeCompare(b.site));
}
