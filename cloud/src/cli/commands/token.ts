import { durationSeconds, outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

type Row = { id: string; name: string; scope: string; createdAt: string; expiresAt: string | null; lastUsedAt: string | null; revokedAt: string | null };

const SCOPES = ['viewer', 'operator', 'admin'];

/** A token's state in words, as of `now`. */
function stateOf(t: Row, now: number): string {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

/**
 * `lvsfleet token create NAME --scope S [--expires D]`, `token list`, `token revoke ID`
 * (`/v1/tokens`, admin token).
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('token', io, async () => {
    const { values, positionals } = parseFlags(argv, { scope: { type: 'string' }, expires: { type: 'string' }, output: { type: 'string', short: 'o' } }, true);
    const [verb, arg, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (verb !== 'create' && (values.scope !== undefined || values.expires !== undefined)) throw new UsageError('--scope and --expires are for token create');
    if (verb === 'create') {
      if (!arg) throw new UsageError('token create needs a NAME (what the token is for: ci, dashboard, …)');
      if (!values.scope || !SCOPES.includes(values.scope)) throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}`);
      if (values.output !== undefined && values.output !== 'json' && values.output !== 'text') throw new UsageError('-o must be text or json');
      const ttlSeconds = values.expires === undefined ? undefined : durationSeconds(values.expires, '--expires');
      try {
        const made = await apiClient(io).call<{ id: string; token: string; scope: string; expiresAt: string | null }>('POST', '/v1/tokens', {
          json: { name: arg, scope: values.scope, ...(ttlSeconds ? { ttlSeconds } : {}) },
        });
        if (values.output === 'json') io.stdout(JSON.stringify(made, null, 2) + '\n');
        else
          io.stdout(
            `token ${made.id} (${made.scope}${made.expiresAt ? `, expires ${made.expiresAt}` : ', no expiry'}); the secret is shown once:\n${made.token}\n`,
          );
        return 0;
      } catch (err) {
        return reportApiError('token', err, io);
      }
    }
    if (verb === 'list') {
      if (arg) throw new UsageError('token list takes no argument');
      const format = outputFormat(values.output);
      try {
        const { tokens } = await apiClient(io).call<{ tokens: Row[] }>('GET', '/v1/tokens');
        const now = Date.now();
        io.stdout(
          render(format, tokens, () =>
            table(
              ['ID', 'NAME', 'SCOPE', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED'],
              tokens.map((t) => [t.id, t.name, t.scope, stateOf(t, now), t.createdAt, t.expiresAt ?? 'never', t.lastUsedAt]),
            ),
          ),
        );
        return 0;
      } catch (err) {
        return reportApiError('token', err, io);
      }
    }
    if (verb === 'revoke') {
      if (!arg) throw new UsageError('token revoke needs the token ID (lvsfleet token list shows it)');
      if (values.output !== undefined) throw new UsageError('-o is for token list and token create');
      try {
        await apiClient(io).call('DELETE', `/v1/tokens/${encodeURIComponent(arg)}`);
        io.stdout(`token ${arg} revoked\n`);
        return 0;
      } catch (err) {
        return reportApiError('token', err, io);
      }
    }
    throw new UsageError(verb ? `unknown token command "${verb}" (create, list, revoke)` : 'token what? create, list or revoke');
  });
}
