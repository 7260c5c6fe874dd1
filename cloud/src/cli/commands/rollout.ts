import { formatDuration } from '#shared/util/duration.ts';
import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';
import type { RolloutView } from '../rollout-progress.ts';
import { nameList } from '#shared/util/name-list.ts';

interface Rollout extends RolloutView {
  author: string;
  stageStartedAt: string | null;
  createdAt: string;
  endedAt: string | null;
}

/** `GET /v1/sites/{site}/rollout`. */
interface RolloutStatus {
  site: string;
  current: Rollout | null;
  history: Rollout[];
}

/** What the history table shows of a rollout, from `GET /v1/sites/{site}/rollouts`. */
type RolloutLine = Pick<Rollout, 'revision' | 'state' | 'author' | 'createdAt' | 'endedAt' | 'reason'>;

/** Rollouts `rollout status` lists, the newest included. */
const HISTORY_LINES = 20;

const SUBCOMMANDS = ['status', 'pause', 'resume', 'abort'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** One rollout as lines for people: its state, then each stage and whether it went out. */
function describe(r: Rollout): string {
  const where = r.stages.length ? ` at stage ${Math.min(r.stage + 1, r.stages.length)}/${r.stages.length}` : '';
  const lines = [
    `revision ${r.revision} (from ${r.previousRevision}) by ${r.author}: ${r.state}${r.state === 'running' || r.state === 'paused' ? where : ''}, bake ${formatDuration(r.bakeMs)}`,
  ];
  const released = new Set(r.released);
  r.stages.forEach((s, i) => {
    const out = s.nodes.every((n) => released.has(n));
    const baking = i === r.stage && r.bakeStartedAt && (r.state === 'running' || r.state === 'paused') ? `, baking since ${r.bakeStartedAt}` : '';
    lines.push(`  stage ${i + 1} ${s.name}: ${nameList(s.nodes)} — ${out ? 'published' : 'held'}${baking}`);
  });
  if (r.reason) lines.push(`  reason: ${r.reason}`);
  if (r.rollbackRevision)
    lines.push(`  rollback: revision ${r.rollbackRevision} restores revision ${r.previousRevision} on ${nameList(r.released) || 'no node'}`);
  return lines.join('\n') + '\n';
}

/** `lvsfleet rollout status|pause|resume|abort SITE [-o table|json|yaml]`. */
export function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('rollout', io, async () => {
    const { values, positionals } = parseFlags(argv, { output: { type: 'string', short: 'o' } }, true);
    const [sub, site, ...extra] = positionals;
    if (!SUBCOMMANDS.includes(sub as Sub)) throw new UsageError(`expected one of ${SUBCOMMANDS.join(', ')}, then a site`);
    if (!site) throw new UsageError(`rollout ${sub} needs a site`);
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const format = outputFormat(values.output);
    const client = apiClient(io);
    const path = `/v1/sites/${encodeURIComponent(site)}/rollout`;
    try {
      if (sub === 'status') {
        if (format !== 'table') {
          io.stdout(render(format, await client.call<RolloutStatus>('GET', path), () => ''));
          return 0;
        }
        // For people: the newest rollout with its stages' nodes, the others as lines from their summaries
        // (a 10,000-node site's twenty rollouts with their node lists are about 10 MB).
        const [s, list] = await Promise.all([
          client.call<RolloutStatus>('GET', `${path}?history=1`),
          client.call<{ rollouts: RolloutLine[] }>('GET', `/v1/sites/${encodeURIComponent(site)}/rollouts?limit=${HISTORY_LINES}`),
        ]);
        const last = s.current ?? s.history[0];
        const head = s.current ? describe(s.current) : `${s.site}: no rollout in progress${last ? `; the last one:\n${describe(last)}` : '\n'}`;
        const past = list.rollouts.filter((r) => r.revision !== last?.revision);
        io.stdout(
          past.length
            ? `${head}\nhistory:\n${table(
                ['REVISION', 'STATE', 'AUTHOR', 'STARTED', 'ENDED', 'REASON'],
                past.map((r) => [r.revision, r.state, r.author, r.createdAt, r.endedAt, r.reason]),
              )}`
            : head,
        );
        return 0;
      }
      const r = await client.call<Rollout>('POST', `${path}/${sub}`);
      io.stdout(render(format, r, () => describe(r)));
      return 0;
    } catch (err) {
      return reportApiError('rollout', err, io);
    }
  });
}
