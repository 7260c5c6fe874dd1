import { compileSite } from '#shared/compiler/compile.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { layer } from '#shared/overrides/layer.ts';
import { directorOut, isActive, MAX_OVERRIDE_MS, MAX_OVERRIDES, Override, parseFor, type OverrideKind } from '#shared/overrides/override.ts';
import type { Site } from '#shared/site/site.ts';
import { canonicalIp } from '#shared/util/ip.ts';
import { DomainError } from '../sites/errors.ts';
import { byName } from '#shared/site/by-name.ts';

/** What an operator asks for (the API body; the CLI builds it). Targets by kind; exactly one of `for` and `until`. */
export interface CreateRequest {
  kind: OverrideKind;
  /** drain-realserver: a realserver node's name or an address. */
  realServer?: string;
  port?: number;
  /** drain-realserver (optional: every service), disable-service. */
  service?: string;
  /** drain/maintenance-director, failover (the node to fail over to). */
  node?: string;
  /** failover. */
  instance?: string;
  for?: string;
  until?: string;
  /** drain-realserver, disable-service: report `drained` after this long (like 10m) even with connections left; default the agent's 5m. */
  drainTimeout?: string;
  reason: string;
  /** Override a safety refusal; needs `forceReason`. */
  force?: boolean;
  forceReason?: string;
}

export interface CreateContext {
  id: string;
  author: string;
  now: number;
  /**
   * Real servers the status model sees down now, as `service|address:port`: they serve nothing,
   * so draining the last healthy one is refused too. Unknown and unchecked ones count as serving.
   */
  down?: ReadonlySet<string>;
}

const invalid = (path: string, message: string) => new DomainError('invalid_override', `${path}: ${message}`, [{ path, message }]);

/**
 * Decides an override request without I/O: the override to store, or a refusal (DomainError).
 * Refused as invalid (422) when it names nothing in the site or its time is wrong; refused as
 * unsafe (409) when, on top of the active overrides, it would leave a service with no serving
 * real server or a VRRP instance with no director able to be MASTER, unless forced with a
 * reason (recorded in the override).
 */
export function decideCreate(
  req: CreateRequest,
  site: Site,
  active: readonly Override[],
  ctx: CreateContext,
): { ok: true; override: Override } | { ok: false; error: DomainError } {
  try {
    const o = build(req, site, ctx);
    const down = ctx.down ?? new Set<string>();
    const before = problems(site, active, ctx.now, down);
    const added = problems(site, [...active, o], ctx.now, down).filter((p) => !before.includes(p));
    if (added.length && !req.force) {
      return {
        ok: false,
        error: new DomainError(
          'unsafe_override',
          `refused: ${added.join('; ')}; pass force with a reason to do it anyway`,
          added.map((message) => ({ path: 'kind', message })),
          { problems: added },
        ),
      };
    }
    if (active.length >= MAX_OVERRIDES) throw invalid('kind', `the site has ${active.length} active overrides, the most it may have`);
    return { ok: true, override: o };
  } catch (e) {
    if (e instanceof DomainError) return { ok: false, error: e };
    throw e;
  }
}

function until(req: CreateRequest, now: number): string {
  if ((req.for === undefined) === (req.until === undefined)) throw invalid('for', 'give exactly one of for (like 30m) and until (a time)');
  if (req.for !== undefined) {
    const ms = parseFor(req.for);
    if (ms === null) throw invalid('for', `"${req.for}" is not a duration like 45s, 30m, 2h or 1d (at most 31d)`);
    return new Date(now + ms).toISOString();
  }
  const t = Date.parse(req.until!);
  if (Number.isNaN(t)) throw invalid('until', `"${req.until}" is not a time (RFC 3339)`);
  if (t <= now) throw invalid('until', 'is not in the future');
  if (t - now > MAX_OVERRIDE_MS) throw invalid('until', 'is more than 31 days ahead');
  return new Date(t).toISOString();
}

/** `drainTimeout` as the override's field: only drains have one, a duration like 10m, not longer than 31 days. */
function drainTimeout(req: CreateRequest): { drainTimeoutMs?: number } {
  if (req.drainTimeout === undefined) return {};
  if (req.kind !== 'drain-realserver' && req.kind !== 'disable-service')
    throw invalid('drainTimeout', `only a drain of a real server or a disabled service has one, not ${req.kind}`);
  const ms = parseFor(req.drainTimeout);
  if (ms === null || ms < 1000) throw invalid('drainTimeout', `"${req.drainTimeout}" is not a duration like 45s, 10m or 2h (1s to 31d)`);
  return { drainTimeoutMs: ms };
}

