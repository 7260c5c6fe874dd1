import type { ApplyResult } from '../../sites/apply.ts';
import { formatDiff, type DiffPaint } from '../../sites/diff.ts';
import { parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { forTerminalDeep } from '../terminal.ts';
import { checkSpec, readSpecFile } from '../spec-file.ts';
import { parseDuration } from '#shared/util/duration.ts';
import { waitForRevision } from '../apply-wait.ts';
import { nameList } from '#shared/util/name-list.ts';

/** `apply --wait` without `--timeout`: two default bakes and their stages, with room to spare. */
const DEFAULT_WAIT_MS = 300_000;

const SGR = { added: '32', removed: '31', changed: '33', field: '2' } as const;

/** Colour on a terminal, unless NO_COLOR is set (no-color.org); plain text elsewhere. */
const wantsColour = (io: CliIO) => io.isTTY === true && !io.env.NO_COLOR && io.stdoutStyled !== undefined;

const paintAnsi: DiffPaint = (kind, t) => `\x1b[${SGR[kind]}m${t}\x1b[0m`;

/** What `apply` and `diff` print for an ApplyResult. */
export function describeResult(r: ApplyResult, paint: DiffPaint = (_, t) => t): string {
  const lines: string[] = [];
  if (r.unchanged) lines.push(`${r.site}: unchanged at revision ${r.revision}`);
  else if (r.dryRun)
    lines.push(
      `${r.site}: would store revision ${r.previousRevision + 1} (current ${r.previousRevision}); would publish to ${nameList(r.publishedNodes) || 'no nodes'}`,
    );
  else lines.push(`${r.site}: revision ${r.revision} stored (was ${r.previousRevision}); publishing to ${nameList(r.publishedNodes) || 'no nodes'}`);
  if (!r.unchanged) lines.push(formatDiff(r.diff, paint));
  if (r.dryRun && r.diff.massDelete.exceeded)
    lines.push('note: this removes more than half of the services or real servers; apply needs --force or spec.allowMassDelete: true');
  return lines.join('\n') + '\n';
}

/**
 * Sends a spec file to `PUT /v1/sites/{name}/spec`; validates offline first so errors carry FILE:LINE.
 * The body is the file's value as JSON, whatever the file's format: the server's issues name paths,
 * which are the file's lines here.
 */
export async function putSpec(name: string, argv: string[], io: CliIO, dryRunOnly: boolean): Promise<number> {
  return withUsage(name, io, async () => {
    const { values } = parseFlags(argv, {
      file: { type: 'string', short: 'f' },
      ...(dryRunOnly
        ? { 'exit-code': { type: 'boolean' } }
        : {
            'dry-run': { type: 'boolean' },
            message: { type: 'string', short: 'm' },
            force: { type: 'boolean' },
            wait: { type: 'boolean' },
            timeout: { type: 'string' },
          }),
      'if-match': { type: 'string' },
      output: { type: 'string', short: 'o' },
    });
    const v = values as {
      file?: string;
      'dry-run'?: boolean;
      message?: string;
      force?: boolean;
      wait?: boolean;
      timeout?: string;
      'if-match'?: string;
      output?: string;
      'exit-code'?: boolean;
    };
    if (v.output !== undefined && v.output !== 'json' && v.output !== 'text') throw new UsageError('-o must be text or json');
    if (v.wait && v['dry-run']) throw new UsageError('--wait follows a stored revision: not with --dry-run');
    if (v.timeout !== undefined && !v.wait) throw new UsageError('--timeout goes with --wait');
    const timeoutMs = v.timeout === undefined ? DEFAULT_WAIT_MS : parseDuration(v.timeout);
    if (timeoutMs === null || timeoutMs <= 0) throw new UsageError(`--timeout ${v.timeout}: expected a duration like 90s or 2m`);
    const file = await readSpecFile(v.file, io);
    const checked = checkSpec(file, io);
    // diff --exit-code keeps 2 off the table: 0 no changes, 1 error, 3 changes.
    if (!checked) return v['exit-code'] ? 1 : 2;
    const { site } = checked;
    const q = new URLSearchParams();
    if (dryRunOnly || v['dry-run']) q.set('dryRun', '1');
    if (v.force) q.set('force', '1');
    if (v.message) q.set('message', v.message);
    const qs = q.toString();
    try {
      const client = apiClient(io);
      const result = await client.call<ApplyResult>('PUT', `/v1/sites/${encodeURIComponent(site.metadata.name)}/spec${qs ? `?${qs}` : ''}`, {
        body: checked.json(),
        contentType: 'application/json',
        headers: v['if-match'] ? { 'if-match': v['if-match'] } : {},
      });
      // The terminal filter (output.ts) strips escape sequences from what the server sent; the colours are added after it.
      if (v.output === 'json') io.stdout(JSON.stringify(result, null, 2) + '\n');
      else if (wantsColour(io)) io.stdoutStyled!(describeResult(forTerminalDeep(result), paintAnsi));
      else io.stdout(describeResult(result));
      if (v['exit-code']) return result.unchanged ? 0 : 3;
      if (!v.wait || result.unchanged || !result.publishedNodes.length) return 0;
      return await waitForRevision(client, io, result, { timeoutMs });
    } catch (err) {
      const code = reportApiError(name, err, io, file.name, checked.lineOf);
      return v['exit-code'] ? 1 : code;
    }
  });
}

/** `lvsfleet apply -f FILE [--dry-run] [--message M] [--force] [--if-match REV] [--wait [--timeout 2m]]`. */
export function run(argv: string[], io: CliIO): Promise<number> {
  return putSpec('apply', argv, io, false);
}
