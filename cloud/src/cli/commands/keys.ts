import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

type KeyRow = { kid: string; state: string; createdAt: string; previousKid: string | null; acknowledged: number; missing: string[] };

/** At most this many node names in the table's MISSING column; json and yaml carry them all. */
const MISSING_SHOWN = 5;

/**
 * `lvsfleet keys list [-o table|json|yaml]`: the signing keys with their rotation state and the
 * nodes that have not pinned each one; `lvsfleet keys rotate`: announce a new key (admin token).
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('keys', io, async () => {
    const { values, positionals } = parseFlags(argv, { output: { type: 'string', short: 'o' } }, true);
    const [verb, ...rest] = positionals;
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const client = apiClient(io);
    try {
      if (verb === 'list') {
        const format = outputFormat(values.output);
        const listing = await client.call<{ generation: number; keys: KeyRow[] }>('GET', '/v1/keys');
        io.stdout(
          render(format, listing, () => {
            const missing = (k: KeyRow) =>
              !k.missing.length
                ? '-'
                : k.missing.slice(0, MISSING_SHOWN).join(',') + (k.missing.length > MISSING_SHOWN ? ` +${k.missing.length - MISSING_SHOWN}` : '');
            return (
              table(
                ['KID', 'STATE', 'CREATED', 'PREVIOUS', 'PINNED BY', 'MISSING'],
                listing.keys.map((k) => [k.kid, k.state, k.createdAt, k.previousKid ?? '-', k.acknowledged, missing(k)]),
              ) + `key set generation ${listing.generation}\n`
            );
          }),
        );
        return 0;
      }
      if (verb === 'rotate') {
        if (values.output !== undefined) throw new UsageError('keys rotate takes no -o');
        const made = await client.call<{ kid: string; previous: string; generation: number }>('POST', '/v1/keys/rotate');
        io.stdout(
          `key ${made.kid} announced (vouched for by ${made.previous}, key set generation ${made.generation}); ` +
            'it signs once every online node has pinned it — see: lvsfleet keys list\n',
        );
        return 0;
      }
      throw new UsageError('keys list [-o table|json|yaml] | rotate');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      return reportApiError('keys', err, io);
    }
  });
}