function build(req: CreateRequest, site: Site, ctx: CreateContext): Override {
  const nodes = byName(site.spec.nodes);
  const services = site.spec.services ?? [];
  const vrrp = site.spec.vrrp ?? [];
  if (req.force && !req.forceReason?.trim()) throw invalid('forceReason', 'force needs a reason, recorded with the override');
  const meta = {
    id: ctx.id,
    until: until(req, ctx.now),
    author: ctx.author,
    reason: req.reason,
    createdAt: new Date(ctx.now).toISOString(),
    ...(req.force ? { force: { reason: req.forceReason!.trim() } } : {}),
  };
  const need = (field: 'realServer' | 'service' | 'node' | 'instance'): string => {
    const v = req[field];
    if (!v) throw invalid(field, `is required for ${req.kind}`);
    return v;
  };
  const director = (name: string, field: string) => {
    const n = nodes.get(name);
    if (!n) throw invalid(field, `no node named "${name}" in site ${site.metadata.name}`);
    if (n.role !== 'director') throw invalid(field, `"${name}" is a ${n.role}, not a director`);
    return name;
  };
  const service = (name: string) => {
    if (!services.some((s) => s.name === name)) throw invalid('service', `no service named "${name}" in site ${site.metadata.name}`);
    return name;
  };
  const drainTimeoutMs = drainTimeout(req);
  let o: unknown;
  switch (req.kind) {
    case 'drain-realserver': {
      const target = need('realServer');
      const svc = req.service === undefined ? null : service(req.service);
      const byNode = nodes.get(target);
      // An address as the spec stores it (RFC 5952 for IPv6), however the operator spelled it.
      const address = byNode?.address ?? canonicalIp(target);
      const port = req.port ?? null;
      const used = services.some(
        (s) =>
          (svc === null || s.name === svc) &&
          s.realServers.some(
            (r) => (r.address ?? (r.node ? nodes.get(r.node)?.address : undefined)) === address && (port === null || (r.port ?? s.port) === port),
          ),
      );
      if (!used)
        throw invalid('realServer', `"${target}"${port !== null ? ` port ${port}` : ''} is not a real server of ${svc ? `service ${svc}` : 'any service'}`);
      o = { kind: req.kind, ...meta, service: svc, address, port, node: byNode ? byNode.name : null, ...drainTimeoutMs };
      break;
    }
    case 'drain-director':
    case 'maintenance-director':
      o = { kind: req.kind, ...meta, node: director(need('node'), 'node') };
      break;
    case 'failover': {
      const name = need('instance');
      const inst = vrrp.find((i) => i.name === name);
      if (!inst) throw invalid('instance', `no VRRP instance named "${name}" in site ${site.metadata.name}`);
      const to = director(need('node'), 'node');
      if (!inst.members.some((m) => m.node === to)) throw invalid('node', `"${to}" is not a member of ${name}`);
      o = { kind: req.kind, ...meta, instance: name, node: to };
      break;
    }
    case 'disable-service':
      o = { kind: req.kind, ...meta, service: service(need('service')), ...drainTimeoutMs };
      break;
  }
  const parsed = Override.safeParse(o);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw invalid(String(i.path[0] ?? 'kind'), i.message);
  }
  return parsed.data;
}

/**
 * What would be wrong with the site running `overrides` at `now`, in words: each director's
 * compiled config layered (the agents' own function), then a service no director serves with a
 * real server of weight > 0 that is not seen down (unless a disable-service override says that
 * is the point), and a
 * VRRP instance whose every member is out (drain or maintenance), so none can be MASTER.
 */
function problems(site: Site, overrides: readonly Override[], now: number, down: ReadonlySet<string>): string[] {
  const layered: NodeConfig[] = [...compileSite(site).values()].filter((c) => c.node.role === 'director').map((c) => layer(c, overrides, now));
  const out: string[] = [];
  const disabled = new Set(overrides.flatMap((o) => (o.kind === 'disable-service' && isActive(o, now) ? [o.service] : [])));
  for (const s of site.spec.services ?? []) {
    if (disabled.has(s.name)) continue;
    const serving = layered.some((c) =>
      c.services.some((x) => x.name === s.name && x.realServers.some((r) => r.weight > 0 && !down.has(`${s.name}|${r.address}:${r.port}`))),
    );
    if (!serving) out.push(`service ${s.name} would have no serving real server`);
  }
  for (const i of site.spec.vrrp ?? []) {
    const members = layered.flatMap((c) => c.vrrp.instances.filter((x) => x.name === i.name));
    if (members.length && members.every((m) => m.maintenance)) out.push(`${i.name} would have no director able to be MASTER`);
  }
  // The layering's precedence: a director out of VRRP beats a failover to it; say so rather than store a no-op.
  const outOf = new Set(overrides.filter((o) => isActive(o, now)).map(directorOut));
  for (const o of overrides)
    if (o.kind === 'failover' && isActive(o, now) && outOf.has(o.node))
      out.push(`failover of ${o.instance} to ${o.node} would not happen: ${o.node} is out of VRRP`);
  return out;
}
