/**
 * The OpenAPI document's frame: info, servers, tags and the bearer scheme. The operations come
 * from the routes (`createRoute` with operationId, tags, summary and description each).
 */

export const BEARER_SCHEME = {
  type: 'http',
  scheme: 'bearer',
  description:
    'An API token (`lvsfleet token create`). Scopes nest: viewer reads; operator also writes sites, enrolls nodes and reads the audit log; admin also manages tokens and webhooks.',
} as const;

/** Every tag an operation may carry, with what it groups; the OpenAPI test refuses a tag not listed here. */
export const TAGS = [
  { name: 'sites', description: 'Site specs, revisions, nodes and services.' },
  { name: 'status', description: 'What is true now: the status model of a site, its nodes, VRRP groups and real servers.' },
  { name: 'enrollment', description: 'One-time tokens that let an agent join, and the exchange the agent makes.' },
  { name: 'tokens', description: 'API tokens (admin).' },
  { name: 'webhooks', description: 'Event delivery to URLs, Standard Webhooks or Slack-shaped (admin).' },
  { name: 'audit', description: 'Who changed what, and when.' },
  { name: 'rollout', description: 'Staged rollout of revisions: backups first, the MASTER after the bake, automatic rollback.' },
  { name: 'overrides', description: 'Time-boxed operations layered on a revision: drain, maintenance, failover, disable.' },
  { name: 'keys', description: 'Signing keys and their rotation (admin).' },
  { name: 'session', description: 'The dashboard session: a token traded for an HttpOnly cookie.' },
  { name: 'status pages', description: 'Public status pages in machine-readable form.' },
  { name: 'operations', description: 'Health and metrics, for probes and Prometheus; no token.' },
] as const;

/** The frame of `/openapi.json`, listing `serverUrl` as the server. */
export function openApiConfig(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'lvsfleet',
      version: '1',
      description:
        'Control plane for LVS/IPVS load-balancer fleets: declare a site (directors, real servers, virtual IPs and services, health checks), and lvsfleet validates it, keeps every revision and publishes each node its signed share. Errors answer `{"error": {"code", "message", "issues?"}}`.',
    },
    servers: [{ url: serverUrl, description: 'the lvsfleet server that served this document' }],
    tags: [...TAGS],
    security: [{ bearer: [] }],
  };
}
