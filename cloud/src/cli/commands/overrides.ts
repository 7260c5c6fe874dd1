import { parseFor } from '#shared/overrides/override.ts';
import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError, type ApiClient } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';
import { nameList } from '#shared/util/name-list.ts';

/**
 * The override commands: `drain`, `undrain`, `maintenance`, `failover`, `disable`, `overrides`
 * (list) and `cancel`. Each create says what it did in one line; `--wait` waits until every node
 * the override was sent to reports it applied (a drain: drained).
 */

type OverrideView = {
  id: string;
  kind: string;
  until: string;
  author: string;
  reason: string;
  node?: string | null;
  address?: string;
  service?: string | null;
  instance?: string;
};
type RecordView = { override: OverrideView; summary: string; active: boolean; endedAt: string | null; endReason: string | null; endedBy: string | null };
type Made = RecordView & { publishedNodes: string[] };
type NodeReport = { nodeId: string; online: boolean; overrides: { id: string; state: string; activeConnections?: number }[] };

const COMMON = {
  for: { type: 'string' },
  until: { type: 'string' },
  reason: { type: 'string', short: 'm' },
  force: { type: 'boolean' },
  'force-reason': { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

type Common = { for?: string; until?: string; reason?: string; force?: boolean; 'force-reason'?: string; wait?: boolean; timeout?: string; output?: string };

/** `--drain-timeout` of drain and disable, checked here so the error names the flag. */
function drainTimeout(v: { 'drain-timeout'?: string }): { drainTimeout?: string } {
  const t = v['drain-timeout'];
  if (t === undefined) return {};
  const ms = parseFor(t);
  if (ms === null || ms < 1000) throw new UsageError(`--drain-timeout: "${t}" is not a duration like 45s, 10m or 2h`);
  return { drainTimeout: t };
}

/** The time and reason fields of a create, checked here so the error names the flag. */
function timing(v: Common): Record<string, unknown> {
  if (v.for === undefined && v.until === undefined) throw new UsageError('--for is required (like 30m, 2h or 1d), or --until TIME');
  if (v.for !== undefined && v.until !== undefined) throw new UsageError('give --for or --until, not both');
  if (v.for !== undefined && parseFor(v.for) === null) throw new UsageError(`--for: "${v.for}" is not a duration like 45s, 30m, 2h or 1d (at most 31d)`);
  if (!v.reason?.trim()) throw new UsageError('--reason is required: it is recorded and shown with the override');
  if (v.force && !v['force-reason']?.trim()) throw new UsageError('--force needs --force-reason: it is recorded with the override');
  return {
    ...(v.for !== undefined ? { for: v.for } : { until: v.until }),
    reason: v.reason.trim(),
    ...(v.force ? { force: true, forceReason: v['force-reason']!.trim() } : {}),
  };
}

const waitMs = (v: Common) => {
  const ms = parseFor(v.timeout ?? '5m');
  if (ms === null) throw new UsageError(`--timeout: "${v.timeout}" is not a duration like 90s or 5m`);
  return ms;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the site status until `done` holds for every node in `nodes` (their own reports), or the
 * timeout. Prints each node's progress when it changes. Answers the exit code.
 */
async function waitFor(
  client: ApiClient,
  io: CliIO,
  site: string,
  nodes: string[],
  done: (n: NodeReport) => { ok: boolean; line: string },
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, string>();
  for (;;) {
    const s = await client.call<{ nodes: NodeReport[] }>('GET', `/v1/sites/${encodeURIComponent(site)}/status`);
    let all = true;
    for (const id of nodes) {
      const n = s.nodes.find((x) => x.nodeId === id);
      const r = n ? done(n) : { ok: false, line: 'not reporting' };
      if (n && !n.online) r.line = `offline (${r.line})`;
      all &&= r.ok && !!n?.online;
      if (last.get(id) !== r.line) io.stdout(`  ${id}: ${r.line}\n`);
      last.set(id, r.line);
    }
    if (all) return 0;
    if (Date.now() >= deadline) {
      io.stderr(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${nameList(nodes.filter((id) => !done(s.nodes.find((x) => x.nodeId === id) ?? ({ overrides: [] } as never)).ok))}\n`,
      );
      return 1;
    }
    await sleep(1000);
  }
}

/** Waits for an override to be in force everywhere it was sent: `applied`, or `drained` for drains. */
function waitApplied(client: ApiClient, io: CliIO, site: string, made: Made, timeoutMs: number): Promise<number> {
  const drain = made.override.kind === 'drain-realserver' || made.override.kind === 'disable-service';
  return waitFor(
    client,
    io,
    site,
    made.publishedNodes,
    (n) => {
      const o = n.overrides.find((x) => x.id === made.override.id);
      if (!o) return { ok: false, line: 'not applied yet' };
      const conns = o.activeConnections !== undefined ? `, ${o.activeConnections} active connection(s)` : '';
      return { ok: drain ? o.state === 'drained' : o.state === 'applied', line: `${o.state}${conns}` };
    },
    timeoutMs,
  );
}

async function create(name: string, site: string, body: Record<string, unknown>, v: Common, io: CliIO): Promise<number> {
  const format = v.output === undefined ? 'table' : outputFormat(v.output);
  const client = apiClient(io);
  const timeoutMs = waitMs(v);
  try {
    const made = await client.call<Made>('POST', `/v1/sites/${encodeURIComponent(site)}/overrides`, { json: body });
    io.stdout(
      format === 'table' ? `${made.override.id}: ${made.summary}\nsent to ${nameList(made.publishedNodes) || 'no nodes'}\n` : render(format, made, () => ''),
    );
    if (!v.wait || !made.publishedNodes.length) return 0;
    return await waitApplied(client, io, site, made, timeoutMs);
  } catch (err) {
    return reportApiError(name, err, io);
  }
}

function positional(positionals: string[], names: string[], usage: string): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing ${names[positionals.length]}; usage: ${usage}`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument "${positionals[names.length]}"; usage: ${usage}`);
  return positionals;
}

/** `lvsfleet drain SITE NAME [--service S] [--port P] --for 30m --reason R [--force --force-reason R] [--wait]`: a real server (node or address), or a director. */
export function drain(argv: string[], io: CliIO): Promise<number> {
  return withUsage('drain', io, async () => {
    const { values, positionals } = parseFlags(
      argv,
      { ...COMMON, service: { type: 'string' }, port: { type: 'string' }, 'drain-timeout': { type: 'string' } },
      true,
    );
    const [site, target] = positional(positionals, ['SITE', 'REALSERVER'], 'lvsfleet drain SITE REALSERVER|DIRECTOR --for 30m --reason "…"');
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`--port: "${values.port}" is not a port`);
    const t = timing(values);
    // A director's name drains the director (out of VRRP); anything else is a real server.
    const spec = await apiClient(io)
      .call<{ spec: { spec: { nodes: { name: string; role: string }[] } } }>('GET', `/v1/sites/${encodeURIComponent(site)}`)
      .catch(() => null);
    const isDirector = spec?.spec.spec.nodes.some((n) => n.name === target && n.role === 'director');
    if (isDirector && (values.service || port !== undefined || values['drain-timeout'] !== undefined))
      throw new UsageError(`${target} is a director: --service, --port and --drain-timeout apply to real servers`);
    const body = isDirector
      ? { kind: 'drain-director', node: target, ...t }
      : {
          kind: 'drain-realserver',
          realServer: target,
          ...(values.service ? { service: values.service } : {}),
          ...(port !== undefined ? { port } : {}),
          ...drainTimeout(values),
          ...t,
        };
    return create('drain', site, body, values, io);
  });
}

/** `lvsfleet maintenance SITE DIRECTOR --for 1h --reason R [--wait]`. */
export function maintenance(argv: string[], io: CliIO): Promise<number> {
  return withUsage('maintenance', io, async () => {
    const { values, positionals } = parseFlags(argv, COMMON, true);
    const [site, node] = positional(positionals, ['SITE', 'DIRECTOR'], 'lvsfleet maintenance SITE DIRECTOR --for 1h --reason "…"');
    return create('maintenance', site, { kind: 'maintenance-director', node, ...timing(values) }, values, io);
  });
}

/** `lvsfleet failover SITE INSTANCE --to DIRECTOR --for 10m --reason R [--wait]`. */
export function failover(argv: string[], io: CliIO): Promise<number> {
  return withUsage('failover', io, async () => {
    const { values, positionals } = parseFlags(argv, { ...COMMON, to: { type: 'string' } }, true);
    const [site, instance] = positional(positionals, ['SITE', 'INSTANCE'], 'lvsfleet failover SITE INSTANCE --to DIRECTOR --for 10m --reason "…"');
    if (!values.to) throw new UsageError('--to is required: the director to make MASTER');
    return create('failover', site, { kind: 'failover', instance, node: values.to, ...timing(values) }, values, io);
  });
}

/** `lvsfleet disable SITE SERVICE --for 10m --reason R [--wait]`: its sorry server answers, or it is quiesced. */
export function disable(argv: string[], io: CliIO): Promise<number> {
  return withUsage('disable', io, async () => {
    const { values, positionals } = parseFlags(argv, { ...COMMON, 'drain-timeout': { type: 'string' } }, true);
    const [site, service] = positional(positionals, ['SITE', 'SERVICE'], 'lvsfleet disable SITE SERVICE --for 10m --reason "…"');
    return create('disable', site, { kind: 'disable-service', service, ...drainTimeout(values), ...timing(values) }, values, io);
  });
}

async function end(client: ApiClient, io: CliIO, site: string, ids: string[], wait: boolean, timeoutMs: number): Promise<number> {
  const nodes = new Set<string>();
  for (const id of ids) {
    const r = await client.call<Made>('DELETE', `/v1/sites/${encodeURIComponent(site)}/overrides/${encodeURIComponent(id)}`);
    io.stdout(`${id} cancelled: ${r.summary}\n`);
    for (const n of r.publishedNodes) nodes.add(n);
  }
  if (!wait || !nodes.size) return 0;
  return waitFor(
    client,
    io,
    site,
    [...nodes],
    (n) => {
      const left = n.overrides.filter((o) => ids.includes(o.id));
      return { ok: left.length === 0, line: left.length ? `still running ${left.map((o) => o.id).join(', ')}` : 'back on the revision' };
    },
    timeoutMs,
  );
}

/** `lvsfleet undrain SITE NAME [--wait]`: cancels the active drains of that real server (node or address) or director. */
export function undrain(argv: string[], io: CliIO): Promise<number> {
  return withUsage('undrain', io, async () => {
    const { values, positionals } = parseFlags(argv, { wait: { type: 'boolean' }, timeout: { type: 'string' } }, true);
    const [site, target] = positional(positionals, ['SITE', 'REALSERVER'], 'lvsfleet undrain SITE REALSERVER|DIRECTOR');
    const timeoutMs = waitMs(values);
    const client = apiClient(io);
    try {
      const { overrides } = await client.call<{ overrides: RecordView[] }>('GET', `/v1/sites/${encodeURIComponent(site)}/overrides`);
      const ids = overrides
        .map((r) => r.override)
        .filter((o) => (o.kind === 'drain-realserver' && (o.node === target || o.address === target)) || (o.kind === 'drain-director' && o.node === target))
        .map((o) => o.id);
      if (!ids.length) {
        io.stderr(`lvsfleet undrain: no active drain of ${target} in site ${site}\n`);
        return 1;
      }
      return await end(client, io, site, ids, !!values.wait, timeoutMs);
    } catch (err) {
      return reportApiError('undrain', err, io);
    }
  });
}

/** `lvsfleet cancel SITE ID… [--wait]`: ends overrides now. */
export function cancel(argv: string[], io: CliIO): Promise<number> {
  return withUsage('cancel', io, async () => {
    const { values, positionals } = parseFlags(argv, { wait: { type: 'boolean' }, timeout: { type: 'string' } }, true);
    if (positionals.length < 2) throw new UsageError('usage: lvsfleet cancel SITE ID…');
    const timeoutMs = waitMs(values);
    const client = apiClient(io);
    try {
      return await end(client, io, positionals[0], positionals.slice(1), !!values.wait, timeoutMs);
    } catch (err) {
      return reportApiError('cancel', err, io);
    }
  });
}

/** `lvsfleet overrides SITE [--all] [-o table|json|yaml]`: the site's overrides. */
export function list(argv: string[], io: CliIO): Promise<number> {
  return withUsage('overrides', io, async () => {
    const { values, positionals } = parseFlags(argv, { all: { type: 'boolean' }, output: { type: 'string', short: 'o' } }, true);
    const [site] = positional(positionals, ['SITE'], 'lvsfleet overrides SITE [--all] [-o table|json|yaml]');
    const format = outputFormat(values.output);
    try {
      const { overrides } = await apiClient(io).call<{ overrides: RecordView[] }>(
        'GET',
        `/v1/sites/${encodeURIComponent(site)}/overrides${values.all ? '?all=1' : ''}`,
      );
      io.stdout(
        render(format, overrides, () =>
          overrides.length
            ? table(
                ['ID', 'KIND', 'UNTIL', 'STATE', 'WHAT'],
                overrides.map((r) => [
                  r.override.id,
                  r.override.kind,
                  r.override.until,
                  r.active ? 'active' : `${r.endReason} ${r.endedAt ?? ''}`.trim(),
                  r.summary,
                ]),
              )
            : `no ${values.all ? '' : 'active '}overrides in site ${site}\n`,
        ),
      );
      return 0;
    } catch (err) {
      return reportApiError('overrides', err, io);
    }
  });
}
