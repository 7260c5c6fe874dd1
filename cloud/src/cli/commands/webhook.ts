import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

type Row = { id: string; url: string; format: string; events: string[]; site: string | null; createdAt: string };

/**
 * `lvsfleet webhook add URL [--format standard|slack] [--event TYPE]… [--site S]`,
 * `lvsfleet webhook list [-o table|json|yaml]`, `lvsfleet webhook rm ID` (admin token).
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('webhook', io, async () => {
    const { values, positionals } = parseFlags(
      argv,
      { format: { type: 'string' }, event: { type: 'string', multiple: true }, site: { type: 'string' }, output: { type: 'string', short: 'o' } },
      true,
    );
    const [verb, arg, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const client = apiClient(io);
    try {
      if (verb === 'add') {
        if (!arg) throw new UsageError('webhook add needs a URL');
        if (values.format !== undefined && values.format !== 'standard' && values.format !== 'slack')
          throw new UsageError('--format must be standard or slack');
        const made = await client.call<Row & { secret: string }>('POST', '/v1/webhooks', {
          json: { url: arg, format: values.format ?? 'standard', events: values.event ?? [], ...(values.site ? { site: values.site } : {}) },
        });
        io.stdout(`webhook ${made.id} → ${made.url} (${made.format}, ${made.events.length ? made.events.join(', ') : 'all events'})\n`);
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
              ['ID', 'URL', 'FORMAT', 'EVENTS', 'SITE'],
              webhooks.map((w) => [w.id, w.url, w.format, w.events.join(',') || 'all', w.site ?? 'all']),
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
      throw new UsageError('webhook add URL | webhook list | webhook rm ID');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      return reportApiError('webhook', err, io);
    }
  });
}
