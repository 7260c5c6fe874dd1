import { parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';

/**
 * `lvsfleet enroll-token --site S --node N [--ttl SECONDS] [--replace] [-o json]`: a one-time
 * enrollment token. `--replace` is required for a node that is already enrolled.
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('enroll-token', io, async () => {
    const { values } = parseFlags(argv, {
      site: { type: 'string' },
      node: { type: 'string' },
      ttl: { type: 'string' },
      replace: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
    });
    if (!values.site || !values.node) throw new UsageError('--site and --node are required');
    if (values.output !== undefined && values.output !== 'json' && values.output !== 'text') throw new UsageError('-o must be text or json');
    let ttlSeconds: number | undefined;
    if (values.ttl !== undefined) {
      ttlSeconds = Number(values.ttl);
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60) throw new UsageError('--ttl must be whole seconds, at least 60');
    }
    const client = apiClient(io);
    try {
      const r = await client.call<{ token: string; expiresAt: string }>(
        'POST',
        `/v1/sites/${encodeURIComponent(values.site)}/nodes/${encodeURIComponent(values.node)}/enrollment`,
        { json: { ...(ttlSeconds ? { ttlSeconds } : {}), ...(values.replace ? { replace: true } : {}) } },
      );
      if (values.output === 'json') io.stdout(JSON.stringify(r, null, 2) + '\n');
      else io.stdout(`token:   ${r.token}\nexpires: ${r.expiresAt}\non ${values.node}: lvsfleet-agent enroll --url ${client.baseUrl} --token ${r.token}\n`);
      return 0;
    } catch (err) {
      return reportApiError('enroll-token', err, io);
    }
  });
}
