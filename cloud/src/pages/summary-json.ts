import { z } from '@hono/zod-openapi';
import type { GroupState, SiteState } from '#shared/status/model.ts';
import type { Severity } from '#shared/wire/events.ts';
import type { PublicStatus } from './public-status.ts';
import { groupWord } from './status-page.ts';

const COMPONENT_STATUSES = ['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'] as const;
type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

/** Statuspage has no word for "cannot see": unknown is never operational, so it is a partial outage there, and `lvsfleet_state` says unknown. */
const COMPONENT: Record<SiteState, ComponentStatus> = {
  operational: 'operational',
  degraded_performance: 'degraded_performance',
  partial_outage: 'partial_outage',
  major_outage: 'major_outage',
  unknown: 'partial_outage',
};
const GROUP_COMPONENT: Record<GroupState, ComponentStatus> = {
  ok: 'operational',
  split_brain: 'major_outage',
  no_master: 'major_outage',
  unknown: 'partial_outage',
};
const INDICATOR: Record<SiteState, 'none' | 'minor' | 'major' | 'critical'> = {
  operational: 'none',
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
  unknown: 'major',
};
const DESCRIPTION: Record<SiteState, string> = {
  operational: 'All Systems Operational',
  degraded_performance: 'Degraded Performance',
  partial_outage: 'Partial System Outage',
  major_outage: 'Major System Outage',
  unknown: 'Status Unknown',
};
const IMPACT: Record<Severity, 'none' | 'minor' | 'major' | 'critical'> = { info: 'minor', warning: 'major', critical: 'critical' };

const Component = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(COMPONENT_STATUSES),
  lvsfleet_state: z.string().openapi({ description: "lvsfleet's own state word (unknown when the cloud cannot see the part)" }),
  created_at: z.string(),
  updated_at: z.string(),
  position: z.number().int(),
  description: z.string().nullable(),
  showcase: z.boolean(),
  start_date: z.string().nullable(),
  group_id: z.string().nullable(),
  page_id: z.string(),
  group: z.boolean(),
  only_show_if_degraded: z.boolean(),
});

const IncidentUpdate = z.object({
  id: z.string(),
  status: z.enum(['investigating', 'resolved']),
  body: z.string(),
  incident_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  display_at: z.string(),
});

const SummaryIncident = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['investigating', 'resolved']),
  created_at: z.string(),
  updated_at: z.string(),
  monitoring_at: z.string().nullable(),
  resolved_at: z.string().nullable(),
  impact: z.enum(['none', 'minor', 'major', 'critical']),
  shortlink: z.string(),
  started_at: z.string(),
  page_id: z.string(),
  incident_updates: z.array(IncidentUpdate),
  components: z.array(z.object({ id: z.string(), name: z.string() })),
});

/** The public status of a site in the shape of Statuspage's `summary.json`. */
export const StatusSummary = z
  .object({
    page: z.object({ id: z.string(), name: z.string(), url: z.string(), time_zone: z.literal('Etc/UTC'), updated_at: z.string() }),
    status: z.object({ indicator: z.enum(['none', 'minor', 'major', 'critical']), description: z.string() }),
    components: z.array(Component),
    incidents: z.array(SummaryIncident).openapi({ description: 'Unresolved incidents, newest first (as in Statuspage)' }),
    scheduled_maintenances: z.array(z.object({})).openapi({ description: 'Always empty: lvsfleet schedules no maintenance' }),
  })
  .openapi('StatusSummary');
export type StatusSummary = z.infer<typeof StatusSummary>;

/**
 * Renders a site's public status as Statuspage's `summary.json` (pure): the page, its overall
 * indicator, one component per service and per failover group with Statuspage's status words, and
 * the unresolved incidents. `url` is the page's absolute address.
 */
export function statusSummary(v: PublicStatus, url: string): StatusSummary {
  const page = { id: v.site, name: v.title, url, time_zone: 'Etc/UTC' as const, updated_at: v.evaluatedAt };
  const component = (id: string, name: string, status: ComponentStatus, state: string, since: string, position: number, description: string | null) => ({
    id,
    name,
    status,
    lvsfleet_state: state,
    created_at: since,
    updated_at: since,
    position,
    description,
    showcase: true,
    start_date: null,
    group_id: null,
    page_id: v.site,
    group: false,
    only_show_if_degraded: false,
  });
  const components = [
    ...v.services.map((s, i) => component(`service:${s.name}`, s.name, COMPONENT[s.state], s.state, s.since, i + 1, s.endpoint)),
    ...v.groups.map((g, i) =>
      component(`vrrp:${g.instance}`, g.instance, GROUP_COMPONENT[g.state], g.state, g.since, v.services.length + i + 1, `failover group, ${groupWord(g)}`),
    ),
  ];
  const named = new Map(components.map((c) => [c.id, c.name]));
  const incidents = v.incidents
    .filter((i) => i.open)
    .map((i) => {
      const id = String(i.id);
      return {
        id,
        name: i.summary,
        status: 'investigating' as const,
        created_at: i.raised,
        updated_at: i.raised,
        monitoring_at: null,
        resolved_at: null,
        impact: IMPACT[i.severity],
        shortlink: url,
        started_at: i.began,
        page_id: v.site,
        incident_updates: [
          {
            id: `${id}-1`,
            status: 'investigating' as const,
            body: i.summary,
            incident_id: id,
            created_at: i.raised,
            updated_at: i.raised,
            display_at: i.raised,
          },
        ],
        components: named.has(i.subject) ? [{ id: i.subject, name: named.get(i.subject)! }] : [],
      };
    });
  return {
    page,
    status: { indicator: INDICATOR[v.state], description: DESCRIPTION[v.state] },
    components,
    incidents,
    scheduled_maintenances: [],
  };
}
