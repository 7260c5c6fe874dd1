import { durationSeconds, outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

type Entry = { id: number; at: string; actor: string; action: string; target: string; site: string | null; detail: Record<string, unknown> };

/** What changed, in a few words, from an entry's detail. */
function summary(e: Entry): string {
  const d = e.detail;
  if (e.action === 'site.apply' || e.action === 'site.rollback')
    return `revision ${String(d.revision)}${d.message ? `: ${String(d.message)}` : ''}${d.rolledBackFrom ? ` (from ${String(d.rolledBackFrom)})` : ''}`;
  return Object.entries(d)
    .filter(([, v]) => v !== null && v !== '' && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

const PAGE = 500;

/** `lvsfleet audit [--site S] [--since 24h] [--action A] [--limit N] [-o …]` over `GET /v1/audit`, following its pages. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('audit', io, async () => {
    const { values, positionals } = parseFlags(
      argv,
      { site: { type: 'string' }, since: { type: 'string' }, action: { type: 'string' }, limit: { type: 'string' }, output: { type: 'string', short: 'o' } },
      true,
    );
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const format = outputFormat(values.output);
    const since = new Date(Date.now() - durationSeconds(values.since ?? '24h', '--since') * 1000);
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError(`--limit must be a whole number 1–10000, not "${values.limit}"`);
    const client = apiClient(io);
    const entries: Entry[] = [];
    try {
      let before: number | null | undefined;
      while (entries.length < limit && before !== null) {
        const q = new URLSearchParams({ since: since.toISOString(), limit: String(Math.min(PAGE, limit - entries.length)) });
        if (values.site) q.set('site', values.site);
        if (values.action) q.set('action', values.action);
        if (before) q.set('before', String(before));
        const page = await client.call<{ entries: Entry[]; next: number | null }>('GET', `/v1/audit?${q}`);
        entries.push(...page.entries);
        before = page.next;
      }
    } catch (err) {
      return reportApiError('audit', err, io);
    }
    io.stdout(
      render(format, entries, () =>
        entries.length
          ? table(
              ['TIME', 'ACTOR', 'ACTION', 'TARGET', 'DETAIL'],
              entries.map((e) => [e.at, e.actor, e.action, e.target, summary(e)]),
            )
          : `no audit entries since ${since.toISOString()}${values.site ? ` for site ${values.site}` : ''}\n`,
      ),
    );
    return 0;
  });
}
