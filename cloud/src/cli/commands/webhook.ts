import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

type Row = { id: string; url: string; format: string; events: string[]; site: string | null; minSeverity: string; createdAt: string };
type Delivery = {
  id: string;
  eventId: number;
  type: string | null;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
};

const SEVERITIES = ['info', 'warning', 'critical'];

/**
 * `lvsfleet webhook add URL [--format standard|slack] [--event TYPE]… [--site S] [--min-severity info|warning|critical]`,
 * `lvsfleet webhook list [-o table|json|yaml]`, `lvsfleet webhook rm ID`,
 * `lvsfleet webhook deliveries ID [-o …]`, `lvsfleet webhook test ID`, `lvsfleet webhook redeliver ID EVENT` (admin token).
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('webhook', io, async () => {
    const { values, positionals } = parseFlags(
      argv,
      {
        format: { type: 'string' },
        event: { type: 'string', multiple: true },
        site: { type: 'string' },
        'min-severity': { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
      true,
    );
    const [verb, arg, ...rest] = positionals;
    const extra = verb === 'redeliver' ? rest.slice(1) : rest;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const client = apiClient(io);
    try {
      if (verb === 'add') {
        if (!arg) throw new UsageError('webhook add needs a URL');
        if (values.format !== undefined && values.format !== 'standard' && values.format !== 'slack')
          throw new UsageError('--format must be standard or slack');
        const min = values['min-severity'];
        if (min !== undefined && !SEVERITIES.includes(min)) throw new UsageError('--min-severity must be info, warning or critical');
        const made = await client.call<Row & { secret: string }>('POST', '/v1/webhooks', {
          json: {
            url: arg,
            format: values.format ?? 'standard',
            events: values.event ?? [],
            ...(values.site ? { site: values.site } : {}),
            ...(min ? { minSeverity: min } : {}),
          },
        });
        io.stdout(
          `webhook ${made.id} → ${made.url} (${made.format}, ${made.events.length ? made.events.join(', ') : 'all events'}, ${made.minSeverity} and up)\n`,
        );
        if (made.format === 'standard') io.stdout(`signing secret (shown once): ${made.secret}\n`);
        return 0;
      }
      if (verb === 'list') {
        if (arg) throw new UsageError('webhook list takes no argument');
        const format = outputFormat(values.output);
        const { webhooks } = await client.call<{ webhooks: Row[] }>('GET', '/v1/webhooks');
        io.stdout(
          render(format, webhooks, () =>
            table(
              ['ID', 'URL', 'FORMAT', 'EVENTS', 'SITE', 'MIN SEVERITY'],
              webhooks.map((w) => [w.id, w.url, w.format, w.events.join(',') || 'all', w.site ?? 'all', w.minSeverity]),
            ),
          ),
        );
        return 0;
      }
      if (verb === 'rm') {
        if (!arg) throw new UsageError('webhook rm needs an id');
        await client.call('DELETE', `/v1/webhooks/${encodeURIComponent(arg)}`);
        io.stdout(`webhook ${arg} disabled\n`);
        return 0;
      }
      const path = arg ? `/v1/webhooks/${encodeURIComponent(arg)}` : '';
      if (verb === 'deliveries') {
        if (!arg) throw new UsageError('webhook deliveries needs an id');
        const format = outputFormat(values.output);
        const { deliveries } = await client.call<{ deliveries: Delivery[] }>('GET', `${path}/deliveries`);
        io.stdout(
          render(format, deliveries, () =>
            deliveries.length
              ? table(
                  ['DELIVERY', 'EVENT', 'TYPE', 'STATUS', 'CODE', 'ATTEMPTS', 'NEXT RETRY', 'LAST ERROR'],
                  deliveries.map((d) => [
                    d.id,
                    d.eventId || 'test',
                    d.type ?? '-',
                    d.status,
                    d.lastStatus ?? '-',
                    d.attempts,
                    d.nextAttemptAt ?? '-',
                    d.lastError ?? '-',
                  ]),
                )
              : `no deliveries for webhook ${arg} yet\n`,
          ),
        );
        return 0;
      }
      if (verb === 'test') {
        if (!arg) throw new UsageError('webhook test needs an id');
        const { delivery } = await client.call<{ delivery: string }>('POST', `${path}/test`);
        io.stdout(`test event queued as ${delivery}; see: lvsfleet webhook deliveries ${arg}\n`);
        return 0;
      }
      if (verb === 'redeliver') {
        const event = Number(rest[0]);
        if (!arg || !Number.isInteger(event) || event < 1) throw new UsageError('webhook redeliver needs an id and an event number');
        const { delivery } = await client.call<{ delivery: string }>('POST', `${path}/redeliver`, { json: { event } });
        io.stdout(`event ${event} queued again as ${delivery}\n`);
        return 0;
      }
      throw new UsageError('webhook add URL | list | rm ID | deliveries ID | test ID | redeliver ID EVENT');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      return reportApiError('webhook', err, io);
    }
  });
}
